"""RunSpec: typed runs, JSON round trip, the run-function registry, names that stay in --out."""

from __future__ import annotations

import json

import pytest

from vaecore.evaluation_options import DciOptions, DtoOptions, active_latents, dto_latents_for
from vaecore.experiments import (
    ExperimentSpec,
    RunSpec,
    StageInput,
    artifacts_dir,
    load_experiment,
    register_run_function,
)
from vaecore.experiments.runfns import RUN_FUNCTIONS, get_run_function


def train_config(**extra):
    return {
        "experiment": {"name": "x", "metrics": ["dto", "ds"]},
        "defaults": {"dataset": "synth-lin", "steps": 5},
        "variants": [{"variant": "a", "model": "ae"}, {"variant": "b", "dto_points": "prior"}],
        **extra,
    }


def test_expand_gives_typed_options_and_a_resolved_training_config():
    runs = ExperimentSpec.from_dict(train_config()).expand(scale="quick", seeds=1)
    a, b = runs
    assert a.evaluation == {"dto": DtoOptions()} and b.evaluation == {"dto": DtoOptions(points="prior")}
    assert "dto_points" not in b.train and b.train["steps"] == 5 and b.train["seed"] == 0
    assert a.train["model"] == "ae" and a.labels == {"variant": "a", "dataset": "synth-lin"}
    # the id hashes the config as written (first-release form), so old stores resume
    assert b.config == {"runner": "train", "params": {"scale": "quick", "dataset": "synth-lin",
                        "steps": 5, "dto_points": "prior"}, "group": b.group, "metrics": ["dto", "ds"]}


def test_runspec_json_round_trip():
    run = ExperimentSpec.from_dict(train_config()).expand(scale="quick", seeds=[3])[1]
    run = RunSpec(**{**run.__dict__, "inputs": (StageInput("s", "abc", 1, {"variant": "a"}, "/x", {"dto": 0.5}),),
                     "evaluation": {"dto": DtoOptions(points="prior"), "dci": DciOptions("lightgbm")}})
    back = RunSpec.from_json(run.to_json())
    assert back == run and back.id == run.id and isinstance(back.evaluation["dci"], DciOptions)
    assert json.loads(run.to_json())["evaluation"]["dci"] == {"estimator": "lightgbm"}
    with pytest.raises(ValueError, match="unknown key 'bogus'"):
        RunSpec.from_dict({**run.to_dict(), "bogus": 1})
    with pytest.raises(ValueError, match="not a RunSpec JSON"):
        RunSpec.from_json("{")


@pytest.mark.parametrize(("variant", "match"), [
    ({"dto_points": "data"}, r"dto: points must be one of \('posterior', 'prior'\); got 'data'"),
    ({"dto_latents": "some"}, r"dto: latents must be one of \('auto', 'active', 'all'\)"),
    ({"dci_estimator": "xgboost"}, r"options of the 'dci' evaluator \(dci_estimator\) need 'dci'"),
])
def test_evaluator_options_are_checked_when_the_config_loads(variant, match):
    data = train_config(variants=[{"variant": "a", **variant}])
    with pytest.raises(ValueError, match=match):
        ExperimentSpec.from_dict(data)


def test_dci_estimator_is_explicit():
    data = train_config(variants=[{"variant": "a", "dci_estimator": "xgboost"}])
    data["experiment"]["metrics"] = ["dci"]
    with pytest.raises(ValueError, match=r"dci: estimator must be one of \('sklearn', 'lightgbm'\)"):
        ExperimentSpec.from_dict(data)
    data["variants"] = [{"variant": "a"}]
    assert ExperimentSpec.from_dict(data).expand(seeds=1)[0].evaluation == {"dci": DciOptions("sklearn")}


def test_active_latent_rule_in_one_place():
    import numpy as np

    assert dto_latents_for("ae") == "all" and dto_latents_for("beta-vae") == "active"
    codes = np.c_[np.linspace(-2, 2, 50), np.linspace(-0.1, 0.1, 50)]
    assert active_latents(codes, "active").tolist() == [True, False]
    assert active_latents(codes, "all").tolist() == [True, True]
    assert active_latents(codes * 0, "active").tolist() == [True, True]  # none active: all


def test_config_names_no_code():
    data = {"experiment": {"name": "x", "runner": "os:system"}, "variants": [{"variant": "a"}]}
    with pytest.raises(ValueError, match="runner must be one of .*train.*got 'os:system' — a config "
                                         "names a registered run function, never code"):
        ExperimentSpec.from_dict(data)
    with pytest.raises(ValueError, match="must be a module-level function"):
        register_run_function("lam", lambda spec, out=None: {})
    with pytest.raises(ValueError, match="without ':'"):
        register_run_function("a:b", test_config_names_no_code)


def test_plugin_by_explicit_registration(fakes):
    entry = get_run_function("fake")
    assert entry.plugin == "vaecore_fake_runs:run"
    spec = ExperimentSpec.from_dict({"experiment": {"name": "p", "runner": "fake"},
                                     "variants": [{"variant": "a", "x": 0.25}]})
    assert spec.expand(seeds=1)[0].train is None
    RUN_FUNCTIONS.pop("fake")
    # a worker without the registration finds it by the reference the driver ships
    assert get_run_function("fake", plugin=entry.plugin).fn is entry.fn


@pytest.mark.parametrize("name", ["../../x", "/abs", "..", ".", "a/b", "a\\b", ""])
def test_hostile_names_are_refused(name, tmp_path):
    with pytest.raises((ValueError, TypeError), match="one path component"):
        ExperimentSpec.from_dict({"experiment": {"name": name, "runner": "theorem2"}})
    with pytest.raises((ValueError, TypeError), match="one path component"):
        ExperimentSpec.from_dict({"experiment": {"name": "ok", "runner": "theorem2"},
                                  "report": {"table": name}})
    with pytest.raises(ValueError, match="one path component"):
        RunSpec(name, "theorem2", {}, {}, 0)


def test_artifacts_stay_under_out(tmp_path):
    run = load_experiment("theorem-2").expand(seeds=1)[0]
    path = artifacts_dir(tmp_path, run)
    assert path.resolve().is_relative_to(tmp_path.resolve())
    assert path.parts[-3:] == ("runs", "theorem-2", run.id)


def test_unknown_thesis_table_is_refused_at_load():
    with pytest.raises(ValueError, match=r"\[report\] thesis: thesis values: unknown table 'table-9.9'; "
                                         r"known tables are: table-3.2, table-3.3, table-3.4"):
        ExperimentSpec.from_dict({"experiment": {"name": "x", "runner": "theorem2"},
                                  "report": {"thesis": "table-9.9"}})


def test_config_that_is_not_utf8_names_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'[experiment]\nname = "\xff"\n')
    with pytest.raises(ValueError, match=r"experiment config .*bad.toml: invalid TOML"):
        ExperimentSpec.from_toml(bad)
