"""Seeds as one batched model: ``vaecore.train_seeds`` vs separate ``vaecore.train`` runs.

Case: the quick Synth. Non-Lin. preset (60-40-20 tanh MLP β-VAE, batch 256, Adam 3e-3, 1 torch
thread as ``train`` picks for this tiny model), 3 seeds, 1,000 steps each (200 with
``VAECORE_BENCH_QUICK=1``), the same in-memory dataset; both sides include their setup (model
build, data preload, the polarized monitor). ``test_training_seeds`` times each side as a
pytest-benchmark group; ``test_interleaved_ratio`` alternates the two sides in one process
(several rounds) and reports the throughput ratio in wall and process CPU time, which is the number to read on a shared
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
    cfg = TrainConfig.preset("synth-nonlin", scale="quick", steps=200 if quick else 1000)
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


def _clock(fn):
    """(wall seconds, process CPU seconds) of ``fn()``; both sides run on one torch thread, so CPU
    time is the work done, which the other jobs on a shared machine distort far less than wall time."""
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def test_interleaved_ratio(quick):
    """Separate / batched time, the two alternated in one process; median of the rounds."""
    ds, cfg = _setup(quick)
    _batched(cfg.replace(steps=5), ds)  # warm-up of both paths
    _separate(cfg.replace(steps=5), ds)
    rows = []
    for i in range(2 if quick else 3):
        b = _clock(lambda: _batched(cfg, ds))
        s = _clock(lambda: _separate(cfg, ds))
        rows.append((b, s))
        print(f"\nround {i}: batched {b[0]:.2f} s wall / {b[1]:.2f} s CPU, separate {s[0]:.2f} s wall / "
              f"{s[1]:.2f} s CPU; ratio wall {s[0] / b[0]:.2f}, CPU {s[1] / b[1]:.2f}", flush=True)
    wall = statistics.median(s[0] / b[0] for b, s in rows)
    cpu = statistics.median(s[1] / b[1] for b, s in rows)
    print(f"3 seeds x {cfg.steps} steps: throughput ratio (separate / batched), median of rounds: "
          f"wall {wall:.2f}x, CPU {cpu:.2f}x")
    assert cpu > 1.0
