"""Regeneration rate of the perturbed datasets (SPEC-ch4 §6.5): images/s of
``load("perturbed", ...).observations_at`` against rendering the base dataset, on the fly and from
the on-disk cache (uint8), for dSprites and Shapes3D with the conv manipulator (random weights:
the cost does not depend on them). Torch runs on one thread; the base renderer is whatever backend
loaded (``extra_info["backend"]``). Before timing, the cached images are checked against the
on-the-fly ones (≤ 1/510). ``VAECORE_BENCH_QUICK=1`` shrinks the batches.

    pytest benchmarks/bench_perturb.py --benchmark-enable
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import vaecore
from vaecore import datasets
from vaecore.perturb import BaseRecord, FactorEncoding, Manipulator, ManipulatorSpec, save_manipulator

QUICK = os.environ.get("VAECORE_BENCH_QUICK") == "1"  # as benchmarks/conftest.py
ROUNDS = 2 if QUICK else 5


def _n(name: str) -> int:
    if QUICK:
        return 8
    if name == "shapes3d" and not vaecore.has_native():
        return 32  # the numpy ray caster is slow
    return 512


def _manipulator(folder, ds, name: str, eps: float):
    enc = FactorEncoding.of(ds)
    m = Manipulator(ManipulatorSpec.default(enc.dim, ds.observation_shape), seed=0)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(0.05 * torch.randn(p.shape, generator=g))
    save_manipulator(folder, m, eps=eps, base=BaseRecord.of(ds, name, {}), encoding=enc)
    return folder


@pytest.mark.benchmark(group="perturbed")
@pytest.mark.parametrize("mode", ["base", "perturbed", "cached"])
@pytest.mark.parametrize("name, eps", [("dsprites", 0.1), ("shapes3d", 0.175)])
def test_regeneration_rate(benchmark, tmp_path, name, eps, mode):
    base = datasets.load(name)
    n = _n(name)
    idx = np.sort(np.random.default_rng(0).choice(len(base), n, replace=False))
    folder = _manipulator(tmp_path / "m", base, name, eps)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if mode == "base":
            ds = base
        else:
            ds = datasets.load("perturbed", base=name, manipulator=folder)
            if mode == "cached":
                fly = ds.observations_at(idx)
                ds = datasets.load("perturbed", base=name, manipulator=folder, cache=tmp_path / "cache",
                                   cache_indices=idx)
                assert np.abs(ds.observations_at(idx) - fly).max() <= 1 / 510 + 1e-7
        benchmark.extra_info.update(n_images=n, mode=mode, torch_threads=1, vaecore=vaecore.__version__,
                                    backend="native" if vaecore.has_native() else "reference")
        benchmark.pedantic(lambda: ds.observations_at(idx), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    finally:
        torch.set_num_threads(before)
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        benchmark.extra_info["images_per_s"] = n / stats.stats.median
