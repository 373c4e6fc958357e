"""Polar-vs-cartesian detector (SPEC-ch4 §7): check 7 of §10 on synthetic codes, invariances,
bad input."""

from __future__ import annotations

import numpy as np
import pytest

from vaecore.metrics import embedding_geometry

# 150 points as a §7 sub-grid: a cyclic factor with 15 values (the role of wall hue in
# §4.3.6) x a linear one with 10 values (orientation)
CYC, LIN = (a.ravel().astype(float) for a in np.meshgrid(np.arange(15), np.arange(10), indexing="ij"))


def _jitter(z: np.ndarray, seed: int = 0) -> np.ndarray:
    return z + 0.01 * np.random.default_rng(seed).normal(size=z.shape)


def ring_codes(seed: int = 0) -> np.ndarray:
    theta, r = 2 * np.pi * CYC / 15, 1.0 + LIN / 9
    return _jitter(np.c_[r * np.cos(theta), r * np.sin(theta)], seed)


def grid_codes(seed: int = 0) -> np.ndarray:
    return _jitter(np.c_[(CYC - 7) / 7, (LIN - 4.5) / 4.5], seed)


def rotated_grid_codes(seed: int = 0) -> np.ndarray:
    g = np.c_[(CYC - 7) / 7, (LIN - 4.5) / 4.5]
    return _jitter(np.sqrt(0.5) * np.c_[g[:, 0] - g[:, 1], g[:, 0] + g[:, 1]], seed)


def _layout(n_cyc: int, n_lin: int):
    cyc, lin = np.meshgrid(np.arange(n_cyc), np.arange(n_lin), indexing="ij")
    cyc, lin = cyc.ravel().astype(float), lin.ravel().astype(float)
    theta, r = 2 * np.pi * cyc / n_cyc, 1.0 + lin / (n_lin - 1)
    grid = np.c_[2 * cyc / (n_cyc - 1) - 1, 2 * lin / (n_lin - 1) - 1]
    codes = {
        "ring": np.c_[r * np.cos(theta), r * np.sin(theta)],
        "grid": grid,
        "rotated": np.sqrt(0.5) * np.c_[grid[:, 0] - grid[:, 1], grid[:, 0] + grid[:, 1]],
    }
    return cyc, lin, {k: _jitter(v, 1) for k, v in codes.items()}


@pytest.mark.parametrize("shape", [(10, 15), (15, 10), (8, 8)], ids=str)
def test_check7_on_other_grid_shapes(shape):
    cyc, lin, codes = _layout(*shape)
    ring = embedding_geometry(codes["ring"], cyc, lin)
    assert ring.value >= 0.3 and ring.label == "polar" and ring.angular_factor == "cyclic"
    grid = embedding_geometry(codes["grid"], cyc, lin)
    assert grid.value <= -0.3 and grid.label == "cartesian"
    assert embedding_geometry(codes["rotated"], cyc, lin).label == "mixed"


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_check7_ring_is_polar_with_the_cyclic_factor_as_angle(backend):
    res = embedding_geometry(ring_codes(), CYC, LIN, backend=backend)
    assert res.value >= 0.3 and res.label == "polar"
    assert res.angular_factor == "cyclic"
    # r carries the linear factor, θ the cyclic one
    assert res.m_polar[0, 1] > 0.9 and res.m_polar[1, 0] > 0.7
    assert res.m_polar[0, 0] < 0.1 and res.m_polar[1, 1] < 0.1


def test_check7_axis_aligned_grid_is_cartesian():
    res = embedding_geometry(grid_codes(), CYC, LIN)
    assert res.value <= -0.3 and res.label == "cartesian"
    assert res.cyclic_latent == 0
    assert embedding_geometry(grid_codes()[:, ::-1], CYC, LIN).cyclic_latent == 1


def test_check7_rotated_grid_is_mixed():
    res = embedding_geometry(rotated_grid_codes(), CYC, LIN)
    assert res.label == "mixed"
    assert max(res.score_polar, res.score_cartesian) < 0.3


@pytest.mark.parametrize("make", [ring_codes, grid_codes, rotated_grid_codes])
def test_invariant_to_scale_and_translation(make):
    z = make()
    base = embedding_geometry(z, CYC, LIN)
    moved = embedding_geometry(z * np.array([4.0, 0.25]) + np.array([7.0, -3.0]), CYC, LIN)
    assert moved.label == base.label
    assert moved.value == pytest.approx(base.value, abs=1e-9)
    np.testing.assert_allclose(moved.m_polar, base.m_polar, atol=1e-9)
    np.testing.assert_allclose(moved.m_cartesian, base.m_cartesian, atol=1e-9)


@pytest.mark.parametrize("make", [ring_codes, grid_codes, rotated_grid_codes])
def test_swapping_latents_keeps_the_verdict(make):
    z = make(seed=3)
    base, swapped = embedding_geometry(z, CYC, LIN), embedding_geometry(z[:, ::-1], CYC, LIN)
    assert swapped.label == base.label
    assert swapped.score_cartesian == pytest.approx(base.score_cartesian, abs=1e-12)
    np.testing.assert_allclose(swapped.m_cartesian, base.m_cartesian[::-1], atol=1e-12)
    if base.label == "polar":
        assert swapped.angular_factor == base.angular_factor
    # θ's bins start elsewhere after the reflection: the polar score moves only a little
    assert swapped.score_polar == pytest.approx(base.score_polar, abs=0.05)


def test_groups_average_m_over_subgrids():
    ring, grid = ring_codes(1), grid_codes(2)
    groups = np.r_[np.zeros(150), np.ones(150)]
    res = embedding_geometry(np.r_[ring, grid + 5.0], np.r_[CYC, CYC], np.r_[LIN, LIN], groups=groups)
    a, b = embedding_geometry(ring, CYC, LIN), embedding_geometry(grid, CYC, LIN)
    assert res.n_groups == 2
    np.testing.assert_allclose(res.m_polar, (a.m_polar + b.m_polar) / 2, atol=1e-12)
    np.testing.assert_allclose(res.m_cartesian, (a.m_cartesian + b.m_cartesian) / 2, atol=1e-12)
    d = res.as_dict()
    assert d["value"] == float(res) and d["label"] == res.label and len(d["m_polar"]) == 2


def test_bad_input_raises():
    z = ring_codes()
    with pytest.raises(ValueError, match="exactly 2 latents"):
        embedding_geometry(np.c_[z, z[:, 0]], CYC, LIN)
    with pytest.raises(ValueError, match="factor_linear must have one entry per row of codes"):
        embedding_geometry(z, CYC, LIN[:-1])
    with pytest.raises(ValueError, match="factor_cyclic must take at least 2 values in every group"):
        embedding_geometry(z, np.zeros(150), LIN)
    with pytest.raises(ValueError, match="factor_linear must take at least 2 values in every group"):
        embedding_geometry(z, CYC, LIN, groups=LIN)
    with pytest.raises(ValueError, match="codes must be finite"):
        embedding_geometry(np.where(np.arange(150)[:, None] == 3, np.nan, z), CYC, LIN)
