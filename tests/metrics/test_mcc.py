"""Mean correlation coefficient: against a brute-force twin (all permutations), closed forms
and invariances, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from vaecore.metrics.mcc import mean_corr_coef


def mcc_bruteforce(codes: np.ndarray, sources: np.ndarray, method: str = "pearson") -> float:
    """Best mean |corr| over every injective assignment of codes to sources."""
    k = sources.shape[1]
    corr = np.zeros((codes.shape[1], k))
    for j in range(codes.shape[1]):
        for i in range(k):
            if method == "pearson":
                corr[j, i] = abs(stats.pearsonr(codes[:, j], sources[:, i])[0])
            else:
                corr[j, i] = abs(stats.spearmanr(codes[:, j], sources[:, i])[0])
    return max(np.mean([corr[p[i], i] for i in range(k)])
               for p in itertools.permutations(range(codes.shape[1]), k))


@pytest.mark.parametrize("method", ["pearson", "spearman"])
@pytest.mark.parametrize("seed", range(4))
def test_matches_bruteforce(method, seed):
    rng = np.random.default_rng(seed)
    s = rng.standard_normal((300, 3))
    z = np.column_stack([s @ rng.standard_normal((3, 4)), rng.standard_normal(300)])
    z = z + 0.5 * rng.standard_normal(z.shape)
    got = mean_corr_coef(z, s, method=method)
    assert got.value == pytest.approx(mcc_bruteforce(z, s, method), abs=1e-10)
    assert sorted(set(got.matching.tolist())) == sorted(got.matching.tolist())


def test_invariances_and_closed_forms():
    rng = np.random.default_rng(0)
    s = rng.laplace(size=(500, 3))
    assert mean_corr_coef(s, s).value == pytest.approx(1.0)
    z = -3.0 * s[:, [2, 0, 1]] + 7.0
    r = mean_corr_coef(z, s)
    assert r.value == pytest.approx(1.0)
    assert r.matching.tolist() == [1, 2, 0]
    # Spearman is invariant to monotone maps of each column; Pearson is not
    assert mean_corr_coef(np.exp(s), s, method="spearman").value == pytest.approx(1.0)
    assert mean_corr_coef(np.exp(s), s).value < 0.99
    noise = rng.standard_normal((20000, 3))
    assert mean_corr_coef(noise, rng.laplace(size=(20000, 3))).value < 0.05
    const = np.column_stack([np.ones(500), s[:, 1:]])
    assert mean_corr_coef(const, s).per_source.min() == 0.0


def test_bad_input():
    s = np.zeros((10, 2))
    with pytest.raises(ValueError, match="same number of rows"):
        mean_corr_coef(np.zeros((9, 2)), s)
    with pytest.raises(ValueError, match="at least as many columns"):
        mean_corr_coef(np.zeros((10, 1)), s)
    with pytest.raises(ValueError, match="method must be one of"):
        mean_corr_coef(s, s, method="kendall")
    with pytest.raises(ValueError, match="finite"):
        mean_corr_coef(np.full((10, 2), np.nan), s)
