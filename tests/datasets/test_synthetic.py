"""Synth. Lin. / Synth. Non-Lin. (thesis §3.3.1)."""

from __future__ import annotations

import numpy as np
import pytest

from vaecore import datasets


@pytest.mark.parametrize("ratio", [1.0, 1.2, 1.5, 2.0])
def test_synth_lin_planar_with_principal_axis_ratio(ratio):
    ds = datasets.load("synth-lin", n_samples=20_000, ratio=ratio, seed=1)
    x = ds.data.astype(np.float64)
    assert x.shape == (20_000, 3) and ds.data.dtype == np.float32
    s = np.linalg.svd(x - x.mean(0), compute_uv=False)
    assert s[2] < 1e-5 * s[0]  # planar
    # exact relation to the factors: x = M v, M = R diag-stretch
    v = ds.factors
    np.testing.assert_allclose(x, v @ ds.matrix.T, atol=1e-6)
    # principal axis ratio of the embedded square = ratio (uniform factors, equal variance)
    cov = np.cov(v.T)
    expect = np.linalg.svd(ds.matrix @ np.linalg.cholesky(cov), compute_uv=False)
    np.testing.assert_allclose(s[:2] / np.sqrt(len(x) - 1), expect[:2], rtol=1e-6)
    if ratio != 1.0:
        assert abs(s[0] / s[1] - ratio) < 0.03 * ratio


def test_synth_lin_rotation_is_45_degrees_about_1_m1_1():
    ds = datasets.load("synth-lin", n_samples=10, ratio=1.0)
    r = ds.matrix
    axis = np.array([1.0, -1.0, 1.0]) / np.sqrt(3)
    full = datasets.synthetic.rotation_matrix(axis, np.pi / 4)
    np.testing.assert_allclose(full @ full.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(full @ axis, axis, atol=1e-12)
    np.testing.assert_allclose(np.trace(full), 1 + 2 * np.cos(np.pi / 4))
    np.testing.assert_allclose(r, full[:, :2])
    np.testing.assert_allclose(np.linalg.norm(r, axis=0), [1.0, 1.0])


def test_synth_lin_factors_and_determinism():
    a = datasets.load("synth-lin", n_samples=500, seed=3)
    b = datasets.load("synth-lin", n_samples=500, seed=3)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.factors, np.random.default_rng(3).uniform(size=(500, 2)))
    assert a.factor_kinds == ("continuous", "continuous") and a.factor_sizes == (None, None)
    assert len(a) == 500 and a.observation_shape == (3,) and not a.is_image
    np.testing.assert_array_equal(a.observations(a.factors_at([4, 9])), a.observations_at([4, 9]))
    assert a.sample_factors(7, 1).shape == (7, 2)
    assert len(datasets.load("synth-lin")) == 50_000


def test_synth_nonlin_mlp_is_numpy_and_documented():
    ds = datasets.load("synth-nonlin", n_samples=300, seed=2, mlp_seed=4)
    rng = np.random.default_rng(4)
    w1 = rng.uniform(-1 / np.sqrt(2), 1 / np.sqrt(2), (10, 2))
    b1 = rng.uniform(-1 / np.sqrt(2), 1 / np.sqrt(2), 10)
    w2 = rng.uniform(-1 / np.sqrt(10), 1 / np.sqrt(10), (6, 10))
    b2 = rng.uniform(-1 / np.sqrt(10), 1 / np.sqrt(10), 6)
    v = ds.factors
    expect = np.tanh(v @ w1.T + b1) @ w2.T + b2
    np.testing.assert_allclose(ds.data, expect, rtol=1e-6, atol=1e-6)
    assert ds.observation_shape == (6,) and ds.data.shape == (300, 6)
    other = datasets.load("synth-nonlin", n_samples=300, seed=2, mlp_seed=5)
    np.testing.assert_array_equal(other.factors, v)
    assert not np.allclose(other.data, ds.data)
    # a fingerprint of the default dataset: identical on every machine (PCG64)
    d = datasets.load("synth-nonlin", n_samples=5)
    np.testing.assert_allclose(d.data[0], [0.4906417, 0.10713279, -0.25318545, 0.23340689,
                                           0.53503174, 0.38483703], rtol=1e-6)


def test_synthetic_bad_options():
    with pytest.raises(ValueError, match="ratio must be > 0"):
        datasets.load("synth-lin", ratio=0.0)
    with pytest.raises(ValueError, match="n_samples must be >= 1"):
        datasets.load("synth-lin", n_samples=0)
    with pytest.raises(TypeError, match="seed must be an int"):
        datasets.load("synth-nonlin", seed=1.5)
    ds = datasets.load("synth-lin", n_samples=10)
    with pytest.raises(ValueError, match="must have 2 columns"):
        ds.observations(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="must be finite"):
        ds.observations([[np.nan, 0.0]])
