"""Seeds as one batched model: ``vaecore.train_seeds`` vs separate ``vaecore.train`` runs.

Case: the quick Synth. Non-Lin. preset (60-40-20 tanh MLP β-VAE, batch 256, Adam 3e-3, 1 torch
thread as ``train`` picks for this tiny model), 3 seeds, 2,000 steps each (200 with
``VAECORE_BENCH_QUICK=1``), the same in-memory dataset; both sides include their setup (model
build, data preload, the polarized monitor). ``test_training_seeds`` times each side as a
pytest-benchmark group; ``test_interleaved_ratio`` alternates the two sides in one process
(several rounds) and reports the throughput ratio, which is the number to read on a shared
machine (both sides see the same load).

Run: ``PYTHONPATH=$PWD pytest benchmarks/bench_batched_seeds.py --benchmark-enable -s``.
"""

import statistics
import time

import pytest
import torch

from vaecore import datasets
from vaecore.training import TrainConfig, train
from vaecore.training.batched import train_seeds

SEEDS = [0, 1, 2]
# The first optimizer built in a process imports torch._dynamo (seconds): do it before timing.
torch.optim.Adam([torch.zeros(1, requires_grad=True)])


def _setup(quick):
    cfg = TrainConfig.preset("synth-nonlin", scale="quick", steps=200 if quick else 2000)
    return datasets.load(cfg.dataset, **cfg.dataset_options), cfg


def _separate(cfg, ds):
    return [train(cfg.replace(seed=s), progress=False, dataset=ds) for s in SEEDS]


def _batched(cfg, ds):
    return train_seeds(cfg, SEEDS, progress=False, dataset=ds)


@pytest.mark.parametrize("loop", ["train_seeds (batched)", "train x3 (separate)"])
def test_training_seeds(benchmark, loop, quick):
    ds, cfg = _setup(quick)
    benchmark.group = "3 seeds, Synth. Non-Lin. quick preset (60-40-20 tanh MLP, batch 256)"
    benchmark.extra_info.update({"steps": cfg.steps, "seeds": len(SEEDS), "torch": torch.__version__})
    fn = _batched if loop.startswith("train_seeds") else _separate
    runs = benchmark.pedantic(lambda: fn(cfg, ds), rounds=1 if quick else 3, iterations=1)
    assert [r.step for r in runs] == [cfg.steps] * len(SEEDS)


def test_interleaved_ratio(quick):
    """Separate / batched wall time, the two alternated in one process; median of the rounds."""
    ds, cfg = _setup(quick)
    _batched(cfg.replace(steps=5), ds)  # warm-up of both paths
    _separate(cfg.replace(steps=5), ds)
    ratios, times = [], {"batched": [], "separate": []}
    for _ in range(2 if quick else 5):
        t0 = time.perf_counter()
        _batched(cfg, ds)
        t1 = time.perf_counter()
        _separate(cfg, ds)
        t2 = time.perf_counter()
        times["batched"].append(t1 - t0)
        times["separate"].append(t2 - t1)
        ratios.append((t2 - t1) / (t1 - t0))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        f"\n3 seeds x {cfg.steps} steps: batched median {med['batched']:.2f} s, separate median "
        f"{med['separate']:.2f} s; throughput ratio per round {[round(r, 2) for r in ratios]}, "
        f"median {statistics.median(ratios):.2f}x"
    )
    assert statistics.median(ratios) > 1.0
