"""vaecore.evaluate: the registry, built-in evaluators, and the train/evaluate CLI."""

import json

import numpy as np
import pytest
import torch

import vaecore
from vaecore.cli import main
from vaecore.evaluation import EVALUATORS, evaluate, register_evaluator
from vaecore.metrics import active_units, polarized_regime
from vaecore.training import ArrayDataset, TrainConfig, train



pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def toy_run():
    rng = np.random.default_rng(0)
    v = rng.uniform(0, 1, (3000, 2))
    Q, _ = np.linalg.qr(np.array([[1.5, -0.6], [1.3, 0.7], [0.0, 0.5]]))
    ds = ArrayDataset(v @ (Q * [3.0, 1.0]).T, v)  # orthogonal axes of lengths 3 and 1
    cfg = TrainConfig(
        dataset="toy", model="beta-vae", architecture="linear", latent_dim=2, beta=0.01, lr=3e-2,
        batch_size=128, steps=3000, monitor_every=500,
    )
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return train(cfg, progress=False, dataset=ds)
    finally:
        torch.set_num_threads(before)


def test_polarized_and_active_units_evaluators(toy_run):
    res = evaluate(toy_run, ["polarized", "active_units"])
    test = np.sort(toy_run.split()[2])
    x = torch.as_tensor(toy_run.dataset.observations_at(test))
    with torch.no_grad():
        mu, lv = toy_run.model.encode(x)
    expected = polarized_regime(mu.double(), lv.double())
    assert res["polarized"]["value"] == pytest.approx(expected.value, rel=1e-6)
    assert res["polarized"]["n_active"] == 2  # two factors, two latents
    assert res["active_units"]["value"] == active_units(lv.double()).value == 2


def test_registry_and_errors(toy_run):
    @register_evaluator("mean_code")
    def _mean_code(run, *, seed):
        return {"value": float(np.mean(run.model.represent(run.dataset.observations_at(np.arange(10)))))}

    try:
        out = evaluate(toy_run, ["mean_code"], seed=1)
        assert set(out) == {"mean_code"} and isinstance(out["mean_code"]["value"], float)

        @register_evaluator("broken")
        def _broken(run, *, seed):
            raise RuntimeError("boom")

        rec = evaluate(toy_run, ["mean_code", "broken"], errors="record")
        assert rec["broken"] == {"value": None, "error": "RuntimeError: boom"}
        with pytest.raises(RuntimeError, match="boom"):
            evaluate(toy_run, ["broken"])
    finally:
        EVALUATORS.pop("mean_code", None)
        EVALUATORS.pop("broken", None)
    with pytest.raises(ValueError, match=r"metrics must be among \(.*'ds'.*'dto'.*\); got 'mig2'"):
        evaluate(toy_run, ["mig2"])
    assert vaecore.evaluate is evaluate


def test_dto_of_a_disentangled_linear_run(toy_run):
    res = evaluate(toy_run, ["dto"], n_points=300)
    assert res["dto"]["n_active"] == 2 and res["dto"]["n_points"] == 300
    assert 0.0 <= res["dto"]["value"] < 0.2
    # the same number by hand: DtO of the decoder's (constant) Jacobian restricted to the
    # active latents
    from vaecore.metrics import dto

    W = toy_run.model.decoder.net[0][0].weight.detach().double()
    active = torch.as_tensor(res["dto"]["active"])
    expected = dto(W[:, active][None].numpy()).value
    assert res["dto"]["value"] == pytest.approx(expected, abs=1e-6)


def test_ds_of_a_disentangled_linear_run(toy_run):
    res = evaluate(toy_run, ["ds"])
    # (with a third, passive latent DS drops to ~0.6: kNN is scale-free, and the passive
    # latent's tiny but deterministic mean still encodes the factors)
    assert res["ds"]["value"] > 0.9 and res["ds"]["n_points"] == 300


def test_cli_train_and_evaluate(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main([
        "train", "--dataset", "synth-lin", "--model", "beta-vae", "--beta", "0.01", "--steps", "300",
        "--seed", "1", "--set", "dataset_options={\"n_samples\": 2000}", "--out", str(out), "--quiet",
    ])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["step"] == 300
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["beta"] == 0.01 and cfg["seed"] == 1 and cfg["architecture"] == "linear"
    rc = main(["evaluate", str(out), "--metrics", "polarized,active_units", "--json"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    assert set(res) == {"polarized", "active_units"} and "value" in res["polarized"]
    assert json.loads((out / "metrics.json").read_text())["active_units"] == res["active_units"]


def test_cli_train_errors(tmp_path, capsys):
    assert main(["train", "--dataset", "synth-lin", "--model", "wae", "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "model must be one of ('ae', 'vae'" in err
    assert main(["train", "--dataset", "synth-lin", "--set", "bta=1", "--out", str(tmp_path / "x")]) == 1
    assert "unknown key 'bta'" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "nothing")]) == 1
    assert "not a run folder" in capsys.readouterr().err


def _linear_run(v):
    """An untrained linear β-VAE (3 latents) on observations (v, 0) with its encoder zeroed: the
    caller sets μ by hand through the returned encoder layer (rows 0-2 μ, 3-5 log variances)."""
    ds = ArrayDataset(np.c_[v, np.zeros(len(v))], v)
    cfg = TrainConfig(dataset="toy", model="beta-vae", architecture="linear", latent_dim=3, steps=0)
    run = train(cfg, progress=False, dataset=ds)
    enc = next(m for m in run.model.encoder.modules() if isinstance(m, torch.nn.Linear))
    with torch.no_grad():
        enc.weight.zero_()
        enc.bias.zero_()
    return run, enc


@pytest.fixture(scope="module")
def passive_run():
    """An untrained linear β-VAE (3 latents) whose encoder is set by hand: μ = (3 v₁, 2 v₂, 0.1 v₁)
    for factors v uniform on [0, 1]² (std of μ ≈ 0.87, 0.58, 0.03: latents 0 and 1 active)."""
    run, enc = _linear_run(np.random.default_rng(1).uniform(0, 1, (600, 2)))
    with torch.no_grad():
        enc.weight[0, 0], enc.weight[1, 1], enc.weight[2, 0] = 3.0, 2.0, 0.1
        enc.bias[3:] = -4.0  # log variances
    return run


def _decoder_matrix(run):
    dec = next(m for m in run.model.decoder.modules() if isinstance(m, torch.nn.Linear))
    return dec.weight.detach().double().numpy()  # (observations, latents): the constant Jacobian


def test_dto_options_latents_and_points(passive_run):
    from vaecore.metrics import dto

    W = _decoder_matrix(passive_run)
    res = evaluate(passive_run, ["dto"], n_points=100)["dto"]
    assert res["active"] == [True, True, False] and res["n_active"] == 2
    assert res["n_active_directions"] == 2  # μ₀ and μ₂ are collinear: two directions, as axes
    assert res["points"] == "posterior" and res["latents"] == "active"
    assert res["value"] == pytest.approx(dto(W[None, :, :2]).value, abs=1e-9)

    every = evaluate(passive_run, ["dto"], n_points=100, options={"dto": {"latents": "all"}})["dto"]
    assert every["active"] == [True, True, True] and every["n_active"] == 3
    assert every["value"] == pytest.approx(dto(W[None]).value, abs=1e-9)
    assert every["value"] != pytest.approx(res["value"], abs=1e-3)

    # prior samples have unit spread: every latent is active; the linear decoder's Jacobian is
    # the same at every point, so the value equals the all-latent one
    prior = evaluate(passive_run, ["dto"], n_points=100, seed=3, options={"dto": {"points": "prior"}})["dto"]
    assert prior["points"] == "prior" and prior["n_points"] == 100 and prior["n_active"] == 3
    assert prior["value"] == pytest.approx(every["value"], abs=1e-9)


def test_dto_counts_oblique_directions():
    # μ = R₄₅ (4 v₁, 0.05 v₂, 0)ᵀ: one direction spread over two axes (std ≈ 0.82 each), so the
    # per-axis rule takes latents 0 and 1 while the codes span one direction; the count is the
    # same for any rotation of the codes
    v = np.random.default_rng(2).uniform(0, 1, (800, 2))
    run, enc = _linear_run(v)
    c = 1 / np.sqrt(2)
    with torch.no_grad():
        enc.weight[0, 0], enc.weight[0, 1] = 4 * c, -0.05 * c
        enc.weight[1, 0], enc.weight[1, 1] = 4 * c, 0.05 * c
    res = evaluate(run, ["dto"], n_points=200)["dto"]
    mu = 4 * c * v[:, 0]
    assert np.std(mu) == pytest.approx(0.82, abs=0.03)
    assert res["active"] == [True, True, False] and res["n_active"] == 2
    assert res["n_active_directions"] == 1
    with torch.no_grad():  # rotate the codes by another 45°: one axis, one direction
        enc.weight[0, 0], enc.weight[1, 0] = 4.0, 0.0
    turned = evaluate(run, ["dto"], n_points=200)["dto"]
    assert turned["n_active"] == 1 and turned["n_active_directions"] == 1
    prior = evaluate(run, ["dto"], n_points=300, options={"dto": {"points": "prior"}})["dto"]
    assert prior["n_active_directions"] == 3  # unit spread in every direction


def test_dto_prior_points_are_seeded_normal_samples():
    # a nonlinear untrained decoder: the DtO depends on where the Jacobians are taken
    from vaecore import jacobians
    from vaecore.metrics import dto

    rng = np.random.default_rng(0)
    ds = ArrayDataset(rng.normal(size=(500, 6)), rng.uniform(size=(500, 2)))
    cfg = TrainConfig(dataset="toy", model="beta-vae", architecture="mlp", latent_dim=3,
                      encoder_hidden=(16,), decoder_hidden=(16, 16), decoder_activation="tanh", steps=0)
    run = train(cfg, progress=False, dataset=ds)
    res = evaluate(run, ["dto"], n_points=50, seed=7, options={"dto": {"points": "prior"}})["dto"]
    z = torch.as_tensor(np.random.default_rng(7).standard_normal((50, 3)), dtype=torch.float32)
    expected = dto(jacobians(run.model.decoder, z, of="mean"))
    assert res["value"] == pytest.approx(expected.value, rel=1e-6)
    assert res["per_sample"] == pytest.approx(list(expected.per_sample), rel=1e-6)
    assert np.std(res["per_sample"]) > 0.01  # 50 different Jacobians


def test_dto_options_errors(passive_run):
    with pytest.raises(ValueError, match=r"dto: points must be one of \('posterior', 'prior'\); got 'data'"):
        evaluate(passive_run, ["dto"], options={"dto": {"points": "data"}})
    with pytest.raises(ValueError, match=r"dto: latents must be one of \('auto', 'active', 'all'\); got 'some'"):
        evaluate(passive_run, ["dto"], options={"dto": {"latents": "some"}})
    with pytest.raises(ValueError, match=r"options must name metrics among \('ds',\); got 'dto'"):
        evaluate(passive_run, ["ds"], options={"dto": {"points": "prior"}})
    with pytest.raises(ValueError, match=r"options\['dto'\] keys must be among \('points', 'latents'\); got 'seed'"):
        evaluate(passive_run, ["dto"], options={"dto": {"seed": 1}})
    with pytest.raises(TypeError, match=r"options\['dto'\] must be a mapping; got str"):
        evaluate(passive_run, ["dto"], options={"dto": "prior"})


def test_dto_latents_auto_follows_the_model(passive_run):
    """"auto" (the default) is the active-latent rule of vaecore.evaluation_options: every latent
    for a plain autoencoder, the active ones otherwise."""
    from vaecore.evaluation_options import DtoOptions

    auto = evaluate(passive_run, ["dto"], n_points=100)["dto"]
    assert auto["latents"] == "active" and auto["n_active"] == 2
    ae_config = passive_run.config.replace(model="ae")
    as_ae = type("AsAE", (), {"config": ae_config, "model": passive_run.model,
                              "dataset": passive_run.dataset, "split": passive_run.split})()
    res = evaluate(as_ae, ["dto"], n_points=100, options={"dto": DtoOptions()})["dto"]
    assert res["latents"] == "all" and res["n_active"] == 3


def test_dci_estimator_is_explicit_and_recorded(monkeypatch):
    """DCI uses sklearn unless told otherwise, LightGBM being installed or not, and the
    evaluator records the estimator beside the value."""
    import vaecore.metrics.on_model as on_model
    from vaecore.evaluation import EVALUATORS

    seen = []

    class Result:
        def as_dict(self):
            return {"value": 0.5}

    def fake_dci(*args, backend, seed):
        seen.append(backend)
        return Result()

    monkeypatch.setattr(on_model, "dci", fake_dci)
    monkeypatch.setattr(on_model, "_train_test", lambda *a, **k: (None, None, None, None))
    on_model.score_representation("dci", object(), lambda x: x)
    on_model.score_representation("dci", object(), lambda x: x, estimator="lightgbm")
    assert seen == ["sklearn", "lightgbm"]
    with pytest.raises(ValueError, match=r"estimator must be one of \('sklearn', 'lightgbm'\)"):
        on_model.score_representation("dci", object(), lambda x: x, estimator="auto")
    run = type("R", (), {"dataset": object(), "model": type("M", (), {"represent": staticmethod(lambda x: x)})()})()
    out = evaluate(run, ["dci"], options={"dci": {"estimator": "lightgbm"}})["dci"]
    assert out == {"value": 0.5, "estimator": "lightgbm"} and seen[-1] == "lightgbm"
    assert EVALUATORS["dci"](run, seed=0)["estimator"] == "sklearn"


def test_cli_evaluate_without_metrics_is_an_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:  # refused by argparse's type check, before any work
        main(["evaluate", str(tmp_path), "--metrics", ","])
    assert exc.value.code == 2
    assert "--metrics: expected comma-separated metric names such as dto,ds; got ','" in capsys.readouterr().err


def test_disentanglement_lib_scores_are_evaluators(tmp_path):
    """Modularity/Explicitness, IRS and the unsupervised scores run through vaecore.evaluate and
    equal the array functions on the same sampled codes."""
    from vaecore.metrics import irs, modularity_explicitness, sample_codes, unsupervised_scores
    from vaecore.metrics.on_model import SIZES

    toy_run = train(TrainConfig.preset("dsprites", steps=3, latent_dim=3), out=tmp_path, progress=False)
    out = evaluate(toy_run, ["modularity_explicitness", "irs", "unsupervised"], seed=1, n_points=2000)
    sizes = SIZES[True]
    n = sizes["num_train"] + sizes["num_test"]
    codes, factors = sample_codes(toy_run.dataset, toy_run.model.represent, n, seed=1)
    k = sizes["num_train"]
    want = modularity_explicitness(codes[:k], factors[:k], codes[k:], factors[k:])
    assert out["modularity_explicitness"]["value"] == pytest.approx(want.value, abs=1e-12)
    want_irs = irs(*sample_codes(toy_run.dataset, toy_run.model.represent, k, seed=1))
    assert out["irs"]["value"] == pytest.approx(want_irs.value, abs=1e-12)
    u = out["unsupervised"]
    assert u["n_points"] == 2000 and np.isfinite(u["gaussian_total_correlation"])
    assert set(unsupervised_scores(codes).as_dict()) <= set(u)
