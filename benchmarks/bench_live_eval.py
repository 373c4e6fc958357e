"""Live metrics during training (issue 16.3): ``vaecore.train`` with and without
``eval_metrics = ["mig", "ds", "dto", "active_units"]`` at the default interval
(``eval_every = 1000`` steps, ``eval_points = 1000`` test-split points), same run otherwise.

Case: the quick Synth. Non-Lin. β-VAE preset (the smallest, most overhead-bound training in the
package, so the relative cost of evaluating is largest there), 3,000 steps = 3 evaluations.
Goal: the live metrics cost ≤ 5 % of training time. ``VAECORE_BENCH_QUICK=1``: 200 steps,
``eval_every = 100``.

Run: ``PYTHONPATH=$PWD pytest benchmarks/bench_live_eval.py --benchmark-enable``.
"""

import pytest

from vaecore.training import TrainConfig, train

LIVE = ["mig", "ds", "dto", "active_units"]


def _config(quick: bool, live: bool) -> TrainConfig:
    steps = 200 if quick else 3000
    extra = {"eval_metrics": LIVE, "eval_every": 100 if quick else 1000} if live else {}
    return TrainConfig.preset("synth-nonlin", scale="quick", steps=steps, threads=1, **extra)


@pytest.mark.parametrize("live", [False, True], ids=["plain", "live-metrics"])
def test_train_with_live_metrics(benchmark, quick, live):
    cfg = _config(quick, live)
    benchmark.group = "live-eval synth-nonlin"
    benchmark.extra_info.update({"steps": cfg.steps, "eval_metrics": list(cfg.eval_metrics),
                                 "eval_every": cfg.eval_every})
    run = benchmark.pedantic(train, args=(cfg,), kwargs={"progress": False}, rounds=3, iterations=1)
    assert run.step == cfg.steps
