"""metrics.jsonl, live metrics on a test-split probe and the TensorBoard option (issue 16.3)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import vaecore
from vaecore import TrainConfig, train


def _cfg(**kw):
    base = dict(steps=60, log_every=20, monitor_every=30, checkpoint_every=40, latent_dim=3)
    return TrainConfig.preset("synth-nonlin", **{**base, **kw})


def _lines(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def test_metrics_log_has_every_window(tmp_path):
    run = train(_cfg(), out=tmp_path, progress=False)
    lines = _lines(tmp_path)
    assert [e["step"] for e in lines] == [20, 40, 60]
    for entry, hist in zip(lines, run.history):
        assert {k: entry[k] for k in hist} == hist  # the loss terms of the history
        assert set(entry["lr"]) == {"main"} and entry["lr"]["main"] == run.config.lr
    assert lines[0]["wall_s"] < lines[1]["wall_s"] < lines[2]["wall_s"]
    assert lines[1]["active_units"] == run.monitor[1]["active_units"]  # monitor record of step 30
    assert lines[2]["delta_kl"] == run.monitor[-1]["delta_kl"]


def test_live_metrics_equal_direct_computation_and_leave_training_unchanged(tmp_path):
    from vaecore.metrics import ds, mig

    plain = train(_cfg(), out=tmp_path / "a", progress=False)
    cfg = _cfg(eval_metrics=["mig", "ds", "dto", "active_units"], eval_every=30, eval_points=300)
    live = train(cfg, out=tmp_path / "b", progress=False)
    for p, q in zip(plain.model.parameters(), live.model.parameters()):
        assert torch.equal(p, q)  # evaluating on the probe draws nothing from the training streams
    lines = _lines(tmp_path / "b")
    names = ["eval_active_units", "eval_ds", "eval_dto", "eval_mig"]
    assert [sorted(k for k in e if k.startswith("eval_")) for e in lines] == [[], names, names]
    from vaecore.training.live import LiveEval

    probe = LiveEval(cfg, live.dataset, torch.device("cpu"))
    with torch.no_grad():
        mu, _ = live.model.encode(probe.x)
    z = mu.double().numpy()
    assert lines[-1]["eval_mig"] == pytest.approx(mig(z, probe.factors, drop_constant=True).value, abs=1e-12)
    assert lines[-1]["eval_ds"] == pytest.approx(ds(z, probe.factors, seed=cfg.seed).value, abs=1e-12)
    test = set(live.dataset.split(seed=cfg.split_seed)[2].tolist())
    idx = np.sort(np.random.default_rng(np.random.SeedSequence([cfg.seed, 7])).choice(
        sorted(test), size=300, replace=False))
    assert set(idx.tolist()) <= test  # the probe is test-split data


def test_resume_drops_lines_beyond_the_checkpoint(tmp_path):
    train(_cfg(steps=40), out=tmp_path, progress=False)
    with open(tmp_path / "metrics.jsonl", "a") as fh:  # a session that died after step 40
        fh.write(json.dumps({"step": 60, "loss": 1.0}) + "\n" + '{"step": 8')
    train(_cfg(steps=60), out=tmp_path, progress=False)
    assert [e["step"] for e in _lines(tmp_path)] == [20, 40, 60]
    assert _lines(tmp_path)[-1]["loss"] != 1.0


def test_options_are_checked_and_resumable(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="eval_metrics must be one of"):
        _cfg(eval_metrics=["migg"])
    with pytest.raises(ValueError, match="eval_every"):
        _cfg(eval_every=0)
    assert "eval_metrics" not in _cfg().to_dict()  # defaults stay out of config.json
    train(_cfg(steps=40), out=tmp_path, progress=False)
    train(_cfg(steps=60, eval_metrics=["mig"]), out=tmp_path, progress=False)  # logging only: resumable
    import builtins

    real = builtins.__import__

    def no_tb(name, *a, **k):
        if name.startswith("torch.utils.tensorboard"):
            raise ImportError("no tensorboard")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_tb)
    with pytest.raises(RuntimeError, match=r"vaecore\[tensorboard\]"):
        train(_cfg(tensorboard=True), out=tmp_path / "tb", progress=False)


def test_cli_exposes_the_log(tmp_path):
    from vaecore.cli import main

    assert main(["train", "--dataset", "synth-lin", "--steps", "30", "--set", "log_every=10",
                 "--set", 'eval_metrics=["mig"]', "--set", "eval_every=15", "--out", str(tmp_path), "--quiet"]) == 0
    lines = _lines(tmp_path)
    assert [e["step"] for e in lines] == [10, 20, 30]
    assert "eval_mig" in lines[1] and "eval_mig" in lines[2] and "eval_mig" not in lines[0]
    assert vaecore.load_run(tmp_path).config.eval_metrics == ("mig",)
