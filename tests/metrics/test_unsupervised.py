"""disentanglement_lib's unsupervised scores: literal-twin agreement, closed forms, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from vaecore.metrics import (
    gaussian_total_correlation,
    gaussian_wasserstein_correlation,
    latent_mutual_info,
    unsupervised_scores,
)
from vaecore.reference.dlib_unsupervised import unsupervised_metrics

BACKENDS = ["native", "reference"]


def _codes(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(3000, 6), (500, 2), (2000, 10)])
def test_equals_disentanglement_lib_on_random_inputs(backend, shape):
    z = _codes(*shape, seed=shape[1])
    res = unsupervised_scores(z, backend=backend)
    ref = unsupervised_metrics(z.T, num_bins=20)
    for key in ("gaussian_total_correlation", "mutual_info_score"):
        assert getattr(res, key) == pytest.approx(ref[key], abs=1e-12, rel=1e-12)
    for key in ("gaussian_wasserstein_correlation", "gaussian_wasserstein_correlation_norm"):
        assert getattr(res, key) == pytest.approx(np.real(ref[key]), abs=1e-9, rel=1e-9)
    assert res.value == res.gaussian_total_correlation


def test_other_bin_count_matches_twin():
    z = _codes(800, 4, 1)
    assert latent_mutual_info(z, n_bins=5).value == pytest.approx(
        unsupervised_metrics(z.T, num_bins=5)["mutual_info_score"], abs=1e-12
    )


def test_closed_forms_two_latents():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5000, 2))
    x[:, 1] = 0.6 * x[:, 0] + 0.8 * x[:, 1]
    rho = np.corrcoef(x.T)[0, 1]
    assert gaussian_total_correlation(x).value == pytest.approx(-0.5 * np.log(1 - rho**2), rel=1e-12)
    # whitened codes, columns rescaled: diagonal sample covariance, no correlation of either kind
    x = rng.normal(size=(300, 4))
    x -= x.mean(axis=0)
    white = x @ np.linalg.cholesky(np.linalg.inv(np.cov(x.T))) @ np.diag([1.0, 2.0, 3.0, 4.0])
    assert gaussian_total_correlation(white).value == pytest.approx(0.0, abs=1e-12)
    assert gaussian_wasserstein_correlation(white).value == pytest.approx(0.0, abs=1e-9)


def test_wasserstein_is_scale_dependent_and_its_norm_is_not():
    z = _codes(1000, 3, 2)
    a, b = gaussian_wasserstein_correlation(z), gaussian_wasserstein_correlation(3.0 * z)
    assert b.value == pytest.approx(9.0 * a.value, rel=1e-10)
    assert b.normalized == pytest.approx(a.normalized, rel=1e-10)
    assert a.value > 0.0


def test_mutual_info_closed_forms():
    rng = np.random.default_rng(0)
    u = rng.uniform(size=4000)
    res = latent_mutual_info(np.c_[u, u, 5.0 * np.ones(4000)])
    counts = np.bincount(np.digitize(u, np.histogram(u, 20)[1][:-1]))[1:]
    h = -np.sum(counts / 4000 * np.log(counts / 4000))
    assert res.matrix[0, 1] == pytest.approx(h, rel=1e-12)
    assert res.value == pytest.approx(2 * h / 6, rel=1e-12)
    np.testing.assert_array_equal(res.matrix, res.matrix.T)


def test_bad_input_raises():
    z = _codes(200, 3, 0)
    z[:, 1] = 2.0
    with pytest.raises(ValueError, match=r"constant latent\(s\) \[1\]"):
        gaussian_total_correlation(z)
    with pytest.raises(ValueError, match="nonsingular covariance"):
        gaussian_total_correlation(np.c_[z[:, 0], 2 * z[:, 0] + 1, z[:, 2]])
    with pytest.raises(ValueError, match="nonsingular covariance"):
        gaussian_total_correlation(_codes(4, 6, 0))
    with pytest.raises(ValueError, match="at least one latent"):
        gaussian_wasserstein_correlation(np.ones((10, 3)))
    with pytest.raises(ValueError, match="at least 2 latents"):
        latent_mutual_info(z[:, :1])
    for fn in (gaussian_total_correlation, gaussian_wasserstein_correlation, latent_mutual_info):
        bad = _codes(20, 3, 0)
        bad[4, 2] = np.nan
        with pytest.raises(ValueError, match="codes must be finite; got NaN or inf at row 4"):
            fn(bad)
        with pytest.raises(ValueError, match="must have at least 2 rows"):
            fn(bad[:1])
        with pytest.raises(TypeError, match="must have a numeric"):
            fn(bad > 0)
