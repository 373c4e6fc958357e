from __future__ import annotations

import pytest

from vaecore.experiments import (
    ExperimentSpec,
    experiment_groups,
    list_experiments,
    load_experiment,
    parse_overrides,
    resolve_experiments,
)
from vaecore.experiments.runfns import get_run_function, run_function_keys


def base(**extra):
    data = {
        "experiment": {"name": "x", "runner": "theorem2"},
        "variants": [{"variant": "a", "steps": 10}, {"variant": "b", "beta": 2.0}],
        "grid": {"data_dim": [4, 6]},
        "scales": {"quick": {"seeds": 2, "defaults": {"steps": 5}, "variants": {"b": {"lr": 0.1}}}},
    }
    data.update(extra)
    return data


def test_every_shipped_config_loads_and_expands():
    names = list_experiments()
    for needed in ("table-3.3-synth-lin", "table-3.3-synth-nonlin", "table-3.3-dsprites",
                   "table-3.4", "fig-3.4", "fig-3.7-synth-lin", "fig-3.6-eigenfaces",
                   "theorem-2", "table-3.2-synth-lin"):
        assert needed in names
    for name in names:
        spec = load_experiment(name)
        for scale in ("quick", "thesis"):
            runs = spec.expand(scale=scale)
            assert runs and len({r.id for r in runs}) == len(runs)


def test_groups():
    groups = experiment_groups()
    assert set(groups["synthetic"]) >= {"table-3.3-synth-lin", "table-3.3-synth-nonlin",
                                        "table-3.4", "table-3.2-synth-lin", "theorem-2"}
    assert [s.name for s in resolve_experiments("dsprites")] == ["table-3.3-dsprites"]


def test_expansion_merge_order_and_ids():
    spec = ExperimentSpec.from_dict(base())
    runs = spec.expand(scale="quick", overrides={"n_samples": 100})
    assert len(runs) == 2 * 2 * 2  # seeds x grid x variants
    a = [r for r in runs if r.group["variant"] == "a"][0]
    b = [r for r in runs if r.group["variant"] == "b"][0]
    assert a.params["steps"] == 10  # variant beats scale defaults
    assert b.params["steps"] == 5 and b.params["lr"] == 0.1 and b.params["beta"] == 2.0
    assert a.params["n_samples"] == 100
    assert {r.group["data_dim"] for r in runs} == {4, 6}
    assert [r.seed for r in runs[:4]] == [0, 0, 0, 0]  # seed-major order
    again = spec.expand(scale="quick", overrides={"n_samples": 100})
    assert [r.id for r in runs] == [r.id for r in again]
    assert spec.expand(scale="quick", seeds=[5])[0].seed == 5
    thesis = spec.expand(scale="thesis")
    assert len(thesis) == 5 * 2 * 2 and "lr" not in thesis[0].params


def test_overrides_leave_a_variants_own_keys_alone():
    spec = ExperimentSpec.from_dict(base())
    runs = spec.expand(scale="quick", overrides={"steps": 50, "lr": 0.5})
    a = [r for r in runs if r.group["variant"] == "a"][0]
    b = [r for r in runs if r.group["variant"] == "b"][0]
    assert a.params["steps"] == 10 and a.params["lr"] == 0.5  # variant a pins steps
    assert b.params["steps"] == 50 and b.params["lr"] == 0.1  # b's scale variant pins lr


def test_set_steps_keeps_the_random_decoder_untrained():
    runs = load_experiment("table-3.3-synth-lin").expand(scale="quick", seeds=1, overrides={"steps": 77})
    steps = {r.group["variant"]: r.params["steps"] for r in runs}
    assert steps["random-decoder"] == 0
    assert steps["ae"] == 77


def test_dotted_keys_set_nested_params():
    spec = load_experiment("table-3.4")
    runs = spec.expand(scale="quick", seeds=1)
    assert [r.params["dataset_options"]["ratio"] for r in runs] == [1.0, 1.2, 1.5]
    assert [r.group["ratio"] for r in runs] == [1.0, 1.2, 1.5]
    assert all(r.params["scale"] == "quick" for r in runs)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.update(extras={}), r"unknown key 'extras'; valid keys are: defaults, experiment"),
        (lambda d: d["experiment"].update(nmae="y"), r"\[experiment\]: unknown key 'nmae'; valid keys are: .*name"),
        (lambda d: d["variants"][0].update(stpes=3), r"unknown key 'stpes'; valid keys are: .*steps"),
        (lambda d: d["scales"]["quick"].update(seed=3), r"unknown key 'seed'; valid keys are: defaults, grid, seeds, variants"),
        (lambda d: d["scales"]["quick"]["variants"].update(c={}), r"unknown variant 'c'; valid variants are: a, b"),
        (lambda d: d["scales"].update(huge={}), r"unknown key 'huge'; valid keys are: quick, thesis"),
        (lambda d: d["scales"]["quick"].update(seeds=0), r"seeds must be a positive integer"),
        (lambda d: d.update(grid={"steps": 3}), r"'steps' must be a non-empty list"),
        (lambda d: d["experiment"].pop("name"), r"missing required key 'name'"),
        (lambda d: d["variants"][1].update(variant="a"), r"variant labels must be unique"),
        (lambda d: d["variants"][0].pop("variant"), r"missing required key 'variant'"),
        (lambda d: d.update(report={"figure": "pie"}), r"figure must be one of"),
    ],
)
def test_bad_configs_name_the_key(mutate, match):
    data = base()
    mutate(data)
    with pytest.raises(ValueError, match=match):
        ExperimentSpec.from_dict(data)


def test_bad_toml_and_names(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[experiment\nname = 1")
    with pytest.raises(ValueError, match="invalid TOML"):
        load_experiment(bad)
    with pytest.raises(ValueError, match="unknown experiment 'table-9'; shipped experiments are: .*table-3.4"):
        load_experiment("table-9")
    with pytest.raises(ValueError, match="groups are: .*synthetic"):
        resolve_experiments("table-9")
    with pytest.raises(FileNotFoundError):
        load_experiment(tmp_path / "missing.toml")
    spec = ExperimentSpec.from_dict(base())
    with pytest.raises(ValueError, match="override: unknown key 'stepz'"):
        spec.expand(overrides={"stepz": 1})
    with pytest.raises(ValueError, match="scale must be one of"):
        spec.expand(scale="medium")


def test_train_runner_keys_follow_trainconfig():
    keys = run_function_keys(get_run_function("train"))
    assert keys is not None
    assert {"model", "beta", "steps", "dataset", "scale", "seed", "dto_points", "dci_estimator"} <= set(keys)
    data = {"experiment": {"name": "x"}, "variants": [{"variant": "a", "modle": "vae"}]}
    with pytest.raises(ValueError, match="unknown key 'modle'; valid keys are: .*model"):
        ExperimentSpec.from_dict(data)


def test_parse_overrides():
    assert parse_overrides(["steps=100", "beta=1e-2", "dataset_options.path=/x/y",
                            "scales=[1.0, 2.0]", "name=vae"]) == {
        "steps": 100, "beta": 0.01, "dataset_options.path": "/x/y", "scales": [1.0, 2.0],
        "name": "vae"}
    with pytest.raises(ValueError, match="expected key=value"):
        parse_overrides(["steps"])
