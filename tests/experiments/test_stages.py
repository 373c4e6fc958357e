"""Stages: an experiment that needs another experiment's finished runs (two tiny fake stages)."""

from __future__ import annotations

import pytest

from vaecore.experiments import ExperimentSpec, ResultsStore, plan_stages, run_stages


def stage(fakes, name, *, requires=(), **defaults):
    return ExperimentSpec.from_dict({
        "experiment": {"name": name, "runner": fakes, "requires": list(requires)},
        "defaults": {"dataset": "toy", **defaults},
        "variants": [{"variant": "a", "x": 0.0}, {"variant": "b", "x": 0.5}],
        "scales": {"quick": {"seeds": 2}},
    })


def test_stages_run_in_dependency_order_with_inputs(tmp_path, fakes):
    log = tmp_path / "calls.log"
    a = stage(fakes, "stage-a", log=str(log))
    b = stage(fakes, "stage-b", requires=["stage-a"], log=str(log))
    stages = plan_stages([b, a])  # given out of order
    assert [s.name for s in stages] == ["stage-a", "stage-b"]
    lines = []
    with ResultsStore(tmp_path) as store:
        res = run_stages(stages, store, out=tmp_path, log=lines.append)
        assert (res.total, res.done, res.failed, res.blocked) == (8, 8, 0, ())
        done_b = store.runs(experiment="stage-b", status="done")
        # every run of b read the 4 artifacts of a: dto = 0.1 seed + x over seeds 0, 1, x 0, 0.5
        assert all(r.metrics["inputs"] == 4 for r in done_b)
        assert all(r.metrics["input_sum"] == pytest.approx(1.2) for r in done_b)
        assert set(store.experiment_records()) == {"stage-a", "stage-b"}
        n_calls = len(log.read_text().splitlines())
        # resume: finished stages are skipped, nothing runs again
        again = run_stages(plan_stages([a, b]), store, out=tmp_path, log=lines.append)
        assert (again.skipped, again.done) == (8, 0)
    assert n_calls == 8 and len(log.read_text().splitlines()) == 8


def test_a_failed_stage_stops_its_dependents_by_name(tmp_path, fakes):
    a = stage(fakes, "stage-a", fail=1)
    b = stage(fakes, "stage-b", requires=["stage-a"])
    c = stage(fakes, "stage-c", requires=["stage-b"])
    lines = []
    with ResultsStore(tmp_path) as store:
        res = run_stages(plan_stages([a, b, c]), store, log=lines.append)
        assert res.failed == 2 and res.blocked == ("stage-b", "stage-c")
        assert store.runs(experiment="stage-b") == []
    assert "stage 'stage-b' not run: required stage 'stage-a' failed (2 failed runs)" in lines
    assert any(line.startswith("stage 'stage-c' not run: required stage 'stage-b' was not run")
               for line in lines)


def test_stage_outside_the_plan_comes_from_the_store(tmp_path, fakes):
    a = stage(fakes, "stage-a")
    b = stage(fakes, "stage-b", requires=["stage-a"])
    lines = []
    with ResultsStore(tmp_path) as store:
        res = run_stages(plan_stages([b]), store, out=tmp_path, log=lines.append)
        assert res.blocked == ("stage-b",) and "has no finished runs" in lines[-1]
        run_stages(plan_stages([a]), store, out=tmp_path, log=lines.append)
        res = run_stages(plan_stages([b]), store, out=tmp_path, log=lines.append)
        assert res.done == 4 and res.blocked == ()


def test_cycles_and_bad_requires_are_refused(fakes):
    a = stage(fakes, "stage-a", requires=["stage-b"])
    b = stage(fakes, "stage-b", requires=["stage-a"])
    with pytest.raises(ValueError, match="dependency cycle stage-a -> stage-b -> stage-a"):
        plan_stages([a, b])
    with pytest.raises(ValueError, match="one path component"):
        stage(fakes, "stage-c", requires=["../x"])
