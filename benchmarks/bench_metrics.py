"""Metrics benchmarks: C++ kernels vs their reference twins in the same run (DS, MIG) and
the LightGBM DCI backend vs scikit-learn's gradient boosting.

Sizes (issues 5, 15): DS at n = 10,000, 73,728 (10 % of dSprites) and 737,280 (all of
dSprites) with 5 factors x 10 latents; MIG at 10,000 and 737,280 (all of dSprites); DCI on a modest size (the sklearn
reference needs minutes at 10,000 points). VAECORE_BENCH_QUICK=1 shrinks every size.
Values are checked against the twin once per size before timing.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sklearn

import vaecore
from vaecore._native import native
from vaecore.metrics import dci, ds, mig

from .conftest import QUICK

N_FACTORS, N_LATENTS = 5, 10
DS_SIZES = [400] if QUICK else [10_000, 73_728, 737_280]
MIG_SIZES = [400] if QUICK else [10_000, 737_280]
DCI_SIZES = [(200, 100)] if QUICK else [(2_000, 1_000), (10_000, 5_000)]
GBT_SIZES = [200] if QUICK else [2_000]
DSPRITES_SIZES = (3, 6, 40, 32, 32)


@functools.lru_cache(maxsize=None)
def _ds_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    w = rng.uniform(size=(n, N_FACTORS))
    z = np.empty((n, N_LATENTS))
    z[:, :N_FACTORS] = np.tanh(2 * w - 1) + 0.05 * rng.normal(size=(n, N_FACTORS))
    z[:, 1] += 0.3 * w[:, 0]  # some entanglement
    z[:, N_FACTORS:] = rng.normal(size=(n, N_LATENTS - N_FACTORS))
    return z, w


@functools.lru_cache(maxsize=None)
def _mig_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    w = np.stack([rng.integers(0, s, n) for s in DSPRITES_SIZES], axis=1)
    z = rng.normal(size=(n, N_LATENTS))
    z[:, :N_FACTORS] += w / np.array(DSPRITES_SIZES)
    return z, w


@functools.lru_cache(maxsize=None)
def _dci_data(n_train: int, n_test: int):
    rng = np.random.default_rng(2)

    def draw(n):
        w = rng.integers(0, 6, size=(n, 3))
        z = np.c_[np.tanh((w - 2.5) / 2) + 0.2 * rng.normal(size=(n, 3)), rng.normal(size=(n, 3))]
        z[:, 1] += 0.3 * z[:, 0]
        return z, w

    return (*draw(n_train), *draw(n_test))


@functools.lru_cache(maxsize=None)
def _ds_reference(n: int):
    return ds(*_ds_data(n), backend="reference")


@functools.lru_cache(maxsize=None)
def _mig_reference(n: int):
    return mig(*_mig_data(n), backend="reference")


def _info(benchmark, **sizes) -> None:
    benchmark.extra_info.update(sizes)
    benchmark.extra_info.update(
        numpy=np.__version__,
        sklearn=sklearn.__version__,
        threads=vaecore.build_info()["num_threads"],
    )


@pytest.mark.benchmark(group="ds")
@pytest.mark.parametrize("n", DS_SIZES)
@pytest.mark.parametrize("backend", ["native", "reference"])
def test_ds(benchmark, backend, n):
    z, w = _ds_data(n)
    ref = _ds_reference(n)
    _info(benchmark, n=n, n_factors=N_FACTORS, n_latents=N_LATENTS, k=5, backend=backend)
    rounds = 5 if backend == "native" else 1
    res = benchmark.pedantic(ds, args=(z, w), kwargs={"backend": backend}, rounds=rounds, iterations=1)
    np.testing.assert_allclose(res.matrix, ref.matrix, rtol=1e-12, atol=1e-12)
    assert res.value == pytest.approx(ref.value, abs=1e-12)


@pytest.mark.benchmark(group="mig")
@pytest.mark.parametrize("n", MIG_SIZES)
@pytest.mark.parametrize("backend", ["native", "reference"])
def test_mig(benchmark, backend, n):
    z, w = _mig_data(n)
    ref = _mig_reference(n)
    _info(benchmark, n=n, n_factors=N_FACTORS, n_latents=N_LATENTS, n_bins=20, backend=backend)
    rounds = 5 if backend == "native" else 1
    res = benchmark.pedantic(mig, args=(z, w), kwargs={"backend": backend}, rounds=rounds, iterations=1)
    np.testing.assert_allclose(res.matrix, ref.matrix, rtol=0, atol=1e-12)
    assert res.value == pytest.approx(ref.value, abs=1e-12)


@pytest.mark.benchmark(group="dci")
@pytest.mark.parametrize("sizes", DCI_SIZES, ids=lambda s: f"{s[0]}-{s[1]}")
@pytest.mark.parametrize("backend", ["lightgbm", "sklearn"])
def test_dci(benchmark, backend, sizes):
    pytest.importorskip("lightgbm")
    data = _dci_data(*sizes)
    _info(benchmark, n_train=sizes[0], n_test=sizes[1], n_factors=3, n_latents=6, backend=backend)
    rounds = 3 if backend == "lightgbm" else 1
    res = benchmark.pedantic(dci, args=data, kwargs={"backend": backend}, rounds=rounds, iterations=1)
    benchmark.extra_info.update(disentanglement=res.disentanglement, completeness=res.completeness)
    assert 0.0 <= res.disentanglement <= 1.0


@functools.lru_cache(maxsize=None)
def _gbt_model(n: int):
    import lightgbm

    from vaecore.metrics.dci import LIGHTGBM_PARAMS, lightgbm_init_score
    from vaecore.metrics.lightgbm_trees import tree_arrays

    z, w, _, _ = _dci_data(n, 10)
    y = w[:, 0].astype(np.int64)
    model = lightgbm.LGBMClassifier(random_state=0, n_jobs=1, **LIGHTGBM_PARAMS).fit(z, y)
    trees = tree_arrays(model.booster_)
    return (z, y, lightgbm_init_score(y, trees.num_tree_per_iteration), *trees.kernel_args())


@pytest.mark.benchmark(group="gbt-replay")
@pytest.mark.parametrize("n", GBT_SIZES)
@pytest.mark.parametrize("backend", ["native", "reference"])
def test_gbt_residual_importance(benchmark, backend, n):
    """The DCI LightGBM backend's replay (100 stages x 6 classes, depth-3 trees): kernel vs twin."""
    pytest.importorskip("lightgbm")
    from vaecore.reference import gbt_replay

    args = _gbt_model(n)
    _info(benchmark, n=n, n_classes=6, n_trees=int(args[3].size - 1), backend=backend)
    fn = native().gbt_residual_importance if backend == "native" else gbt_replay.gbt_residual_importance
    rounds = 5 if backend == "native" else 1
    imp, raw = benchmark.pedantic(fn, args=args, rounds=rounds, iterations=1)
    ref_imp, ref_raw = gbt_replay.gbt_residual_importance(*args) if backend == "native" else (imp, raw)
    np.testing.assert_allclose(imp, ref_imp, rtol=1e-10)
    np.testing.assert_allclose(raw, ref_raw, rtol=1e-12, atol=1e-12)
