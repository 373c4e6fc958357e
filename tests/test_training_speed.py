"""The conv memory-format policy (vaecore.training.speed): same losses as NCHW, bit-exact resume."""

import numpy as np
import pytest
import torch

from vaecore.training import ArrayDataset, TrainConfig, load_run, speed, train


def _setup():
    rng = np.random.default_rng(0)
    ds = ArrayDataset((rng.random((64, 1, 64, 64)) < 0.1).astype(np.float32), is_image=True)
    cfg = TrainConfig.preset("dsprites-ch4", scale="thesis", steps=4, batch_size=8, probe_size=8,
                             log_every=1, checkpoint_every=2, threads=1)
    return ds, cfg


@pytest.mark.slow
def test_channels_last_matches_nchw_and_resumes_bit_exact(tmp_path, monkeypatch):
    ds, cfg = _setup()
    monkeypatch.setattr(speed, "CONV_CHANNELS_LAST", False)
    nchw = train(cfg, progress=False, dataset=ds)
    monkeypatch.setattr(speed, "CONV_CHANNELS_LAST", True)
    full = train(cfg, out=tmp_path / "a", progress=False, dataset=ds)
    assert next(full.model.encoder.parameters()).is_contiguous(memory_format=torch.channels_last)
    for h, g in zip(full.history, nchw.history):
        assert h["step"] == g["step"]
        np.testing.assert_allclose([h["loss"], h["kl"]], [g["loss"], g["kl"]], rtol=1e-4)
    train(cfg.replace(steps=2), out=tmp_path / "b", progress=False, dataset=ds)
    resumed = train(cfg, out=tmp_path / "b", progress=False, dataset=ds)
    assert resumed.history == full.history
    loaded = load_run(tmp_path / "b")
    for p, q in zip(loaded.model.parameters(), full.model.parameters()):
        assert torch.equal(p, q)
