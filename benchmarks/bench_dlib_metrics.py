"""The scores ported from disentanglement_lib vs literal twins of its code, same run.

Sizes: dlib's (10,000 train / 5,000 test points; UDR 1,000 points per run, 6 runs (3 when quick)), 5
factors (10 values) x 10 latents. VAECORE_BENCH_QUICK=1 shrinks every size. Every timed
result is checked against the twin first.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

from vaecore.metrics import irs, modularity_explicitness, udr, unsupervised_scores
from vaecore.reference.dlib_irs import compute_irs
from vaecore.reference.dlib_modularity import compute_modularity_explicitness
from vaecore.reference.dlib_udr import compute_udr_sklearn
from vaecore.reference.dlib_unsupervised import unsupervised_metrics

from .conftest import QUICK

N_TRAIN, N_TEST, N_UDR, N_RUNS = (400, 200, 100, 3) if QUICK else (10_000, 5_000, 1_000, 6)


def _draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    w = rng.integers(0, 10, size=(n, 5))
    mix = np.eye(5) + 0.3 * np.random.default_rng(9).normal(size=(5, 5))
    return np.c_[w @ mix + rng.normal(size=(n, 5)), rng.normal(size=(n, 5))], w


@functools.lru_cache(maxsize=None)
def _data():
    rng = np.random.default_rng(0)
    z, w = _draw(rng, N_TRAIN)
    zt, wt = _draw(rng, N_TEST)
    runs = [_draw(rng, N_UDR)[0] for _ in range(N_RUNS)]
    kls = [rng.uniform(0.005, 1.0, 10) for _ in range(N_RUNS)]
    return z, w, zt, wt, runs, kls


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


CASES = {
    "modularity_explicitness": (
        lambda z, w, zt, wt, r, k: modularity_explicitness(z, w, zt, wt).value,
        lambda z, w, zt, wt, r, k: compute_modularity_explicitness(z.T, w.T, zt.T, wt.T)["modularity_score"],
    ),
    "irs": (
        lambda z, w, zt, wt, r, k: irs(z, w).value,
        lambda z, w, zt, wt, r, k: compute_irs(z.T, w.T)["IRS"],
    ),
    "unsupervised": (
        lambda z, w, zt, wt, r, k: unsupervised_scores(z).mutual_info_score,
        lambda z, w, zt, wt, r, k: unsupervised_metrics(z.T)["mutual_info_score"],
    ),
    "udr-lasso": (
        lambda z, w, zt, wt, r, k: udr(r, k).model_scores[0],
        lambda z, w, zt, wt, r, k: compute_udr_sklearn(r, k, random_state=0)["model_scores"][0],
    ),
    "udr-spearman": (
        lambda z, w, zt, wt, r, k: udr(r, k, correlation="spearman").model_scores[0],
        lambda z, w, zt, wt, r, k: compute_udr_sklearn(r, k, correlation_matrix="spearman")["model_scores"][0],
    ),
}


@functools.lru_cache(maxsize=None)
def _expected(case: str) -> float:
    return float(_quiet(CASES[case][1], *_data()))


@pytest.mark.benchmark(group="dlib-metrics")
@pytest.mark.parametrize("impl", ["vaecore", "dlib-twin"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_dlib_metric(benchmark, case, impl):
    data = _data()
    ours, twin = CASES[case]
    expected = _expected(case)
    fn = ours if impl == "vaecore" else twin
    benchmark.extra_info.update(n_train=N_TRAIN, n_test=N_TEST, n_udr=N_UDR, case=case, impl=impl)
    got = benchmark.pedantic(_quiet, args=(fn, *data), rounds=1, iterations=1)
    assert got == pytest.approx(expected, abs=1e-12)
