"""Modularity and Explicitness (Ridgeway & Mozer 2018) as disentanglement_lib: literal-twin
agreement on random inputs, closed forms, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from vaecore.metrics import modularity_explicitness
from vaecore.metrics.modularity_explicitness import modularity_scores
from vaecore.reference.dlib_modularity import compute_modularity_explicitness, modularity

BACKENDS = ["native", "reference"]


def _data(n: int, seed: int, n_factors: int = 3, n_values: int = 4):
    rng = np.random.default_rng(seed)
    w = rng.integers(0, n_values, size=(n, n_factors))
    mix = np.eye(n_factors) + 0.4 * rng.normal(size=(n_factors, n_factors))
    z = np.c_[w @ mix + 0.7 * rng.normal(size=(n, n_factors)), rng.normal(size=(n, 2))]
    return z, w


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_disentanglement_lib_on_random_inputs(backend, seed):
    z, w = _data(1500, seed)
    zt, wt = _data(700, seed + 10)
    res = modularity_explicitness(z, w, zt, wt, backend=backend)
    ref = compute_modularity_explicitness(z.T, w.T, zt.T, wt.T, num_bins=20)
    assert res.value == pytest.approx(ref["modularity_score"], abs=1e-12)
    assert res.explicitness_train == pytest.approx(ref["explicitness_score_train"], abs=1e-12)
    assert res.explicitness_test == pytest.approx(ref["explicitness_score_test"], abs=1e-12)


def test_binary_factor_and_other_bin_count_match_twin():
    z, w = _data(800, 3, n_factors=2, n_values=2)
    zt, wt = _data(400, 4, n_factors=2, n_values=2)
    res = modularity_explicitness(z, w, zt, wt, n_bins=7)
    ref = compute_modularity_explicitness(z.T, w.T, zt.T, wt.T, num_bins=7)
    assert res.value == pytest.approx(ref["modularity_score"], abs=1e-12)
    assert res.explicitness_test == pytest.approx(ref["explicitness_score_test"], abs=1e-12)


def test_modularity_closed_forms():
    # latent 0 knows only factor 0, latent 1 both equally, latent 2 nothing
    mi = np.array([[0.7, 0.5, 0.0], [0.0, 0.5, 0.0]])
    np.testing.assert_allclose(modularity_scores(mi), [1.0, 0.0, 0.0])
    # 3 factors: theta = 1, sum of the others' squares 0.25 -> delta = 0.25 / 2
    mi3 = np.array([[1.0], [0.5], [0.0]])
    assert modularity_scores(mi3)[0] == pytest.approx(1 - 0.125)
    rng = np.random.default_rng(0)
    m = rng.uniform(size=(4, 6))
    assert modularity_scores(m).mean() == pytest.approx(modularity(m.T), abs=1e-15)


def test_axis_aligned_codes_are_modular_and_explicit():
    rng = np.random.default_rng(0)
    w = rng.integers(0, 5, size=(1000, 2))
    z = w + 0.01 * rng.normal(size=w.shape)
    res = modularity_explicitness(z, w, z, w)
    assert res.value == pytest.approx(1.0, abs=0.02)
    assert res.explicitness_test > 0.99
    noise = rng.normal(size=(1000, 2))
    assert modularity_explicitness(noise, w, noise, w).explicitness_test < 0.6


def test_constant_latent_is_defined():
    z, w = _data(600, 0)
    z[:, 4] = 3.0
    res = modularity_explicitness(z, w, z, w)
    assert res.per_code[4] == 0.0
    assert np.isfinite(res.explicitness_train)


def test_as_dict_and_float():
    z, w = _data(400, 0)
    res = modularity_explicitness(z, w, z, w)
    d = res.as_dict()
    assert d["value"] == float(res) == d["modularity"]
    assert len(d["per_code"]) == 5 and len(d["mutual_info"]) == 3


def test_bad_factors_raise():
    z, w = _data(400, 0)
    with pytest.raises(ValueError, match="at least 2 factors"):
        modularity_explicitness(z, w[:, 0], z, w[:, 0])
    wt = w.copy()
    wt[wt[:, 1] == 3, 1] = 2
    with pytest.raises(ValueError, match="factors_test must take the same values as factors_train"):
        modularity_explicitness(z, w, z, wt)
    wc = w.copy()
    wc[:, 2] = 1
    with pytest.raises(ValueError, match="constant factor 2"):
        modularity_explicitness(z, wc, z, wc)
    with pytest.raises(ValueError, match="n_bins must be >= 2"):
        modularity_explicitness(z, w, z, w, n_bins=1)
