"""FactorVAE score, BetaVAE score and sample_codes on a tiny fake ground-truth dataset."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaecore.metrics import beta_vae_score, ds, factor_vae_score, mig, sample_codes


class LinearToyData:
    """Ground-truth contract of vaecore.datasets in miniature: integer factors on a grid,
    observed through a fixed invertible linear map (observation_shape (4,))."""

    factor_sizes = (5, 6, 4)
    n_factors = 3

    def __init__(self) -> None:
        rng = np.random.default_rng(123)
        self.mixing = rng.normal(size=(3, 4))
        self.unmix = np.linalg.pinv(self.mixing)

    def sample_factors(self, n, rng):
        return np.stack([rng.integers(0, s, n) for s in self.factor_sizes], axis=1)

    def observations(self, factors):
        return (np.asarray(factors, dtype=np.float64) @ self.mixing).astype(np.float32)

    def identity(self, x):
        """A perfectly disentangled representation: recovers the factors."""
        return np.asarray(x, dtype=np.float64) @ self.unmix

    def rotated(self, x):
        z = self.identity(x) / np.array(self.factor_sizes)
        c = np.sqrt(0.5)
        return np.c_[c * (z[:, 0] - z[:, 1]), c * (z[:, 0] + z[:, 1]), z[:, 2]]


@pytest.fixture(scope="module")
def data():
    return LinearToyData()


SMALL = dict(num_train=300, num_eval=150, progress=False)


def test_factor_vae_identity_is_perfect(data):
    res = factor_vae_score(data, data.identity, num_variance_estimate=500, **SMALL)
    assert res.value == 1.0 and res.train_accuracy == 1.0
    assert res.num_active_dims == 3
    np.testing.assert_array_equal(np.argmax(res.votes, axis=0), [0, 1, 2])
    np.testing.assert_array_equal(res.per_factor, 1.0)


def test_factor_vae_rotation_lowers_score(data):
    res = factor_vae_score(data, data.rotated, num_variance_estimate=500, **SMALL)
    assert res.value < 0.9


def test_factor_vae_constant_codes_are_pruned(data):
    res = factor_vae_score(data, lambda x: np.zeros((len(x), 3)), num_variance_estimate=100, **SMALL)
    assert res.value == 0.0 and res.num_active_dims == 0


def test_factor_vae_prunes_a_tiny_latent(data):
    rep = lambda x: np.c_[data.identity(x), 1e-4 * data.identity(x)[:, :1]]  # noqa: E731
    res = factor_vae_score(data, rep, num_variance_estimate=500, **SMALL)
    assert res.num_active_dims == 3 and res.value == 1.0


def test_factor_vae_deterministic_and_chunking_independent(data):
    a = factor_vae_score(data, data.rotated, seed=4, num_variance_estimate=300, points_per_call=1, **SMALL)
    b = factor_vae_score(data, data.rotated, seed=4, num_variance_estimate=300, points_per_call=37, **SMALL)
    np.testing.assert_array_equal(a.votes, b.votes)
    assert a.value == b.value
    assert factor_vae_score(data, data.rotated, seed=5, num_variance_estimate=300, **SMALL).votes.sum() == 300


def test_beta_vae_identity_vs_rotation(data):
    good = beta_vae_score(data, data.identity, **SMALL)
    scrambled = lambda x: np.sin(1000.0 * np.asarray(x[:, :3], dtype=np.float64))  # noqa: E731
    bad = beta_vae_score(data, scrambled, **SMALL)
    assert good.value >= 0.95 and good.train_accuracy >= 0.95
    assert bad.value < good.value - 0.2
    assert set(good.as_dict()) == {"value", "train_accuracy", "eval_accuracy", "per_factor", "converged"}


def test_beta_vae_deterministic_and_chunking_independent(data):
    a = beta_vae_score(data, data.rotated, seed=2, points_per_call=1, **SMALL)
    b = beta_vae_score(data, data.rotated, seed=2, points_per_call=50, **SMALL)
    assert a.as_dict() == b.as_dict()


def test_fast_presets(data):
    calls = []

    def rep(x):
        calls.append(len(x))
        return data.identity(x)

    factor_vae_score(data, rep, fast=True, num_train=10, num_eval=10, progress=False)
    assert calls[0] == 16 * 64  # variance estimate encoded in chunks
    assert sum(calls) == 2000 + 20 * 64


def test_sample_codes_feeds_array_metrics(data):
    codes, factors = sample_codes(data, data.identity, 700, seed=1)
    assert codes.shape == (700, 3) and factors.shape == (700, 3)
    np.testing.assert_allclose(codes, factors, atol=1e-4)
    c2, f2 = sample_codes(data, lambda x: torch.from_numpy(data.identity(x)), 700, seed=1, batch_size=33)
    np.testing.assert_array_equal(f2, factors)
    np.testing.assert_allclose(c2, codes)
    assert mig(codes, factors).value > 0.9
    # Round away the float32 round-off of the linear map: on integer factors its last bits
    # correlate with the other factors, which an exact 1-D kNN among tied codes would exploit.
    assert ds(np.round(codes, 3), factors).value > 0.8


def test_bad_inputs(data):
    with pytest.raises(TypeError, match="sample_codes: dataset must provide sample_factors"):
        sample_codes(object(), data.identity, 10)
    with pytest.raises(TypeError, match="factor_vae_score: represent must be a callable"):
        factor_vae_score(data, None)
    with pytest.raises(ValueError, match=r"sample_codes: represent must return codes of shape \(B, n_latents\)"):
        sample_codes(data, lambda x: x[:, 0], 10)
    with pytest.raises(ValueError, match="beta_vae_score: represent must return finite codes"):
        beta_vae_score(data, lambda x: np.full((len(x), 2), np.nan), num_train=5, num_eval=5, progress=False)
    with pytest.raises(ValueError, match="factor_vae_score: num_train must be >= 1"):
        factor_vae_score(data, data.identity, num_train=0)
    with pytest.raises(ValueError, match="sample_codes: n must be >= 1"):
        sample_codes(data, data.identity, 0)


@pytest.mark.parametrize("metric", ["ds", "mig", "sap", "dci", "factor_vae", "beta_vae"])
def test_score_representation_on_a_model(data, metric):
    from vaecore.metrics import score_representation

    def represent(x):  # a "trained model": exact factors up to rounding, plus a noise latent
        z = np.round(data.identity(x), 3)
        return np.c_[z, np.sin(100.0 * z.sum(axis=1))]

    res = score_representation(metric, data, represent, seed=1, fast=True)
    d = res.as_dict()
    assert 0.0 <= d["value"] <= 1.0
    assert res.value > {"sap": 0.2, "dci": 0.6}.get(metric, 0.8)


def test_score_representation_uses_factor_kinds_and_rejects_unknown(data):
    from vaecore.metrics import score_representation

    class Kinds(LinearToyData):
        factor_kinds = ("categorical", "continuous", "continuous")

    res = score_representation("ds", Kinds(), data.identity, fast=True)
    assert res.categorical == (True, False, False)
    with pytest.raises(ValueError, match=r"score_representation: metric must be one of \('ds', 'mig'"):
        score_representation("dto", data, data.identity)
