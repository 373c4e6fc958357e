"""The perturbed dataset ``load("perturbed", base=..., manipulator=DIR)`` (SPEC-ch4 §6.5, §10 checks
1 and 6)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from vaecore import datasets
from vaecore.datasets import DSprites, Shapes3D
from vaecore.perturb import BaseRecord, FactorEncoding, Manipulator, ManipulatorSpec, save_manipulator


def zero_manipulator(folder, ds, name, eps):
    enc = FactorEncoding.of(ds)
    m = Manipulator(ManipulatorSpec.default(enc.dim, ds.observation_shape), seed=0)
    save_manipulator(folder, m, eps=eps, base=BaseRecord.of(ds, name, {}), encoding=enc)
    return folder


@pytest.mark.parametrize("cls, name, eps", [(DSprites, "dsprites", 0.1), (Shapes3D, "shapes3d", 0.175)])
def test_zero_manipulator_gives_the_base_bit_for_bit(tmp_path, cls, name, eps):
    folder = zero_manipulator(tmp_path / name, cls(), name, eps)
    mod = datasets.load("perturbed", base=name, manipulator=folder)
    idx = np.array([0, 17, 4242, 99_999])
    assert mod.observations_at(idx).tobytes() == cls().observations_at(idx).tobytes()
    assert mod.factor_names == cls.factor_names and len(mod) == len(cls())
    np.testing.assert_array_equal(mod.factors_at(idx), cls().factors_at(idx))
    assert mod.split(seed=0)[2][:5].tolist() == cls().split(seed=0)[2][:5].tolist()


def test_trained_images_bounds_determinism_and_variance(tiny_manipulator):
    import perturb_tiny

    folder, _ = tiny_manipulator
    base = perturb_tiny.TinyBars()
    mod = datasets.load("perturbed", base=base, manipulator=folder)
    idx = np.arange(len(base))
    x, xpp = base.observations_at(idx), mod.observations_at(idx)
    assert np.abs(mod.manipulation(idx)).max() > 0.05  # training moved m away from 0
    assert xpp.min() >= 0 and xpp.max() <= 1
    assert np.abs(xpp.astype(np.float64) - x).max() <= 0.1
    # the same factors give the same image, whatever the batch or the route
    perm = np.random.default_rng(0).permutation(idx)
    assert mod.observations_at(perm).tobytes() == xpp[perm].tobytes()
    assert mod.observations(base.factors_at(perm[:5])).tobytes() == xpp[perm[:5]].tobytes()
    assert np.concatenate([mod.observations_at([i]) for i in idx]).tobytes() == xpp.tobytes()
    again = datasets.load("perturbed", base="tiny-bars", manipulator=folder)
    assert again.observations_at(idx).tobytes() == xpp.tobytes()


def test_logged_variance_ratio_is_the_datasets(tiny_manipulator):
    """The training log's variance ratio (probe = the whole tiny grid) is the altered dataset's."""
    import perturb_tiny

    folder, res = tiny_manipulator
    base = perturb_tiny.TinyBars()
    idx = np.arange(len(base))
    x = base.observations_at(idx).astype(np.float64)
    xpp = datasets.load("perturbed", base=base, manipulator=folder).observations_at(idx).astype(np.float64)
    assert res.history[0]["variance_ratio"] == 1.0
    assert res.history[-1]["variance_ratio"] == pytest.approx(xpp.var(0).sum() / x.var(0).sum(), rel=1e-5)


@pytest.mark.xfail(strict=True, reason="toy scale: on 10 × 10 binary images the trained m is positive almost "
                   "everywhere, so reflection dims the sprite and lifts the background: variance −12 % "
                   "(measured 0.878); see docs/notes/perturb.md for the quick-scale dSprites number")
def test_variance_within_ten_percent_on_the_toy(tiny_manipulator):
    """The thesis's "mild" claim: total pixel variance of the altered dataset within 10 %."""
    _, res = tiny_manipulator
    assert abs(res.history[-1]["variance_ratio"] - 1) < 0.10


def test_refuses_other_base_size_eps_or_options(tiny_manipulator):
    import perturb_tiny

    folder, _ = tiny_manipulator
    with pytest.raises(ValueError, match="base dataset 'tiny-bars'; got 'dsprites'"):
        datasets.load("perturbed", base="dsprites", manipulator=folder)
    with pytest.raises(ValueError, match="base dataset"):
        datasets.load("perturbed", base=DSprites(), manipulator=folder)

    class Bigger(perturb_tiny.TinyBars):
        observation_shape = (1, 12, 12)

    with pytest.raises(ValueError, match=r"images of shape \[1, 10, 10\]; got \[1, 12, 12\]"):
        datasets.load("perturbed", base=Bigger(), manipulator=folder)
    with pytest.raises(ValueError, match="eps 0.1; got 0.175"):
        datasets.load("perturbed", base="tiny-bars", manipulator=folder, eps=0.175)
    with pytest.raises(ValueError, match=r"base options \(seed\)"):
        datasets.load("perturbed", base="tiny-bars", manipulator=folder, base_options={"seed": 1})
    assert datasets.load("perturbed", base="tiny-bars", manipulator=folder, eps=0.1).eps == 0.1


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_refuses_damaged_weights(tiny_manipulator, tmp_path, damage):
    import perturb_tiny

    folder = tmp_path / "m"
    shutil.copytree(tiny_manipulator[0], folder)
    data = bytearray((folder / "manipulator.pt").read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0x01
    (folder / "manipulator.pt").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="manipulator.pt' is truncated or was modified"):
        datasets.load("perturbed", base=perturb_tiny.TinyBars(), manipulator=folder)
    (folder / "perturbation.json").unlink()
    with pytest.raises(FileNotFoundError, match="perturbation.json"):
        datasets.load("perturbed", base=perturb_tiny.TinyBars(), manipulator=folder)


def test_cache_float32_exact_uint8_close_and_stale_refused(tiny_manipulator, tmp_path):
    import perturb_tiny

    folder, _ = tiny_manipulator
    base = perturb_tiny.TinyBars()
    idx = np.arange(len(base))[::-1].copy()
    plain = datasets.load("perturbed", base=base, manipulator=folder).observations_at(idx)
    exact = datasets.load("perturbed", base=base, manipulator=folder, cache=tmp_path / "c32",
                          cache_dtype="float32", cache_indices=np.arange(0, 32, 2))
    assert exact.observations_at(idx).tobytes() == plain.tobytes()  # half hits, half misses
    again = datasets.load("perturbed", base=base, manipulator=folder, cache=tmp_path / "c32",
                          cache_dtype="float32", cache_indices=np.arange(0, 32, 2))
    assert again.observations_at(idx).tobytes() == plain.tobytes()
    q = datasets.load("perturbed", base=base, manipulator=folder, cache=tmp_path / "c8")
    assert np.abs(q.observations_at(idx) - plain).max() <= 1 / 510 + 1e-7
    other = zero_manipulator(tmp_path / "zero", base, "tiny-bars", 0.1)
    with pytest.raises(ValueError, match=r"cache .* other \['sha256'\]"):
        datasets.load("perturbed", base=base, manipulator=other, cache=tmp_path / "c8")
    cached = json.loads((tmp_path / "c8" / "cache.json").read_text())
    assert cached["n"] == 32 and cached["dtype"] == "uint8"
