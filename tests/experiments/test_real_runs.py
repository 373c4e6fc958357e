"""End to end with the real training and evaluation."""

from __future__ import annotations

import pytest

from vaecore.cli import main
from vaecore.experiments import ResultsStore, execute_one

TINY = """
[experiment]
name = "tiny-real"
title = "Tiny real sweep"
runner = "train"
metrics = ["dto", "ds"]

[report]
table = "tiny-real"

[defaults]
dataset = "synth-lin"
dataset_options = { n_samples = 2000 }
model = "beta-vae"

[[variants]]
variant = "beta-vae"

[[variants]]
variant = "random-decoder"
steps = 0

[scales.quick]
seeds = 1
defaults = { steps = 150, batch_size = 128, monitor_every = 50 }
"""


def one_run(metrics=("dto", "ds"), seed=0, **params):
    from vaecore.experiments import ExperimentSpec

    spec = ExperimentSpec.from_dict({
        "experiment": {"name": "one", "metrics": list(metrics)},
        "defaults": {"dataset": "synth-lin", "dataset_options": {"n_samples": 2000}, **params},
        "variants": [{"variant": "a"}],
    })
    return spec.expand(scale="quick", seeds=[seed])[0]


def test_train_runner_random_decoder_is_untrained():
    from vaecore.experiments import make_task

    res = execute_one(make_task(one_run(steps=0), None))
    assert res["status"] == "done", res.get("error")
    m = res["metrics"]
    assert m["steps"] == 0
    assert 0.0 <= m["ds"] <= 1.0 and m["dto"] >= 0.0


def test_train_runner_dto_options():
    from vaecore.experiments.runfns import train_run
    from vaecore.experiments.shipped import load_experiment

    prior = train_run(one_run(["dto"], dataset="synth-nonlin", steps=0, dto_points="prior"))
    assert prior["dto_active"] == 2 and prior["steps"] == 0  # prior samples: every latent
    assert prior["dto_directions"] == 2
    posterior = train_run(one_run(["dto"], dataset="synth-nonlin", steps=0))
    assert posterior["dto"] != pytest.approx(prior["dto"], abs=1e-6)
    with pytest.raises(ValueError, match=r"dto: points must be one of \('posterior', 'prior'\); got 'x'"):
        one_run(["dto"], dto_points="x")
    # a config may set them per variant (the dSprites random decoder does)
    spec = load_experiment("table-3.3-dsprites")
    rd = [r for r in spec.expand(seeds=1) if r.group["variant"] == "random-decoder"][0]
    assert rd.evaluation["dto"].points == "prior" and rd.train["steps"] == 0


def test_cli_sweep_report_and_traversal_with_real_training(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "out"
    assert main(["sweep", str(cfg), "--quick", "--out", str(out)]) == 0
    with ResultsStore(out) as store:
        runs = store.runs(status="done")
        assert len(runs) == 2
        trained = [r for r in runs if r.config["group"]["variant"] == "beta-vae"][0]
        assert trained.metrics["steps"] == 150
        assert set(trained.metrics) >= {"dto", "ds"}
    assert main(["report", str(out), "--no-figures"]) == 0
    assert "| synth-lin | DtO ↓ |" in capsys.readouterr().out
    assert main(["plot", "traversal", trained.artifacts, "--latents", "0,1", "--steps", "3",
                 "--n-samples", "50", "--out", str(tmp_path / "trav")]) == 0
    assert (tmp_path / "trav.png").stat().st_size > 1000 and (tmp_path / "trav.pdf").is_file()
    assert main(["plot", "eigenfaces", trained.artifacts, "--k", "2", "--n-samples", "50",
                 "--out", str(tmp_path / "eig")]) == 0
    assert (tmp_path / "eig.png").stat().st_size > 1000
    assert main(["plot", "traversal", trained.artifacts, "--latents", "0,0"]) == 1
    assert "two distinct indices" in capsys.readouterr().err


def test_tune_beta_cli_real_training(capsys):
    # Synth. Lin. (latent dim 2): a large enough β collapses a latent (E σ² → 1)
    code = main(["tune-beta", "--dataset", "synth-lin", "--start", "0.5", "--factor", "4",
                 "--max-iter", "4", "--set", "steps=600", "--set", "dataset_options={n_samples=4000}",
                 "--json"])
    out = capsys.readouterr().out
    import json

    res = json.loads(out)
    assert code == 0 and res["value"] is not None
    last = res["steps"][-1]
    assert max(last["mean_variance"]) >= 0.9


def test_ae_dto_over_all_latents():
    from vaecore.experiments import make_task

    res = execute_one(make_task(one_run(["dto"], model="ae", steps=50), None))
    assert res["status"] == "done", res.get("error")
    assert res["metrics"]["dto"] >= 0.0 and res["metrics"]["dto_active"] == 2


RESTARTS = """
[experiment]
name = "restarts"
title = "Restarts"
runner = "train"
metrics = ["dto", "ds"]

[report]
table = "restarts"

[defaults]
dataset = "synth-lin"
dataset_options = { n_samples = 1000 }
model = "beta-vae"

[[variants]]
variant = "beta-vae"

[scales.quick]
seeds = 3
defaults = { steps = 60, batch_size = 128, monitor_every = 30 }
"""


def test_select_udr_beside_dto(tmp_path, capsys):
    """`vaecore select --udr`: UDR's choice among real restarts beside DtO's, with the UDR scores
    equal to vaecore.metrics.udr on the same inputs."""
    import json

    import numpy as np

    from vaecore.experiments.select import select_by_dto
    from vaecore.experiments.select_udr import compare_udr

    cfg = tmp_path / "restarts.toml"
    cfg.write_text(RESTARTS)
    out = tmp_path / "out"
    assert main(["sweep", str(cfg), "--quick", "--out", str(out), "--workers", "1"]) == 0
    capsys.readouterr()
    assert main(["select", str(out), "--udr", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    (cmp,) = got["udr"]
    assert cmp["n_runs"] == 3 and set(cmp["udr_scores"]) == {"0", "1", "2"}
    assert int(max(cmp["udr_scores"], key=cmp["udr_scores"].get)) == cmp["udr_seed"]
    assert cmp["dto_seed"] == got["dto"][0]["selected_seed"]
    assert cmp["agree"] == (cmp["dto_seed"] == cmp["udr_seed"])
    with ResultsStore(out) as store:
        recs = store.runs(status="done")
    again = compare_udr(select_by_dto(recs)[0], recs)
    assert np.allclose(sorted(again.udr_scores.values()), sorted(cmp["udr_scores"].values()))
    assert main(["select", str(out), "--udr"]) == 0
    assert "UDR (Duan et al. 2020) beside DtO" in capsys.readouterr().out
