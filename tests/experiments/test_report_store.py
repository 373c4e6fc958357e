"""report(store, out): from the store alone; first-release stores; outputs stay in out_dir."""

from __future__ import annotations

import json

import pytest

from vaecore.experiments import ExperimentRecord, ExperimentSpec, ResultsStore
from vaecore.experiments.runspec import RunSpec
from vaecore.report import report


def spec(**report_table):
    return ExperimentSpec.from_dict({
        "experiment": {"name": "my-exp", "runner": "theorem2", "title": "run title"},
        "report": {"table": "my-table", "title": "My table", "rows": "variant", "columns": "ratio",
                   "thesis": "table-3.4", "labels": {"dto": "DtO (lower)"}, "metrics": ["dto"],
                   "figure": "ratio",
                   **report_table},
        "grid": {"data_dim": [4]},
        "variants": [{"variant": "synth-lin"}],
        "scales": {"quick": {"seeds": 2}},
    })


def add(store, run, metrics, experiment=None):
    rid = store.add(experiment or run.experiment, run.config, run.seed)
    store.mark_running(rid)
    store.mark_done(rid, metrics)
    return rid


def test_report_reads_layout_and_thesis_values_from_the_store(tmp_path):
    s = spec()
    runs = s.expand(scale="quick")
    with ResultsStore(tmp_path / "out") as store:
        store.put_experiment(s.name, ExperimentRecord.from_spec(s, runs).to_dict())
        for r in runs:
            # the "ratio" column comes from the params (1.5: Table 3.4's thesis column)
            add(store, RunSpec(r.experiment, r.runner, {**r.params, "ratio": 1.5}, r.group, r.seed),
                {"dto": 0.01 + 0.02 * r.seed, "ds": 0.5})
        stored = store.experiment_records()["my-exp"]
    assert stored["thesis"]["synth-lin"]["1.5"]["dto"] == [0.01, 0.06]
    # the record lays out runs of its latest expansion only; these were hashed with other params
    stored["runs"] = []
    with ResultsStore(tmp_path / "out") as store:
        store.put_experiment("my-exp", stored)
    pytest.importorskip("matplotlib")
    res = report(tmp_path / "out", tmp_path / "rep")
    (t,) = res.tables
    assert (t.id, t.title, t.metrics) == ("my-table", "My table", ["dto"])
    cell = t.cells[("synth-lin", "dto", "1.5")]
    assert cell.mean == pytest.approx(0.02) and cell.thesis_mean == 0.01 and cell.outside is False
    assert "| synth-lin | DtO (lower) | 0.02 ± 0.01 | 0.01 ± 0.06 |" in res.markdown
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == ["figures", "my-table.csv", "report.md"]
    assert sorted(p.name for p in (tmp_path / "rep" / "figures").iterdir()) == ["my-table.pdf", "my-table.png"]


def test_first_release_store_with_side_file_still_reports(tmp_path):
    # a store of the first release: no experiments table; layouts in experiments.json
    from vaecore.experiments import load_experiment

    runs = load_experiment("table-3.4").expand(scale="quick", seeds=1)
    with ResultsStore(tmp_path) as store:
        for r in runs:
            add(store, r, {"dto": 0.3, "ds": 0.9})
        assert store.experiment_records() == {}
    (tmp_path / "experiments.json").write_text(json.dumps({"table-3.4": {
        "title": "old", "report": {"table": "table-3.4"}, "metrics": ["dto", "ds"],
        "runs": [r.id for r in runs]}}))
    res = report(tmp_path, figures=False)
    (t,) = res.tables
    assert t.id == "table-3.4" and t.columns == ["1", "1.2", "1.5"]
    assert t.cells[("synth-lin", "dto", "1")].thesis_mean == 0.49  # from the packaged config
    assert (tmp_path / "report" / "table-3.4.csv").is_file()


def test_unknown_experiment_without_records_gets_its_own_table(tmp_path):
    with ResultsStore(tmp_path) as store:
        add(store, RunSpec("custom", "theorem2", {}, {"variant": "v", "dataset": "d"}, 0), {"m": 1.0})
    (t,) = report(tmp_path, figures=False).tables
    assert (t.id, t.metrics, t.cells[("d", "m", "v")].mean) == ("custom", ["m"], 1.0)


@pytest.mark.parametrize("table", ["../../../x", "/abs", ".."])
def test_hostile_table_id_in_a_store_writes_nothing_outside(tmp_path, table):
    with ResultsStore(tmp_path / "out") as store:
        add(store, RunSpec("e", "theorem2", {}, {"variant": "v"}, 0), {"m": 1.0})
        store.put_experiment("e", {"name": "e", "title": "t", "layout": {"table": table}})
    with pytest.raises(ValueError, match="one path component"):
        report(tmp_path / "out", tmp_path / "out" / "rep", figures=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
