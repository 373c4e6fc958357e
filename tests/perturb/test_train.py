"""Training of the manipulator (thesis §4.2.4, §4.3.1; SPEC-ch4 §6.4, §10 check 6)."""

from __future__ import annotations

import json

import pytest
import torch
from scipy.stats import spearmanr

from vaecore.perturb import load_manipulator, train_manipulator

OPTS = dict(lr=1e-3, batch_size=8, latent_samples=2, probe_size=16, progress=False)


def test_gap_grows_over_training(tiny_manipulator):
    out, res = tiny_manipulator
    gaps = [h["gap"] for h in res.history]
    steps = [h["step"] for h in res.history]
    assert steps == [0, 5, 10, 15, 20, 25, 30]
    assert res.history[0]["max_abs_perturbation"] == 0.0  # m ≡ 0 at step 0
    assert gaps[-1] - gaps[0] > 0
    assert spearmanr(steps, gaps).statistic > 0.5
    # the growth is m's doing, not only the decoders' fine-tuning: the same decoders on the original
    # images (m ≡ 0) show a smaller gap
    assert res.record.training["gap_final"] > res.record.training["gap_final_without_m"]
    for h in res.history:
        assert h["gap"] == pytest.approx(h["l_dis"] - h["l_ent"], abs=1e-9)
        assert h["max_abs_perturbation"] <= 0.1 + 1e-7
    # the log on disk is the history; the record holds the summary
    lines = [json.loads(s) for s in (out / "log.jsonl").read_text().splitlines()]
    assert [h["gap"] for h in lines] == gaps
    model, record = load_manipulator(out)
    assert record.eps == 0.1 and record.training["steps"] == 30
    assert record.training["gap_final"] == gaps[-1]
    for a, b in zip(model.state_dict().values(), res.manipulator.state_dict().values()):
        assert torch.equal(a, b)


def test_resume_is_bit_exact(tiny_runs, tmp_path):
    import perturb_tiny

    ds = perturb_tiny.TinyBars()
    dis, ent = tiny_runs["bvae"][0], tiny_runs["bvae"][2]
    full = train_manipulator(dis, ent, eps=0.1, steps=4, dataset=ds, out=tmp_path / "a", log_every=1,
                             checkpoint_every=1, **OPTS)
    train_manipulator(dis, ent, eps=0.1, steps=2, dataset=ds, out=tmp_path / "b", log_every=1,
                      checkpoint_every=1, **OPTS)
    resumed = train_manipulator(dis, ent, eps=0.1, steps=4, dataset=ds, out=tmp_path / "b", log_every=1,
                                checkpoint_every=1, **OPTS)
    for (k, a), b in zip(full.manipulator.state_dict().items(), resumed.manipulator.state_dict().values()):
        assert torch.equal(a, b), k
    strip = [{k: v for k, v in h.items() if k != "wall_s"} for h in full.history]
    assert strip == [{k: v for k, v in h.items() if k != "wall_s"} for h in resumed.history]
    assert full.record.sha256 == resumed.record.sha256
    with pytest.raises(ValueError, match="other settings.*seed"):
        train_manipulator(dis, ent, eps=0.1, steps=5, dataset=ds, out=tmp_path / "b", seed=1, **OPTS)
    with pytest.raises(FileExistsError, match="resume=True"):
        train_manipulator(dis, ent, eps=0.1, steps=5, dataset=ds, out=tmp_path / "b", resume=False, **OPTS)


def test_training_bad_input(tiny_runs, tmp_path):
    import perturb_tiny

    ds = perturb_tiny.TinyBars()
    dis = tiny_runs["bvae"][0]
    with pytest.raises(ValueError, match="β-VAEs"):
        train_manipulator(dis, tiny_runs["ae"], eps=0.1, steps=1, dataset=ds, **OPTS)
    with pytest.raises(ValueError, match="eps"):
        train_manipulator(dis, tiny_runs["bvae"][1], eps=1.5, steps=1, dataset=ds, **OPTS)
    with pytest.raises(ValueError, match="loss"):
        train_manipulator(dis, tiny_runs["bvae"][1], eps=0.1, steps=1, dataset=ds, loss="l1", **OPTS)
    with pytest.raises(ValueError, match="m_lr"):
        train_manipulator(dis, tiny_runs["bvae"][1], eps=0.1, steps=1, dataset=ds, m_lr=-1.0, **OPTS)
    with pytest.raises(ValueError, match="unknown option 'step_size'"):
        train_manipulator(dis, tiny_runs["bvae"][1], eps=0.1, steps=1, dataset=ds, step_size=3)
    with pytest.raises(ValueError, match="dis must name"):
        train_manipulator([], tiny_runs["bvae"][1], eps=0.1, steps=1, dataset=ds, **OPTS)


def test_l2_loss_and_ensembles_run(tiny_runs):
    import perturb_tiny

    runs = tiny_runs["bvae"]
    res = train_manipulator(runs[:2], runs[1:], eps=0.1, steps=2, dataset=perturb_tiny.TinyBars(), loss="l2",
                            log_every=1, **OPTS)
    assert res.record.training["loss"] == "l2"
    assert len(res.record.training["disentangled"]) == 2 and res.dir is None
    assert all(h["l_ent"] > 0 and h["l_dis"] > 0 for h in res.history)
