"""Polarized-regime statistics (eq. 3.5, 3.38) and active units (§4.3.4): closed forms."""

import numpy as np
import pytest
import torch

from vaecore.metrics import active_units, polarized_regime


def _polarized_sample(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    mu = np.zeros((n, 4))
    mu[:, :2] = rng.normal(size=(n, 2)) * [2.0, 1.0]  # active: spread-out means
    mu[:, 2:] = rng.normal(size=(n, 2)) * 0.01  # passive: mean ~ 0
    logvar = np.zeros((n, 4))
    logvar[:, :2] = np.log(1e-4)  # active: tiny variance
    logvar[:, 2:] = 0.0  # passive: variance 1
    return mu, logvar


def test_closed_form_kl_and_approximation():
    mu, logvar = _polarized_sample()
    res = polarized_regime(mu, logvar)
    var = np.exp(logvar)
    kl = (0.5 * (mu**2 + var - logvar - 1)).sum(1).mean()
    approx = (0.5 * (mu[:, :2] ** 2 - logvar[:, :2] - 1)).sum(1).mean()
    assert res.kl == pytest.approx(kl, rel=1e-12)
    assert res.kl_approx == pytest.approx(approx, rel=1e-12)
    assert res.value == pytest.approx(abs(kl - approx) / kl, rel=1e-12)
    assert res.value < 0.03  # a polarized posterior
    assert res.active.tolist() == [True, True, False, False]
    assert res.n_active == 2
    np.testing.assert_allclose(res.sqrt_var_mu, mu.std(0))
    np.testing.assert_allclose(res.mean_var, var.mean(0))
    d = res.as_dict()
    assert d["delta_kl"] == d["value"] and d["active"] == [True, True, False, False]


def test_non_polarized_posterior_has_large_delta():
    rng = np.random.default_rng(1)
    mu = rng.normal(size=(500, 3))
    logvar = np.full((500, 3), np.log(0.5))  # neither tiny nor 1: approximation is off
    res = polarized_regime(mu, logvar)
    assert res.value > 0.2


def test_torch_input_and_threshold():
    mu, logvar = _polarized_sample()
    res = polarized_regime(torch.from_numpy(mu), torch.from_numpy(logvar), threshold=1.5)
    assert res.active.tolist() == [True, False, False, False]


def test_active_units_threshold():
    logvar = np.log(np.array([[0.1, 0.79, 0.81, 1.0]] * 10))
    res = active_units(logvar)
    assert res.value == 2 and int(res) == 2
    assert res.active.tolist() == [True, True, False, False]
    assert active_units(logvar, threshold=0.9).value == 3
    assert res.as_dict()["threshold"] == 0.8


@pytest.mark.parametrize(
    "mu, logvar, match",
    [
        (np.zeros((5, 2)), np.zeros((5, 3)), "same shape"),
        (np.zeros((1, 2)), np.zeros((1, 2)), "at least 2 rows"),
        (np.full((5, 2), np.nan), np.zeros((5, 2)), "mu must be finite"),
        (np.zeros(5), np.zeros(5), "mu must have 2 dimensions"),
    ],
)
def test_bad_input(mu, logvar, match):
    with pytest.raises(ValueError, match=match):
        polarized_regime(mu, logvar)


def test_active_units_bad_threshold():
    with pytest.raises(ValueError, match="threshold must be > 0"):
        active_units(np.zeros((3, 2)), threshold=0.0)
