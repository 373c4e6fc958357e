"""Rendering throughput of the procedural datasets: C++ kernel vs numpy twin, same run.

Groups: ``render_dsprites`` and ``render_shapes3d`` (kernel calls on precomputed poses,
uint8 output, the thread count of the machine), ``dsprites_dataloader`` (the full path a
training loop sees: index -> factors -> render -> float32 torch batch). Each benchmark
checks the native output against the twin once before timing and stores the batch size and
images/s in ``extra_info``. ``VAECORE_BENCH_QUICK=1`` shrinks everything.

    pytest benchmarks/bench_datasets.py --benchmark-enable
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import vaecore
from vaecore import datasets
from vaecore._native import native
from vaecore.datasets.dsprites import dsprites_poses
from vaecore.datasets.shapes3d import DEFAULT_SCENE, shapes3d_params
from vaecore.reference import render as twin

QUICK = os.environ.get("VAECORE_BENCH_QUICK") == "1"  # as benchmarks/conftest.py
ROUNDS = 2 if QUICK else 5


def _sizes(kind: str, backend: str) -> int:
    if kind == "dsprites":
        if backend == "native":
            return 2_000 if QUICK else 100_000
        return 50 if QUICK else 2_000
    if backend == "native":
        return 50 if QUICK else 5_000
    return 2 if QUICK else 20


def _info(benchmark, n: int, backend: str) -> None:
    benchmark.extra_info.update(
        n_images=n, backend=backend, threads=native().num_threads(),
        vaecore=vaecore.__version__, numpy=np.__version__,
    )


def _finish(benchmark, n: int) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        benchmark.extra_info["images_per_s"] = n / stats.stats.median


@pytest.mark.benchmark(group="render_dsprites")
@pytest.mark.parametrize("backend", ["native", "reference"])
def test_render_dsprites(benchmark, backend):
    ds = datasets.load("dsprites")
    n = _sizes("dsprites", backend)
    values = ds.factor_values_of(ds.sample_factors(n, np.random.default_rng(0)))
    poses = dsprites_poses(values)
    out = np.empty((n, 64, 64), np.uint8)
    check = np.empty((min(n, 50), 64, 64), np.uint8)
    ref = np.empty_like(check)
    native().render_dsprites(poses[: len(check)], check)
    twin.render_dsprites(poses[: len(check)], ref)
    np.testing.assert_array_equal(check, ref)
    fn = (lambda: native().render_dsprites(poses, out)) if backend == "native" else (
        lambda: twin.render_dsprites(poses, out))
    _info(benchmark, n, backend)
    benchmark.pedantic(fn, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _finish(benchmark, n)


@pytest.mark.benchmark(group="render_shapes3d")
@pytest.mark.parametrize("backend", ["native", "reference"])
def test_render_shapes3d(benchmark, backend):
    ds = datasets.load("shapes3d")
    n = _sizes("shapes3d", backend)
    values = ds.factor_values_of(ds.sample_factors(n, np.random.default_rng(0)))
    params = shapes3d_params(values)
    scene = DEFAULT_SCENE.scene_array()
    out = np.empty((n, 3, 64, 64), np.uint8)
    m = min(n, 4)
    check = np.empty((m, 3, 64, 64), np.uint8)
    ref = np.empty_like(check)
    native().render_shapes3d(params[:m], scene, check)
    twin.render_shapes3d(params[:m], scene, ref)
    assert np.mean(check != ref) <= 1e-3
    fn = (lambda: native().render_shapes3d(params, scene, out)) if backend == "native" else (
        lambda: twin.render_shapes3d(params, scene, out))
    _info(benchmark, n, backend)
    benchmark.pedantic(fn, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _finish(benchmark, n)


@pytest.mark.benchmark(group="dsprites_dataloader")
@pytest.mark.parametrize("backend", ["native", "reference"])
def test_dsprites_dataloader_epoch(benchmark, backend):
    """Iterate a shuffled DataLoader (batch 256) over a subset: float32 torch batches."""
    ds = datasets.DSprites(backend=backend)
    n = (512 if QUICK else 20_480) if backend == "native" else (256 if QUICK else 1_024)
    idx = np.random.default_rng(0).choice(len(ds), n, replace=False)
    loader = ds.dataloader(idx, batch_size=256, shuffle=True, seed=0)
    first = next(iter(loader))
    ref = datasets.DSprites(backend="reference").observations(first[1].numpy())
    np.testing.assert_array_equal(first[0].numpy(), ref)

    def epoch():
        total = 0
        for x, _f in loader:
            total += x.shape[0]
        return total

    _info(benchmark, n, backend)
    benchmark.extra_info["batch_size"] = 256
    assert benchmark.pedantic(epoch, rounds=ROUNDS, iterations=1, warmup_rounds=0) == n
    _finish(benchmark, n)
