"""UDR (Duan et al. 2020) as disentanglement_lib: literal-twin agreement on random runs,
closed forms, bad input (runs of different latent sizes)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from vaecore.metrics import gaussian_kl_per_latent, udr
from vaecore.reference.dlib_udr import compute_udr_sklearn, relative_strength_disentanglement


def _runs(n: int = 600, d: int = 5, m: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n, d))
    runs, kls = [], []
    for k in range(m):
        mix = np.eye(d)[rng.permutation(d)] + (0.15 * k) * rng.normal(size=(d, d))
        z = w @ mix + 0.3 * rng.normal(size=(n, d))
        kl = rng.uniform(0.05, 2.0, size=d)
        kl[k % d] = 0.004  # one collapsed latent per run
        if k == 1:
            kl[(k + 1) % d] = 0.02  # kept by kl_threshold 0.01, dropped by 0.05
        runs.append(z)
        kls.append(kl)
    return runs, kls


def _reference(runs, kls, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = compute_udr_sklearn(runs, kls, random_state=0, **kw)
    return (
        np.array(ref["model_scores"]),
        np.array(ref["pairwise_disentanglement_scores"])[..., 0],
        np.nan_to_num(np.array(ref["raw_correlations"])),
    )


@pytest.mark.parametrize("correlation", ["lasso", "spearman"])
@pytest.mark.parametrize("filter_low_kl", [True, False])
@pytest.mark.parametrize("threshold", [0.01, 0.05])
def test_equals_disentanglement_lib_on_random_runs(correlation, filter_low_kl, threshold):
    runs, kls = _runs()
    res = udr(runs, kls, correlation=correlation, filter_low_kl=filter_low_kl, kl_threshold=threshold)
    scores, pairwise, corr = _reference(
        runs, kls, correlation_matrix=correlation, filter_low_kl=filter_low_kl, kl_filter_threshold=threshold
    )
    np.testing.assert_allclose(res.model_scores, scores, atol=1e-12)
    np.testing.assert_allclose(res.pairwise, pairwise, atol=1e-12)
    np.testing.assert_allclose(res.correlations, corr, atol=1e-12)
    assert res.best == int(np.argmax(scores))
    assert res.value == pytest.approx(scores.mean())


def test_without_kl_keeps_every_latent():
    runs, _ = _runs(seed=1)
    big = [np.full(5, 10.0)] * 4
    for correlation in ("lasso", "spearman"):
        res = udr(runs, correlation=correlation)
        np.testing.assert_allclose(
            res.model_scores, _reference(runs, big, correlation_matrix=correlation)[0], atol=1e-12
        )
        assert res.active.all()


def test_permuted_copies_agree_and_noise_does_not():
    rng = np.random.default_rng(0)
    z = rng.uniform(size=(2000, 4))
    runs = [z, -3.0 * z[:, [2, 0, 3, 1]] + 1.0, z[:, [1, 0, 3, 2]], rng.normal(size=(2000, 4))]
    res = udr(runs, correlation="spearman")
    assert np.all(res.model_scores[:3] > 0.9)
    assert res.pairwise[3, 0] < 0.45 and res.best in (0, 1, 2)
    assert relative_strength_disentanglement(np.eye(3)) == 1.0


def test_run_without_kept_latents_scores_zero_pairs():
    runs, kls = _runs(m=3)
    kls[2] = np.zeros(5)
    res = udr(runs, kls)
    assert res.pairwise[2, 0] == res.pairwise[0, 2] == 0.0
    assert res.model_scores[2] == 0.0


def test_gaussian_kl_per_latent():
    mu = np.array([[0.0, 1.0], [0.0, -1.0]])
    lv = np.array([[0.0, np.log(2.0)], [0.0, np.log(2.0)]])
    np.testing.assert_allclose(gaussian_kl_per_latent(mu, lv), [0.0, 0.5 * (1 + 2 - np.log(2.0) - 1)])
    with pytest.raises(ValueError, match="logvar must have the shape of mean"):
        gaussian_kl_per_latent(mu, lv[:, :1])


def test_bad_input_raises():
    runs, kls = _runs(m=3)
    with pytest.raises(ValueError, match="same latent size; got 5 latents in codes\\[0\\] and 4 in codes\\[2\\]"):
        udr([runs[0], runs[1], runs[2][:, :4]])
    with pytest.raises(ValueError, match="same inputs"):
        udr([runs[0], runs[1][:-1]])
    with pytest.raises(ValueError, match="at least 2 runs"):
        udr([runs[0]])
    with pytest.raises(TypeError, match="sequence of arrays"):
        udr(42)
    with pytest.raises(ValueError, match=r"kl\[1\] must have 5 entries"):
        udr(runs, [kls[0], kls[1][:3], kls[2]])
    with pytest.raises(ValueError, match="one \\(n_latents,\\) array per run"):
        udr(runs, kls[:2])
    with pytest.raises(ValueError, match="correlation must be one of"):
        udr(runs, correlation="pearson")
    bad = [r.copy() for r in runs]
    bad[1][7, 2] = np.nan
    with pytest.raises(ValueError, match=r"codes\[1\] must be finite; got NaN or inf at row 7"):
        udr(bad)
    np.testing.assert_allclose(udr(np.stack(runs), np.stack(kls)).model_scores, udr(runs, kls).model_scores)
