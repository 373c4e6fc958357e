"""Seeds trained as one stacked model (``vaecore.train_seeds``) against separate runs."""

import json

import numpy as np
import pytest
import torch

from vaecore.cli import main
from vaecore.training import ArrayDataset, TrainConfig, load_run, train
from vaecore.training.batched import group_by_seed, seed_folders, train_seeds


def _data(n=1200, d=6, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    x = np.tanh(z @ rng.normal(size=(2, d))) + 0.05 * rng.normal(size=(n, d))
    return ArrayDataset(x.astype(np.float32), z)


def _config(**kw):
    base = dict(dataset="synth-nonlin", model="beta-vae", beta=1e-2, architecture="mlp", latent_dim=2,
                encoder_hidden=(16, 8), decoder_hidden=(8, 16), activation="tanh", batch_size=64,
                lr=3e-3, steps=100, log_every=1, probe_size=64, monitor_every=50, threads=1)
    base.update(kw)
    return TrainConfig(**base)


def _terms(run):
    names = [k for k in run.history[0] if k != "step"]
    return np.array([[h[k] for k in names] for h in run.history])


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"model": "ae", "architecture": "linear", "optimizer": "adagrad", "lr": 1e-2},
        {"model": "vae", "optimizer": "sgd", "lr": 1e-2, "optimizer_options": {"momentum": 0.9}},
    ],
    ids=["beta-vae-mlp-adam", "ae-linear-adagrad", "vae-mlp-sgd-momentum"],
)
def test_first_100_steps_equal_separate_runs(kw):
    ds, cfg = _data(), _config(**kw)
    runs = train_seeds(cfg, [0, 1, 2], progress=False, dataset=ds)
    for seed, run in zip([0, 1, 2], runs):
        alone = train(cfg.replace(seed=seed), progress=False, dataset=ds)
        assert run.config.seed == seed and run.step == alone.step == 100
        np.testing.assert_allclose(_terms(run), _terms(alone), rtol=1e-5, atol=1e-7)
        for p, q in zip(run.model.parameters(), alone.model.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)
    # the seeds really differ (own initialisation, batches and noise)
    assert not np.allclose(_terms(runs[0]), _terms(runs[1]))


@pytest.mark.slow
def test_final_metrics_within_seed_spread_of_separate_runs():
    ds, cfg = _data(n=3000), _config(steps=400, log_every=50, monitor_every=200)
    seeds = [0, 1, 2]
    batched = train_seeds(cfg, seeds, progress=False, dataset=ds)
    alone = [train(cfg.replace(seed=s), progress=False, dataset=ds) for s in seeds]
    test = ds.split(0)[2]
    x = ds.observations_at(test)

    def test_loss(run):
        with torch.no_grad():
            return float(run.model.losses(torch.from_numpy(x), torch.Generator().manual_seed(5))["loss"])

    sep = np.array([test_loss(r) for r in alone])
    bat = np.array([test_loss(r) for r in batched])
    lo, hi = sep.min(), sep.max()
    slack = 0.05 * (hi - lo) + 1e-6
    assert np.all((bat >= lo - slack) & (bat <= hi + slack)), (bat, sep)
    assert abs(bat.mean() - sep.mean()) <= 0.05 * sep.std() + 1e-5
    for r, s in zip(batched, alone):
        assert r.polarized["fraction_polarized"] == s.polarized["fraction_polarized"]


def test_resume_batched_and_per_seed(tmp_path):
    ds = _data()
    cfg = _config(steps=60, log_every=10, checkpoint_every=30)
    full = train_seeds(cfg, [3, 4], out=tmp_path / "full", progress=False, dataset=ds)
    half = train_seeds(cfg.replace(steps=30), [3, 4], out=tmp_path / "half", progress=False, dataset=ds)
    assert [r.step for r in half] == [30, 30]
    resumed = train_seeds(cfg, [3, 4], out=tmp_path / "half", progress=False, dataset=ds)
    for a, b in zip(full, resumed):
        assert a.history == b.history  # bit-exact: optimizer state split and re-stacked exactly
        for p, q in zip(a.model.parameters(), b.model.parameters()):
            assert torch.equal(p, q)
    # every seed folder is a normal run folder: load_run, and resume alone with train()
    loaded = load_run(tmp_path / "full" / "seed-4")
    assert loaded.config.seed == 4 and loaded.step == 60
    for p, q in zip(loaded.model.parameters(), full[1].model.parameters()):
        assert torch.equal(p, q)
    alone = train(cfg.replace(seed=3, steps=90), out=tmp_path / "full" / "seed-3", progress=False, dataset=ds)
    again = train_seeds(cfg.replace(steps=90), [3], out=tmp_path / "g", progress=False, dataset=ds)[0]
    np.testing.assert_allclose(_terms(alone), _terms(again), rtol=1e-5)
    assert json.loads((tmp_path / "full" / "seed-3" / "run.json").read_text())["status"] == "finished"


def test_out_folders_and_bad_seeds(tmp_path):
    assert seed_folders(tmp_path, [0, 2]) == [tmp_path / "seed-0", tmp_path / "seed-2"]
    assert seed_folders(str(tmp_path / "r{seed}x"), [7]) == [tmp_path / "r7x"]
    assert seed_folders(None, [1, 2]) == [None, None]
    with pytest.raises(ValueError, match="one folder per seed"):
        seed_folders([tmp_path], [0, 1])
    cfg = _config(steps=2)
    with pytest.raises(ValueError, match="distinct"):
        train_seeds(cfg, [1, 1], dataset=_data())
    with pytest.raises(TypeError, match="non-empty list"):
        train_seeds(cfg, [], dataset=_data())
    with pytest.raises(ValueError, match="ints >= 0"):
        train_seeds(cfg, [0, -1], dataset=_data())


def test_unstackable_configs_train_one_by_one():
    ds = _data()
    cfg = _config(model="beta-tcvae", steps=5)
    runs = train_seeds(cfg, [0, 1], progress=False, dataset=ds)
    alone = train(cfg.replace(seed=1), progress=False, dataset=ds)
    assert runs[1].history == alone.history


def test_group_by_seed():
    a = _config()
    configs = [a, a.replace(seed=1), a.replace(beta=0.5), a.replace(seed=2), a.replace(seed=1),
               a.replace(model="beta-tcvae", seed=3), a.replace(model="beta-tcvae", seed=4), a.replace(beta=0.5, seed=9)]
    assert group_by_seed(configs) == [[0, 1, 3], [2, 7], [4], [5], [6]]
    assert group_by_seed([a.to_dict()]) == [[0]]


def test_nan_stops_only_its_seed(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 6)).astype(np.float32)
    ds = ArrayDataset(x)
    ds._obs[:50] = np.nan  # some batches of some seeds hit NaN rows (bypassing the constructor's check)
    cfg = _config(model="ae", steps=40, checkpoint_every=5, log_every=5)  # the AE has no monitor
    from vaecore.training import NonFiniteLossError

    with pytest.raises(NonFiniteLossError, match="seed"):
        train_seeds(cfg, [0, 1, 2], out=tmp_path, progress=False, dataset=ds)
    status = [json.loads((tmp_path / f"seed-{s}" / "run.json").read_text())["status"] for s in range(3)]
    assert "failed" in status
    for s, st in enumerate(status):  # each seed fails exactly when its separate run does
        try:
            train(cfg.replace(seed=s), progress=False, dataset=ds)
            alone = "finished"
        except NonFiniteLossError:
            alone = "failed"
        assert st == alone


def test_cli_seeds(tmp_path, capsys):
    rc = main(["train", "--dataset", "synth-nonlin", "--seeds", "0,1", "--steps", "3", "--out", str(tmp_path),
               "--quiet", "--set", "probe_size=16"])
    assert rc == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [line["out"] for line in lines] == [str(tmp_path / "seed-0"), str(tmp_path / "seed-1")]
    assert load_run(tmp_path / "seed-1").config.seed == 1
