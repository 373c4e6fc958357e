"""PCL and the weak GAN on the registry and the shared loop (issue 12, items 4–5; SPEC-ch4 §4–§5):
options in configs, the loop's hooks (train_step, after_step, draw, check_dataset), bit-exact
resume (pair sampler, batch-norm statistics, spectral-norm vectors, the GAN's three optimizers),
presets and evaluation. Tiny MLPs on the dSprites posX × posY sub-grid (1,024 images)."""

import math

import numpy as np
import pytest
import torch

from vaecore import datasets, evaluate
from vaecore.models.pcl import PCL
from vaecore.models.weak_gan import WeakGAN
from vaecore.training import TrainConfig, load_run, train
from vaecore.training.parts import TrainingParts
from vaecore.training.run import make_model

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def grid():
    return datasets.subgrid(datasets.load("dsprites"), fixed={"shape": 0, "scale": 5, "orientation": 0})


def _cfg(model, **kw):
    base = dict(dataset="grid", model=model, architecture="mlp", encoder_hidden=(16,), decoder_hidden=(16,),
                latent_dim=2, batch_size=8, steps=6, log_every=2, checkpoint_every=3, probe_size=32,
                lr=1e-3, init="glorot")
    if model == "weak-gan":
        base["discriminator_hidden"] = (16,)
    base.update(kw)
    return TrainConfig.from_flat(base)


def _assert_same_tensors(a, b, where):
    assert a.keys() == b.keys(), where
    for k in a:
        if torch.is_tensor(a[k]):
            assert torch.equal(a[k], b[k]), (where, k)
        elif isinstance(a[k], dict):
            _assert_same_tensors(a[k], b[k], f"{where}.{k}")
        elif isinstance(a[k], list):
            for i, (x, y) in enumerate(zip(a[k], b[k])):
                _assert_same_tensors(x, y, f"{where}.{k}[{i}]") if isinstance(x, dict) else None
            assert len(a[k]) == len(b[k]), (where, k)
        else:
            assert a[k] == b[k], (where, k)


@pytest.mark.parametrize("model, extra", [("pcl", {}), ("pcl", {"negatives": "batch"}),
                                          ("weak-gan", {}), ("weak-gan", {"pair_kind": "change"})])
def test_resume_is_bit_exact(tmp_path, grid, model, extra):
    """N steps + resume N steps = 2N steps: weights, buffers (BN statistics, spectral-norm
    vectors), every optimizer's state, the pair sampler and the history, exactly."""
    cfg = _cfg(model, **extra)
    train(cfg, out=tmp_path / "a", progress=False, dataset=grid)
    resumed = train(cfg.replace(steps=12), out=tmp_path / "a", progress=False, dataset=grid)
    straight = train(cfg.replace(steps=12), out=tmp_path / "b", progress=False, dataset=grid)
    _assert_same_tensors(resumed.model.state_dict(), straight.model.state_dict(), "model")
    assert resumed.history == straight.history and len(straight.history) == 6
    ca, cb = (torch.load(tmp_path / d / "checkpoint.pt", weights_only=True) for d in ("a", "b"))
    _assert_same_tensors(ca["optimizers"], cb["optimizers"], "optimizers")
    assert ca["sampler"] == cb["sampler"]
    kind = "laplace" if model == "pcl" else extra.get("pair_kind", "share")
    assert ca["sampler"]["pairs"]["kind"] == kind
    buffers = dict(straight.model.named_buffers())
    if model == "pcl":
        assert set(ca["optimizers"]) == {"main"}
        assert int(buffers["bn.num_batches_tracked"]) == 12
    else:
        assert set(ca["optimizers"]) == {"discriminator", "encoder", "generator"}
        assert all(int(s["state"][0]["step"]) == 12 for s in ca["optimizers"].values())
        assert any("parametrizations" in k for k in buffers)  # spectral-norm state is checkpointed


def test_pcl_loop_clamps_a_after_each_step(grid):
    parts = TrainingParts.build(_cfg("pcl"), grid, torch.device("cpu"))
    assert isinstance(parts.model, PCL) and parts.sampler.draw is not None
    with torch.no_grad():
        parts.model.a.fill_(-5.0)
    batch = parts.sampler.next()
    assert batch.x_star is not None and batch.x_star.shape == batch.x1.shape  # grid negatives
    parts.update(parts.model.losses(batch, parts.noise))
    assert parts.model.a.item() == 0.0


def test_weak_gan_three_players_and_no_glorot_pass(grid):
    parts = TrainingParts.build(_cfg("weak-gan"), grid, torch.device("cpu"))
    assert isinstance(parts.model, WeakGAN) and set(parts.optimizers) == {"discriminator", "encoder", "generator"}
    for opt in parts.optimizers.values():
        g = opt.param_groups[0]
        assert (type(opt), g["lr"], g["betas"], g["eps"]) == (torch.optim.Adam, 1e-3, (0.5, 0.999), 1e-8)
    before = {k: v.clone() for k, v in parts.model.state_dict().items()}
    terms = parts.step()  # the whole alternating update happens here
    assert set(terms) == {"loss", "dis_loss", "enc_loss", "gen_loss"}
    assert all(math.isfinite(t.item()) for t in terms.values())
    after = parts.model.state_dict()
    parts.update(terms)  # a no-op for a model that steps itself
    for player in ("generator", "discriminator", "encoder"):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(player)), player
    # init = "glorot" leaves the self-initialised nets alone (same weights as init = "torch")
    a, b = (make_model(_cfg("weak-gan", init=i), (1, 64, 64), "bernoulli").state_dict() for i in ("glorot", "torch"))
    _assert_same_tensors(a, b, "weak-gan init")


def test_config_options_and_errors(grid, tmp_path):
    c = _cfg("weak-gan", pair_kind="change", adam_lr=2e-4)
    assert c.resolved_pairing == "change" and c.adam_lr == 2e-4 and c.discriminator_hidden == (16,)
    assert TrainConfig.from_dict(c.to_dict()) == c
    p = _cfg("pcl", negatives="batch", bn_momentum=0.5)
    assert (p.resolved_pairing, p.negatives, p.bn_momentum) == ("laplace", "batch", 0.5)
    assert TrainConfig.from_dict(p.to_dict()) == p
    with pytest.raises(ValueError, match=r"pairing must be None or the model option pair_kind 'share'"):
        _cfg("weak-gan", pairing="change")
    with pytest.raises(ValueError, match=r"pair_kind must be one of \('share', 'change'\); got 'laplace'"):
        _cfg("weak-gan", pair_kind="laplace")
    with pytest.raises(ValueError, match=r"bn_momentum must be > 0; got 0"):
        _cfg("pcl", bn_momentum=0)
    with pytest.raises(ValueError, match=r"negatives must be one of"):
        _cfg("pcl", negatives="shuffle")
    with pytest.raises(ValueError, match=r"pcl needs an architecture of \('conv', 'mlp'\); got 'linear'"):
        _cfg("pcl", architecture="linear")
    with pytest.raises(ValueError, match=r"weak-gan: latent_dim must equal the number of factors .*got latent_dim=3"):
        train(_cfg("weak-gan", latent_dim=3), progress=False, dataset=grid)
    with pytest.raises(ValueError, match=r"beta-vae has no option 'adam_lr'"):
        TrainConfig.from_dict({"model": "beta-vae", "adam_lr": 1e-3})


def test_chapter4_presets_for_pcl_and_weak_gan():
    for preset, d in (("dsprites-ch4", 5), ("shapes3d", 6)):
        p = TrainConfig.preset(preset, scale="thesis", model="pcl")
        assert (p.lr, p.optimizer, p.init, p.architecture, p.latent_dim, p.steps) == (1e-4, "adam", "glorot", "conv", d, 300_000)
        assert (p.resolved_pairing, p.negatives) == ("laplace", "grid")
        g = TrainConfig.preset(preset, scale="thesis", model="weak-gan")
        assert (g.adam_lr, g.adam_beta1, g.adam_beta2, g.adam_eps) == (1e-3, 0.5, 0.999, 1e-8)
        assert (g.steps, g.batch_size, g.latent_dim, g.resolved_pairing) == (500_000, 64, d, "share")
    q = TrainConfig.preset("shapes3d", model="weak-gan")
    assert (q.dataset, q.latent_dim, q.steps) == ("subgrid", 3, 1200)
    # the conv nets build at the preset's sizes (observation (3, 64, 64), 3 free factors)
    m = make_model(q, (3, 64, 64), "bernoulli")
    x = torch.rand(2, 3, 64, 64)
    assert m.represent(x).shape == (2, 3)
    assert make_model(TrainConfig.preset("shapes3d", model="pcl"), (3, 64, 64), "bernoulli").represent(x).shape == (2, 3)


@pytest.mark.slow  # ~8 s each (the metrics' sampling and LightGBM's trees)
@pytest.mark.parametrize("model", ["pcl", "weak-gan"])
def test_evaluate_runs_the_disentanglement_metrics(grid, tmp_path, model):
    run = train(_cfg(model), out=tmp_path / model, progress=False, dataset=grid)
    loaded = load_run(tmp_path / model)
    probe = grid.observations_at(np.arange(20))
    assert np.array_equal(loaded.represent(probe), run.represent(probe))  # h / the encoder mean
    res = evaluate(run, ["mig", "dci", "sap", "factor_vae", "dto"], n_points=300, errors="record",
                   options={"dci": {"estimator": "lightgbm"}})  # sklearn's trees: ~35 s here
    for name in ("mig", "dci", "sap", "factor_vae"):
        assert math.isfinite(res[name]["value"]) and 0.0 <= res[name]["value"] <= 1.0, (model, name, res[name])
    assert "no" in res["dto"]["error"] and "decoder" in res["dto"]["error"]
