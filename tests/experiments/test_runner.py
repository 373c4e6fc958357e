from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vaecore.experiments import (
    ExperimentSpec,
    ProcessPoolExecutor,
    ResultsStore,
    SequentialExecutor,
    execute_one,
    load_experiment,
    sweep,
)


def spec(fakes, **defaults):
    return ExperimentSpec.from_dict({
        "experiment": {"name": "fake", "runner": fakes},
        "defaults": {"dataset": "toy", **defaults},
        "variants": [{"variant": "a", "x": 0.0}, {"variant": "b", "x": 0.5}],
        "scales": {"quick": {"seeds": 3}},
    })


def metrics_by_id(store):
    return {r.id: {k: v for k, v in r.metrics.items() if k != "pid"}
            for r in store.runs(status="done")}


def test_sweep_records_and_skips_done(tmp_path, fakes):
    log = tmp_path / "calls.log"
    runs = spec(fakes, log=str(log)).expand(scale="quick")
    with ResultsStore(tmp_path) as store:
        res = sweep(runs, store, out=tmp_path, log=lambda s: None)
        assert (res.total, res.done, res.failed, res.skipped) == (6, 6, 0, 0)
        recs = {r.id: r for r in store.runs()}
        for r in runs:
            rec = recs[r.id]
            assert rec.status == "done"
            assert rec.metrics["dto"] == pytest.approx(0.1 * r.seed + r.params["x"])
            assert Path(rec.artifacts, "done.txt").is_file()
            assert rec.config["group"]["variant"] in ("a", "b")
        res2 = sweep(runs, store, out=tmp_path, log=lambda s: None)
        assert (res2.done, res2.skipped) == (0, 6)
    assert len(log.read_text().splitlines()) == 6  # nothing ran twice


def test_failing_run_is_recorded_while_others_finish(tmp_path, fakes):
    runs = spec(fakes, fail=1).expand(scale="quick")
    with ResultsStore(tmp_path) as store:
        res = sweep(runs, store, log=lambda s: None)
        assert (res.done, res.failed) == (4, 2)
        failed = store.runs(status="failed")
        assert {r.seed for r in failed} == {1}
        assert "Traceback" in failed[0].error and "ValueError: fake failure for seed 1" in failed[0].error
        # a rerun redoes exactly the failed ones (they fail again here)
        res = sweep(runs, store, log=lambda s: None)
        assert (res.skipped, res.failed) == (4, 2)
        assert all(r.attempts == 2 for r in store.runs(status="failed"))


def test_execute_one_rejects_bad_returns(fakes):
    from vaecore.experiments import RunSpec, make_task

    run = RunSpec("fake", "fake_not_a_dict", {}, {"variant": "a"}, 0)
    out = execute_one(make_task(run, None))
    assert out["status"] == "failed" and "must return a dict" in out["error"]
    task = make_task(run, None)
    out = execute_one({**task, "spec": task["spec"].replace("fake_not_a_dict", "nope"), "plugin": None})
    assert out["status"] == "failed" and "runner must be one of" in out["error"]
    # NaN params cannot even be shipped (strict JSON); NaN metrics fail the run
    with pytest.raises(ValueError):
        make_task(RunSpec("fake", "fake", {"x": float("nan")}, {}, 0), None)


def test_process_pool_matches_sequential(tmp_path, fakes):
    runs = spec(fakes).expand(scale="quick")
    with ResultsStore(tmp_path / "seq") as s1, ResultsStore(tmp_path / "pool") as s2:
        sweep(runs, s1, executor=SequentialExecutor(), log=lambda s: None)
        pool = ProcessPoolExecutor(2)
        try:
            res = sweep(runs, s2, executor=pool, log=lambda s: None)
        finally:
            pool.close()
        assert res.done == 6
        assert metrics_by_id(s1) == metrics_by_id(s2)
        pids = {r.metrics["pid"] for r in s2.runs()}
        assert os.getpid() not in pids and 1 <= len(pids) <= 2


SCRIPT = """
import sys
sys.path.insert(0, {here!r})
import vaecore_fake_runs
from vaecore.experiments import ExperimentSpec, ResultsStore, register_run_function, sweep
register_run_function("fake", vaecore_fake_runs.run)
spec = ExperimentSpec.from_dict({{
    "experiment": {{"name": "fake", "runner": "fake"}},
    "defaults": {{"dataset": "toy", "log": {log!r}}},
    "variants": [{{"variant": "a", "x": 0.0}}, {{"variant": "b", "x": 0.5}}],
    "scales": {{"quick": {{"seeds": 3}}}},
}})
with ResultsStore({out!r}) as store:
    sweep(spec.expand(scale="quick"), store, log=lambda s: None)
"""


def test_interrupted_sweep_resumes_with_identical_results(tmp_path, fakes):
    here = str(Path(__file__).resolve().parent)
    log = tmp_path / "calls.log"
    script = SCRIPT.format(here=here, log=str(log), out=str(tmp_path / "a"))
    env = {**os.environ, "FAKE_KILL_SEED": "1"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr  # killed in the middle of the sweep
    with ResultsStore(tmp_path / "a") as store:
        counts = store.counts()
        assert counts == {"pending": 3, "running": 1, "done": 2, "failed": 0}
    first = log.read_text().splitlines()
    env.pop("FAKE_KILL_SEED")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    second = log.read_text().splitlines()[len(first):]
    assert len(first) == 3 and len(second) == 4  # only the 4 runs not done ran again
    # identical to an uninterrupted sweep
    runs = spec(fakes, log=str(log)).expand(scale="quick")
    with ResultsStore(tmp_path / "b") as ref:
        sweep(runs, ref, log=lambda s: None)
        with ResultsStore(tmp_path / "a") as store:
            assert store.counts()["done"] == 6
            assert metrics_by_id(store) == metrics_by_id(ref)


def test_theorem2_runner_recovers_pca():
    from vaecore.experiments import make_task

    spec = load_experiment("theorem-2")
    run = spec.expand(scale="quick", seeds=1)[0]
    res = execute_one(make_task(run, None))
    assert res["status"] == "done", res.get("error")
    m = res["metrics"]
    assert m["pca_distance"] < 0.1 and m["dto"] < 0.1
    assert m["random_distance"] > 0.5


def test_signed_permutation_distance_closed_forms():
    import numpy as np

    from vaecore.experiments.theorem2 import signed_permutation_distance

    p = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    assert signed_permutation_distance(p) == 0.0
    c, s = np.cos(np.pi / 4), np.sin(np.pi / 4)
    r = np.array([[c, -s], [s, c]])
    # 45° rotation: ‖R − P‖_F² = 2d − 2 Σ_P |R_ij| = 4 − 4 cos 45°
    assert signed_permutation_distance(r) == pytest.approx(np.sqrt(4 - 4 * c))
