"""Paired data throughput against what a training step consumes (SPEC-ch4 §2, issue 12).

Groups:

* ``pairs: sample + render, 64 pairs`` — ``pairs(ds, kind).batch(64)``: draw 64 pairs
  (vectorised numpy), render both images with the procedural C++ renderer (dSprites,
  Shapes3D; the machine's threads), float32 torch tensors. ``extra_info["pairs_per_s"]``.
* ``pairs: sample only, 64 pairs`` — ``sample(64)`` without rendering (the sampler's own cost).
* ``conv beta-VAE step, batch 64`` — one Adam step of disentanglement_lib's conv β-VAE at
  batch 64 on the same images (torch on one thread, as SPEC-ch4 §8 runs CPU training).
  SlowVAE consumes 32 pairs per 64-image step, Ada-GVAE 64 pairs per ~2-step-cost
  iteration, so "training never waits" means one ``batch(64)`` costs a small fraction of a
  step.

``VAECORE_BENCH_QUICK=1`` shrinks rounds (and the conv step to a tiny batch) so CI can run it.

    PYTHONPATH=$PWD pytest benchmarks/bench_pairs.py --benchmark-enable
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from vaecore import datasets
from vaecore._native import native

QUICK = os.environ.get("VAECORE_BENCH_QUICK") == "1"  # as benchmarks/conftest.py
ROUNDS = 3 if QUICK else 30
STEP_ROUNDS = 2 if QUICK else 10
BATCH = 64

_DATASETS: dict[str, datasets.GroundTruthDataset] = {}


def _dataset(name: str) -> datasets.GroundTruthDataset:
    if name not in _DATASETS:
        _DATASETS[name] = datasets.load(name)
    return _DATASETS[name]


def _info(benchmark, name: str, kind: str) -> None:
    benchmark.extra_info.update(dataset=name, kind=kind, pairs=BATCH,
                                render_threads=native().num_threads(),
                                torch_threads=torch.get_num_threads())


def _per_second(benchmark, n: int, key: str) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is not None and getattr(stats, "stats", None) is not None:
        benchmark.extra_info[key] = n / stats.stats.median


@pytest.mark.benchmark(group="pairs: sample + render, 64 pairs")
@pytest.mark.parametrize("kind", ["laplace", "dlib-k", "share"])
@pytest.mark.parametrize("name", ["dsprites", "shapes3d"])
def test_pair_batch(benchmark, name, kind):
    ds = _dataset(name)
    sampler = datasets.pairs(ds, kind, seed=0)
    batch = sampler.batch(BATCH)  # checked once before timing
    np.testing.assert_array_equal(batch.x2.numpy(), ds.observations_at(batch.pairs.idx2))
    _info(benchmark, name, kind)
    benchmark.pedantic(lambda: sampler.batch(BATCH), rounds=ROUNDS, iterations=1,
                       warmup_rounds=1)
    _per_second(benchmark, BATCH, "pairs_per_s")


@pytest.mark.benchmark(group="pairs: sample only, 64 pairs")
@pytest.mark.parametrize("kind", ["laplace", "uniform-k", "dlib-k", "share", "change"])
def test_pair_sample(benchmark, kind):
    sampler = datasets.pairs(_dataset("shapes3d"), kind, seed=0)
    _info(benchmark, "shapes3d", kind)
    benchmark.pedantic(lambda: sampler.sample(BATCH), rounds=ROUNDS, iterations=10,
                       warmup_rounds=1)
    _per_second(benchmark, BATCH, "pairs_per_s")


@pytest.mark.benchmark(group="conv beta-VAE step, batch 64")
@pytest.mark.parametrize("name", ["dsprites", "shapes3d"])
def test_conv_step(benchmark, name):
    from vaecore.models import build_model

    ds = _dataset(name)
    batch = 8 if QUICK else BATCH
    x = torch.from_numpy(ds.observations_at(np.arange(batch) * 997 % len(ds)))
    torch.manual_seed(0)
    model = build_model("beta-vae", observation_shape=ds.observation_shape,
                        latent_dim=ds.n_factors, architecture="conv", likelihood="bernoulli",
                        beta=8.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    gen = torch.Generator().manual_seed(0)

    def step() -> None:
        loss = model.losses(x, gen)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _info(benchmark, name, "beta-vae step")
        benchmark.extra_info["batch"] = batch
        benchmark.pedantic(step, rounds=STEP_ROUNDS, iterations=1, warmup_rounds=1)
    finally:
        torch.set_num_threads(before)
    _per_second(benchmark, batch, "images_per_s")
