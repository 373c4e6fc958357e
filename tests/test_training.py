"""The training loop: configs, presets, history, monitor, checkpoints, resume, determinism."""

import json

import numpy as np
import pytest
import torch

from vaecore.training import ArrayDataset, NonFiniteLossError, TrainConfig, load_run, train
from vaecore.training.checkpoint import load_checkpoint
from vaecore.training.monitor import fraction_polarized
from vaecore.training.run import make_model


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _toy(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    v = rng.uniform(0, 1, (n, 2))
    M = np.array([[1.5, -0.6], [1.3, 0.7], [0.0, 0.5]])
    return ArrayDataset(v @ M.T, v)


def _cfg(**kw):
    base = dict(
        dataset="toy", model="beta-vae", architecture="mlp", encoder_hidden=(8,),
        decoder_hidden=(8,), activation="tanh", latent_dim=2, beta=0.01, lr=1e-2, batch_size=32,
        steps=120, log_every=25, monitor_every=40, checkpoint_every=50, probe_size=200,
        discriminator_hidden=(16, 16),
    )
    base.update(kw)
    return TrainConfig(**base)


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize("model", ["beta-vae", "factor-vae", "beta-vae-sigma"])
def test_resume_is_bit_exact(tmp_path, model):
    ds = _toy()
    cfg = _cfg(model=model, steps=70)
    train(cfg, out=tmp_path / "a", progress=False, dataset=ds)
    resumed = train(cfg.replace(steps=140), out=tmp_path / "a", progress=False, dataset=ds)
    straight = train(cfg.replace(steps=140), out=tmp_path / "b", progress=False, dataset=ds)
    assert resumed.step == straight.step == 140
    _assert_same(_state(resumed.model), _state(straight.model))
    ca, cb = load_checkpoint(tmp_path / "a" / "checkpoint.pt"), load_checkpoint(tmp_path / "b" / "checkpoint.pt")
    for name in ca["optimizers"]:
        sa, sb = ca["optimizers"][name]["state"], cb["optimizers"][name]["state"]
        for i in sa:
            for key in sa[i]:
                assert torch.equal(torch.as_tensor(sa[i][key]), torch.as_tensor(sb[i][key]))
    assert torch.equal(ca["noise"], cb["noise"])
    # the first run's final record (step 70) is extra; every common record is identical
    by_step = {r["step"]: r for r in resumed.monitor}
    for rec in straight.monitor:
        assert by_step[rec["step"]] == rec


def test_same_seed_same_result_and_seed_matters():
    ds = _toy()
    a = train(_cfg(), progress=False, dataset=ds)
    b = train(_cfg(), progress=False, dataset=ds)
    c = train(_cfg(seed=1), progress=False, dataset=ds)
    _assert_same(_state(a.model), _state(b.model))
    assert a.history == b.history
    assert not torch.equal(a.model.decoder.net[0][0].weight, c.model.decoder.net[0][0].weight)


def test_global_rng_untouched():
    torch.manual_seed(7)
    before = torch.get_rng_state()
    train(_cfg(steps=5), progress=False, dataset=_toy())
    assert torch.equal(before, torch.get_rng_state())


def test_history_monitor_and_polarized_summary():
    run = train(_cfg(steps=120), progress=False, dataset=_toy())
    assert [h["step"] for h in run.history] == [25, 50, 75, 100, 120]
    assert set(run.history[0]) == {"step", "loss", "recon", "kl"}
    assert run.history[-1]["loss"] < run.history[0]["loss"]
    assert [r["step"] for r in run.monitor] == [0, 40, 80, 120]
    rec = run.monitor[-1]
    assert {"kl", "kl_approx", "delta_kl", "active", "sqrt_var_mu", "mean_var", "active_units"} <= set(rec)
    assert len(rec["sqrt_var_mu"]) == 2
    assert "fraction_polarized" in run.polarized and run.polarized["step"] == 120
    assert 0.0 <= run.polarized["fraction_polarized"] <= 1.0


def test_fraction_polarized_definition():
    recs = [{"step": s, "delta_kl": d} for s, d in [(0, 0.5), (500, 0.01), (1000, 0.2), (1500, 0.02), (2000, 0.01)]]
    assert fraction_polarized(recs, 2000) == pytest.approx(0.25)
    assert fraction_polarized(recs[:2], 500) == 0.0  # good only from the last record on
    assert fraction_polarized([{"step": 0, "delta_kl": 0.01}, {"step": 10, "delta_kl": 0.0}], 10) == 1.0
    assert fraction_polarized([{"step": 0, "delta_kl": 0.01}, {"step": 10, "delta_kl": 0.5}], 10) == 0.0
    assert fraction_polarized([], 10) is None


def test_steps_zero_is_the_untrained_model(tmp_path):
    cfg = _cfg(steps=0)
    run = train(cfg, out=tmp_path / "r", progress=False, dataset=_toy())
    init = make_model(cfg, (3,), "gaussian")
    _assert_same(_state(run.model), _state(init))
    assert run.step == 0 and run.history == []
    assert run.polarized["fraction_polarized"] is None
    assert (tmp_path / "r" / "checkpoint.pt").is_file()


def test_epochs_set_the_number_of_steps():
    run = train(_cfg(steps=None, epochs=2, batch_size=100), progress=False, dataset=_toy(1000))
    assert run.step == 2 * (800 // 100)


def test_run_folder_and_load_run(tmp_path):
    ds = _toy()
    run = train(_cfg(), out=tmp_path / "r", progress=False, dataset=ds)
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert info["status"] == "finished" and info["step"] == 120
    assert TrainConfig.from_json(tmp_path / "r" / "config.json") == run.config
    ckpt = torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 120
    loaded = load_run(tmp_path / "r")
    x = ds.observations_at(np.arange(50))
    np.testing.assert_array_equal(loaded.model.represent(x), run.model.represent(x))
    assert loaded.history == run.history and loaded.step == 120
    assert loaded.polarized["fraction_polarized"] == run.polarized["fraction_polarized"]
    again = train(_cfg(), out=tmp_path / "r", progress=False, dataset=ds)  # finished: returned as is
    _assert_same(_state(again.model), _state(run.model))


def test_checkpoint_of_another_layout_is_refused_with_the_folder(tmp_path):
    # a β-VAE-Σ run written when the encoder emitted k + k(k+1)/2 values (now k + k²)
    ds = _toy()
    train(_cfg(model="beta-vae-sigma", steps=10), out=tmp_path / "r", progress=False, dataset=ds)
    path = tmp_path / "r" / "checkpoint.pt"
    ckpt = load_checkpoint(path)
    last = [k for k in ckpt["model"] if k.startswith("encoder") and k.endswith("weight")][-1]
    ckpt["model"][last] = ckpt["model"][last][:-1]
    torch.save(ckpt, path)
    expected = rf"the checkpoint in '{tmp_path / 'r'}' does not fit the 'beta-vae-sigma' model its config builds \(size mismatch"
    with pytest.raises(ValueError, match=expected):
        load_run(tmp_path / "r")
    with pytest.raises(ValueError, match=r"retrain the run"):  # resuming it
        train(_cfg(model="beta-vae-sigma", steps=20), out=tmp_path / "r", progress=False, dataset=ds)


def test_existing_folder_guards(tmp_path):
    ds = _toy()
    train(_cfg(steps=10), out=tmp_path / "r", progress=False, dataset=ds)
    with pytest.raises(FileExistsError, match="already holds a run"):
        train(_cfg(steps=10), out=tmp_path / "r", resume=False, progress=False, dataset=ds)
    with pytest.raises(ValueError, match=r"made with beta=0.01, this config has beta=0.1"):
        train(_cfg(steps=10, beta=0.1), out=tmp_path / "r", progress=False, dataset=ds)
    with pytest.raises(ValueError, match="beyond the 5 steps"):
        train(_cfg(steps=5), out=tmp_path / "r", progress=False, dataset=ds)
    run = train(_cfg(steps=10, beta=0.1), out=tmp_path / "r", resume=False, overwrite=True, progress=False, dataset=ds)
    assert run.config.beta == 0.1


def test_non_finite_loss_names_step_and_terms_and_keeps_checkpoint(tmp_path):
    cfg = _cfg(optimizer="sgd", lr=1e6, steps=200, checkpoint_every=1, monitor_every=1000)
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss at step (\d+) \(loss=.*, recon=.*, kl=.*\)"):
        train(cfg, out=tmp_path / "r", progress=False, dataset=_toy())
    ckpt = load_checkpoint(tmp_path / "r" / "checkpoint.pt")
    assert ckpt["step"] >= 1
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values())
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert info["status"] == "failed" and "NonFiniteLossError" in info["error"]


def test_ae_runs_without_monitor():
    run = train(_cfg(model="ae", steps=30), progress=False, dataset=_toy())
    assert run.monitor == [] and run.polarized == {"fraction_polarized": None}


# -- configs -------------------------------------------------------------------------------------

def test_config_roundtrip_dict_json_toml(tmp_path):
    cfg = TrainConfig.preset("synth-nonlin", scale="quick", seed=3)
    d = cfg.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert TrainConfig.from_dict(d) == cfg
    (tmp_path / "c.toml").write_text(
        'preset = "synth-lin"\nscale = "quick"\nmodel = "vae"\nsteps = 100\n'
    )
    t = TrainConfig.from_toml(tmp_path / "c.toml")
    assert t.model == "vae" and t.steps == 100 and t.architecture == "linear" and t.lr == 1e-2
    (tmp_path / "d.toml").write_text('[train]\ndataset = "synth-lin"\nlatent_dim = 2\nencoder_hidden = [4, 4]\n')
    assert TrainConfig.from_toml(tmp_path / "d.toml").encoder_hidden == (4, 4)


def test_presets_follow_table_3_1():
    d = TrainConfig.preset("dsprites", scale="thesis")
    assert (d.optimizer, d.lr, d.encoder_hidden, d.decoder_hidden, d.latent_dim, d.epochs, d.beta) == (
        "adagrad", 1e-2, (1200, 1200), (1200, 1200, 1200), 5, 50, 4.0
    )
    assert (d.encoder_activation, d.decoder_activation) == ("relu", "tanh")
    s = TrainConfig.preset("synth-lin", scale="thesis")
    assert (s.optimizer, s.lr, s.architecture, s.latent_dim, s.epochs, s.beta) == ("adam", 1e-3, "linear", 2, 600, 1e-4)
    n = TrainConfig.preset("synth-nonlin", scale="thesis")
    assert (n.encoder_hidden, n.decoder_hidden, n.activation, n.beta) == ((60, 40, 20), (20, 40, 60), "tanh", 1e-3)
    m = TrainConfig.preset("fmnist", scale="thesis")
    assert (m.dataset, m.encoder_hidden, m.decoder_hidden, m.latent_dim, m.epochs, m.beta) == (
        "fashion-mnist", (400,), (500, 500), 6, 500, 1.0
    )
    c = TrainConfig.preset("celeba", scale="thesis")
    assert (c.architecture, c.conv_kernels, c.latent_dim, c.lr) == ("conv", (4, 4, 4, 4), 32, 1e-4)
    q = TrainConfig.preset("synth-lin")
    assert (q.steps, q.epochs, q.lr, q.beta, q.batch_size) == (24_000, None, 1e-2, 1e-2, 256)
    assert TrainConfig.preset("dsprites", epochs=3).epochs == 3


@pytest.mark.parametrize(
    "kw, exc, match",
    [
        (dict(model="wae"), ValueError, r"model must be one of \('ae', 'vae', 'beta-vae', 'beta-vae-sigma', 'beta-tcvae', 'factor-vae', 'dip-vae-i', 'dip-vae-ii', 'linear-vae', .*\); got 'wae'"),
        (dict(beta=-1.0), ValueError, r"beta must be >= 0; got -1.0"),
        (dict(latent_dim=0), ValueError, r"latent_dim must be >= 1; got 0"),
        (dict(optimizer="lbfgs"), ValueError, r"optimizer must be one of \('adam', 'adamw', 'adagrad', 'sgd', 'rmsprop'\)"),
        (dict(steps=10, epochs=2), ValueError, "exactly one of steps and epochs"),
        (dict(latent_dim=2.5), TypeError, "latent_dim must be an int"),
        (dict(model="linear-vae"), ValueError, "needs architecture 'linear'"),
        (dict(conv_kernels=(4, 4)), ValueError, "conv_kernels must have 4 kernel sizes"),
    ],
)
def test_bad_configs(kw, exc, match):
    with pytest.raises(exc, match=match):
        _cfg(**kw)


def test_unknown_keys_list_valid_ones():
    with pytest.raises(ValueError, match=r"unknown key 'bta'; valid keys are dataset, dataset_options, model, beta"):
        TrainConfig.from_dict({"dataset": "synth-lin", "bta": 1})
    with pytest.raises(ValueError, match=r"unknown key 'bta'"):
        TrainConfig.preset("synth-lin", bta=1)
    with pytest.raises(ValueError, match=r"dataset must be one of \('dsprites', 'synth-lin'"):
        TrainConfig.preset("cifar")
    with pytest.raises(ValueError, match=r"scale must be one of \('quick', 'thesis'\)"):
        TrainConfig.preset("synth-lin", scale="huge")
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        train(42)
