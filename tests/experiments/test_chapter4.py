"""Chapter 4's staged experiments (SPEC-ch4 §7–§10): configs, the gate, the report's tables and
effect check, and (slow) the whole chain at a toy scale and one thesis-scale model."""

from __future__ import annotations

import dataclasses
import json

import pytest

from vaecore.experiments import ResultsStore, RunSpec, StageInput, resolve_experiments
from vaecore.experiments.chapter4 import _train_config, ch4_train_run, gate_of, perturb_run
from vaecore.experiments.record import ExperimentRecord
from vaecore.experiments.stages import Stage, _order, plan_stages, run_stages
from vaecore.experiments.store import RunRecord
from vaecore.report.chapter4 import effect_check, split_tables


def _specs():
    return resolve_experiments("chapter4")


def test_plans_both_scales_and_every_thesis_run_resolves():
    quick = {s.name: len(s.runs) for s in plan_stages(_specs(), scale="quick")}
    assert quick["select-shapes3d"] == 4 and quick["perturb-shapes3d"] == 1
    assert quick["table-4.2-shapes3d"] == 8 and quick["table-4.2-shapes3d-noise"] == 2  # 4 paired, 2 noise
    thesis = plan_stages(_specs(), scale="thesis")
    counts = {s.name: len(s.runs) for s in thesis}
    # 7 models × {orig, mod} × 10 seeds, 7 × noisy × 10, per dataset; line search 4 × 6 × 10
    assert counts["table-4.2-shapes3d"] == 140 and counts["table-4.2-dsprites-noise"] == 70
    assert counts["fig-4.4-line-search"] == 240 and sum(counts.values()) == 682
    names = [s.name for s in thesis]
    assert names.index("select-shapes3d") < names.index("perturb-shapes3d") < names.index("table-4.2-shapes3d")
    seen = set()
    for st in thesis:
        for run in st.runs:
            if run.runner == "ch4-train" and (st.name, run.group.get("model"), run.params.get("multiplier")) not in seen:
                seen.add((st.name, run.group.get("model"), run.params.get("multiplier")))
                cfg = _train_config(run, dict(run.params))
                assert cfg.steps == 300_000 and cfg.lr == 1e-4
    ls = next(st for st in thesis if st.name == "fig-4.4-line-search")
    run = next(r for r in ls.runs if r.params["model"] == "factor-vae" and r.params["multiplier"] == 1.5)
    assert _train_config(run, dict(run.params)).to_dict()["gamma"] == pytest.approx(7.0 * 1.5)


def _inp(exp, seed, mig, artifacts=None):
    return StageInput(experiment=exp, run_id=f"{exp}{seed}", seed=seed, labels={}, artifacts=artifacts,
                      metrics={"mig": mig})


def test_gate_spread_and_run_if():
    inputs = [_inp("sel", 0, 0.7), _inp("sel", 1, 0.5), _inp("sel", 2, 0.62), _inp("other", 0, 0.0)]
    gate, run = gate_of({"stage": "sel", "min_spread": 0.15, "run_if": "pass"}, inputs)
    assert gate.spread == pytest.approx(0.2) and gate.passed and run
    gate, run = gate_of({"stage": "sel", "min_spread": 0.25, "run_if": "pass"}, inputs)
    assert not gate.passed and not run
    assert gate_of({"stage": "sel", "min_spread": 0.25, "run_if": "fail"}, inputs)[1]
    assert gate_of(None, inputs) is None
    # an over-pruned restart (active units < varying factors) does not count, as in select_models
    collapsed = StageInput(experiment="sel", run_id="c", seed=3, labels={}, artifacts=None,
                           metrics={"mig": 0.45, "active_units": 1.0, "n_factors": 2.0})
    assert gate_of({"stage": "sel"}, inputs + [collapsed])[0].spread == pytest.approx(0.2)
    with pytest.raises(ValueError, match="run_if"):
        gate_of({"stage": "sel", "run_if": "maybe"}, inputs)
    with pytest.raises(ValueError, match="gate must have keys"):
        gate_of({"min_spread": 0.1}, inputs)


def _spec(runner, params, inputs=(), metrics=("mig",)):
    return RunSpec(experiment="x", runner=runner, params=params, group={}, seed=0, metrics=metrics,
                   inputs=tuple(inputs))


def test_gated_runs_skip_and_perturb_needs_a_folder():
    inputs = [_inp("sel", 0, 0.7), _inp("sel", 1, 0.69)]
    gate = {"stage": "sel", "min_spread": 0.15, "run_if": "pass"}
    out = perturb_run(_spec("perturb", {"select": "sel", "eps": 0.1, "gate": gate}, inputs))
    assert out["skipped"] == 1.0 and out["gate_spread"] == pytest.approx(0.01)
    out = ch4_train_run(_spec("ch4-train", {"dataset": "shapes3d-ch4", "data": "modified", "gate": gate}, inputs))
    assert out["skipped"] == 1.0 and out["gate_passed"] == 0.0
    with pytest.raises(ValueError, match="artifacts folder"):
        perturb_run(_spec("perturb", {"select": "sel", "eps": 0.1}, inputs), out=None)
    with pytest.raises(ValueError, match="data"):
        ch4_train_run(_spec("ch4-train", {"dataset": "shapes3d-ch4", "data": "rotated"}))


def _rec(i, exp, seed, data, mig, skipped=0.0):
    metrics = {"mig": mig, "dci": mig / 2, "factor_vae": 0.5, "sap": 0.1, "skipped": skipped}
    return RunRecord(id=f"r{i}", experiment=exp, seed=seed, status="done", metrics=metrics, artifacts=None,
                     error=None, attempts=1, created_at="", started_at=None, finished_at=None,
                     config={"runner": "ch4-train", "group": {"model": "beta-vae", "data": data},
                             "params": {"dataset": "shapes3d-ch4", "model": "beta-vae", "data": data}})


def test_report_splits_four_tables_and_computes_the_drop():
    from vaecore.experiments import load_experiment
    from vaecore.report.aggregate import build_tables

    migs = {"original": [0.7, 0.6, 0.5, 0.4], "modified": [0.5, 0.5, 0.2, 0.45], "noisy": [0.65, 0.6]}
    recs, i = [], 0
    for data, vals in migs.items():
        exp = "table-4.2-shapes3d-noise" if data == "noisy" else "table-4.2-shapes3d"
        for seed, v in enumerate(vals):
            recs.append(_rec(i := i + 1, exp, seed, data, v))
    recs.append(_rec(99, "table-4.2-shapes3d", 7, "modified", 0.0, skipped=1.0))  # left out
    recs.append(dataclasses.replace(_rec(100, "perturb-shapes3d", 0, "-", 0.0),
                                    metrics={"gate_spread": 0.3, "gate_passed": 1.0, "gate_runs": 4.0,
                                             "gate_min_spread": 0.15}))
    exps = {n: ExperimentRecord.from_spec(load_experiment(n)) for n in
            ("table-4.2-shapes3d", "table-4.2-shapes3d-noise", "perturb-shapes3d")}
    tables = {t.id: t for t in build_tables(*split_tables(recs, exps))}
    assert {"table-4.2-shapes3d", "table-4.3-shapes3d", "table-4.4-shapes3d", "table-4.5-shapes3d"} <= set(tables)
    cell = tables["table-4.2-shapes3d"].cells[("beta-vae", "mig", "modified")]
    assert cell.n == 4 and cell.mean == pytest.approx(0.4125) and cell.thesis_mean == pytest.approx(0.09)
    assert tables["table-4.3-shapes3d"].cells[("beta-vae", "dci", "original")].thesis_mean == pytest.approx(0.73)
    (check,), text = effect_check(recs, exps)
    assert check.drops == pytest.approx((0.2, 0.1, 0.3, -0.05))
    assert check.mean_drop == pytest.approx(0.1375) and check.dropping == 3
    assert check.mean_noise_drop == pytest.approx(0.025) and check.passed
    assert "PASS" in text and "the Shapes3D chain ran" in text and "0.300" in text
    worse = [dataclasses.replace(r, metrics={**r.metrics, "mig": 0.69}) if r.config["group"]["data"] == "modified"
             else r for r in recs if not (r.metrics or {}).get("skipped")]
    assert not effect_check(worse, exps)[0][0].passed


def test_reproduce_quick_leaves_out_thesis_only(monkeypatch, tmp_path):
    import argparse

    from vaecore.commands import reproduce

    got = {}
    monkeypatch.setattr(reproduce, "run_sweeps", lambda specs, args, scale: got.setdefault(scale, specs) and 0)
    monkeypatch.setattr(reproduce, "print_report", lambda rep: None)
    monkeypatch.setattr("vaecore.report.report", lambda *a, **k: None)
    for quick in (True, False):
        reproduce.run(argparse.Namespace(experiment="chapter4", quick=quick, out=str(tmp_path), no_figures=True))
    assert "fig-4.4-line-search" not in [s.name for s in got["quick"]]
    assert "fig-4.4-line-search" in [s.name for s in got["thesis"]]


def _toy_stages(spread: float):
    specs = [dataclasses.replace(s, metrics=("mig",) if s.runner == "ch4-train" else s.metrics)
             for s in _specs() if "thesis-only" not in s.groups]
    stages = []
    for s in _order(specs):
        ov = {"steps": 60}
        if s.runner == "ch4-train":
            fixed = ({"floor_hue": 0, "scale": 4, "shape": 0, "wall_hue": 0} if s.defaults["dataset"] == "shapes3d-ch4"
                     else {"shape": 0, "scale": 5, "orientation": 0, "posX": 0})
            ov.update(lr=3e-3, beta=0.02, eval_points=300,
                      dataset_options={"base": s.defaults["dataset"].split("-")[0], "fixed": fixed})
        if s.name != "select-shapes3d":
            ov["gate.min_spread"] = spread
        if s.runner == "perturb":
            ov.update(probe_size=64, steps=5, log_every=1, preview=2)
        stages.append(Stage(s, tuple(s.expand(scale="quick", seeds=1 if s.runner == "perturb" else 2, overrides=ov))))
    return stages


@pytest.mark.slow
def test_toy_chain_selection_perturb_modified_report(tmp_path):
    """selection → perturbation → original / modified / noisy → Tables 4.2–4.5 and the drop line
    (toy: 60 steps on a 150-image sub-grid, MIG only; the gate forced open)."""
    from vaecore.report import report

    with ResultsStore(tmp_path) as store:
        result = run_stages(_toy_stages(0.0), store, out=tmp_path)
    assert result.failed == 0 and not result.blocked
    rep = report(tmp_path)
    for tid in ("table-4.2-shapes3d", "table-4.3-shapes3d", "table-4.4-shapes3d", "table-4.5-shapes3d"):
        assert any(t.id == tid for t in rep.tables)
    assert "mean MIG drop original → modified" in rep.markdown and "the Shapes3D chain ran" in rep.markdown
    with ResultsStore(tmp_path) as store:
        mod = [r for r in store.runs(experiment="table-4.2-shapes3d", status="done")
               if r.config["group"]["data"] == "modified"]
    assert len(mod) == 2 and all(json.loads((tmp_path / "runs" / "table-4.2-shapes3d" / r.id / "config.json")
                                            .read_text())["dataset"] == "perturbed" for r in mod)
    assert (tmp_path / "report" / "figures" / "fig-4.3-perturb-shapes3d.png").is_file()


@pytest.mark.slow
def test_thesis_scale_model_starts(tmp_path):
    """One chapter-4 model at the thesis scale (Table 4.1: Adam 1e-4, whole Shapes3D grid),
    stopped after 200 steps, so the thesis path cannot rot."""
    stage = next(s for s in plan_stages(_specs(), scale="thesis") if s.name == "table-4.2-shapes3d")
    run = next(r for r in stage.runs if r.params["model"] == "beta-tcvae" and r.params["data"] == "original")
    run = dataclasses.replace(run, params={**run.params, "steps": 200}, metrics=())
    out = ch4_train_run(run, out=tmp_path)
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert out["steps"] == 200 and cfg["dataset"] == "shapes3d" and cfg["lr"] == 1e-4 and cfg["latent_dim"] == 6
