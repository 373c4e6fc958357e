"""IRS (Suter et al. 2019) as disentanglement_lib: literal-twin agreement, closed forms, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from vaecore.metrics import irs
from vaecore.reference.dlib_irs import compute_irs, scalable_disentanglement_score


def _data(n: int, seed: int, n_values: int = 6):
    rng = np.random.default_rng(seed)
    w = rng.integers(0, n_values, size=(n, 3))
    mix = np.eye(3) + 0.3 * rng.normal(size=(3, 3))
    z = np.c_[w @ mix + 0.5 * rng.normal(size=(n, 3)), rng.normal(size=(n, 1))]
    return z, w


@pytest.mark.parametrize("n_values", [6, 45])  # 45 values: the 20-bin discretiser merges them
@pytest.mark.parametrize("quantile", [0.99, 1.0, 0.5])
def test_equals_disentanglement_lib_on_random_inputs(n_values, quantile):
    z, w = _data(2000, n_values, n_values)
    res = irs(z, w, diff_quantile=quantile)
    ref = compute_irs(z.T, w.T, diff_quantile=quantile, num_bins=20)
    assert res.value == pytest.approx(ref["IRS"], abs=1e-12)
    full = scalable_disentanglement_score(
        np.stack([np.digitize(c, np.histogram(c, 20)[1][:-1]) for c in w.T], 1), z, quantile
    )
    np.testing.assert_allclose(res.matrix.T, full["IRS_matrix"], atol=1e-12)
    np.testing.assert_array_equal(res.parents, full["parents"])
    np.testing.assert_allclose(res.max_deviations, full["max_deviations"], atol=1e-15)


def test_raw_factors_follow_scalable_score():
    z, w = _data(1000, 1, 30)
    res = irs(z, w, n_bins=None)
    ref = scalable_disentanglement_score(w.astype(float), z, 0.99)
    assert res.value == pytest.approx(ref["avg_score"], abs=1e-12)


def test_constant_latents_are_dropped():
    z, w = _data(800, 2)
    base = irs(z, w)
    res = irs(np.c_[z, np.full(800, 4.0)], w)
    assert res.value == pytest.approx(base.value, abs=1e-15)
    assert res.n_active == 4 and not res.active[-1] and res.parents[-1] == -1
    ref = compute_irs(np.c_[z, np.full(800, 4.0)].T, w.T)
    assert res.value == pytest.approx(ref["IRS"], abs=1e-12)
    assert irs(np.ones((50, 3)), w[:50]).value == 0.0 == compute_irs(np.ones((3, 50)), w[:50].T)["IRS"]


def test_codes_that_are_the_factors_score_one():
    rng = np.random.default_rng(0)
    w = rng.integers(0, 5, size=(500, 2))
    res = irs(2.0 * w - 1.0, w, diff_quantile=1.0)
    assert res.value == pytest.approx(1.0)
    np.testing.assert_array_equal(res.parents, [0, 1])


def test_bad_arguments_raise():
    z, w = _data(100, 0)
    with pytest.raises(ValueError, match="diff_quantile must be > 0"):
        irs(z, w, diff_quantile=0.0)
    with pytest.raises(ValueError, match="diff_quantile must be <= 1"):
        irs(z, w, diff_quantile=1.5)
    with pytest.raises(TypeError, match="n_bins must be an int"):
        irs(z, w, n_bins=2.5)
