from __future__ import annotations

import csv
import io

import pytest

from vaecore.experiments.runspec import RunSpec
from vaecore.experiments.store import ResultsStore
from vaecore.report import MARK, build_tables, write_tables
from vaecore.report.sources import experiment_records
from vaecore.report.thesis import format_key, thesis_value


def tables_of(store):
    """Tables of a store whose experiments have no records: the packaged configs lay them out."""
    runs = store.runs()
    return build_tables(runs, experiment_records(store, {r.experiment for r in runs}))


def fill(store, experiment, rows):
    """rows: (group, params, seed, metrics or None for failed)."""
    for group, params, seed, metrics in rows:
        run = RunSpec(experiment, "train", params, group, seed, ("dto", "ds"))
        rid = store.add(run.experiment, run.config, run.seed)
        store.mark_running(rid)
        if metrics is None:
            store.mark_failed(rid, "Traceback\nRuntimeError: boom")
        else:
            store.mark_done(rid, metrics)


def test_thesis_values_transcribed():
    assert thesis_value("table-3.3", "synth-lin", "beta-vae", "ds") == (0.99, 0.01)
    assert thesis_value("table-3.3", "dsprites", "random-decoder", "dto") == (1.86, 0.11)
    assert thesis_value("table-3.3", "dsprites", "random-decoder", "ds") is None
    assert thesis_value("table-3.3", "mnist", "beta-vae", "dto") is None  # "–" in the thesis
    assert thesis_value("table-3.3", "fashion-mnist", "ae", "dto") == (1.87, 0.03)
    assert thesis_value("table-3.4", "synth-lin", 1.0, "dto") == (0.49, 0.32)
    assert thesis_value("table-3.4", "synth-lin", 1.5, "ds") == (0.98, 0.06)
    assert thesis_value("table-3.2", "synth-nonlin", "10", "fraction_polarized") == (0.985, None)
    assert format_key(1.0) == "1" and format_key(0.001) == "0.001" and format_key("ae") == "ae"


def test_table_33_with_thesis_columns_and_marks(tmp_path):
    with ResultsStore(tmp_path) as store:
        g = lambda v: {"variant": v, "dataset": "synth-lin"}  # noqa: E731
        p = {"dataset": "synth-lin"}
        fill(store, "table-3.3-synth-lin", [
            (g("beta-vae"), p, 0, {"dto": 0.01, "ds": 0.98}),
            (g("beta-vae"), p, 1, {"dto": 0.03, "ds": 1.00}),
            (g("ae"), p, 0, {"dto": 0.90, "ds": 0.70}),
            (g("ae"), p, 1, {"dto": 1.10, "ds": 0.72}),
            (g("random-decoder"), p, 0, {"dto": 0.80, "ds": 0.30}),
            (g("random-decoder"), p, 1, None),
        ])
        tables = tables_of(store)
    assert [t.id for t in tables] == ["table-3.3"]
    t = tables[0]
    bv = t.cells[("synth-lin", "dto", "beta-vae")]
    assert bv.mean == pytest.approx(0.02) and bv.std == pytest.approx(0.0141421356, rel=1e-6)
    assert bv.thesis_mean == 0.0 and bv.thesis_std == 0.0
    assert bv.outside is True  # 0.02 > 0.00 ± 0.00 (+0.005 rounding)
    assert t.cells[("synth-lin", "ds", "beta-vae")].outside is False  # 0.99 vs 0.99 ± 0.01
    ae = t.cells[("synth-lin", "dto", "ae")]
    assert ae.outside is True and ae.ours().endswith(MARK)
    rd = t.cells[("synth-lin", "dto", "random-decoder")]
    assert rd.n == 1 and rd.n_failed == 1 and rd.outside is False  # 0.80 vs 0.79 ± 0.21
    assert t.cells[("synth-lin", "ds", "random-decoder")].thesis_mean is None
    md = t.to_markdown()
    assert "| dataset | metric | beta-vae (ours) | beta-vae (thesis) | ae (ours) |" in md
    assert "| synth-lin | DtO ↓ | 0.02 ± 0.01 † | 0.00 ± 0.00 | 1.00 ± 0.14 † | 0.33 ± 0.18 |" in md
    assert "| synth-lin | DS ↑ | 0.99 ± 0.01 | 0.99 ± 0.01 |" in md
    assert "1 failed runs left out" in md
    paths = write_tables(tables, tmp_path / "report")
    assert [p.name for p in paths] == ["report.md", "table-3.3.csv"]
    rows = list(csv.DictReader(io.StringIO((tmp_path / "report" / "table-3.3.csv").read_text())))
    row = [r for r in rows if r["variant"] == "ae" and r["metric"] == "dto"][0]
    assert float(row["mean"]) == pytest.approx(1.0) and row["thesis_mean"] == "0.33"
    assert row["outside"] == "1" and row["n"] == "2"


def test_rows_merge_across_experiments_and_table_34_columns(tmp_path):
    with ResultsStore(tmp_path) as store:
        for ratio, vals in ((1.0, (0.5, 0.5)), (1.5, (0.01, 0.99))):
            fill(store, "table-3.4", [
                ({"variant": "beta-vae", "ratio": ratio, "dataset": "synth-lin"},
                 {"dataset": "synth-lin", "dataset_options": {"ratio": ratio}}, s,
                 {"dto": vals[0], "ds": vals[1]}) for s in range(2)])
        fill(store, "table-3.2-synth-lin", [
            ({"variant": "dep", "dataset": "synth-lin"}, {"dataset": "synth-lin"}, 0,
             {"fraction_polarized": 0.97}),
        ])
        tables = {t.id: t for t in tables_of(store)}
    t34 = tables["table-3.4"]
    assert t34.columns == ["1", "1.5"]
    assert t34.cells[("synth-lin", "dto", "1.5")].thesis_mean == 0.01
    assert t34.cells[("synth-lin", "dto", "1.5")].outside is False
    t32 = tables["table-3.2"]
    cell = t32.cells[("synth-lin", "fraction_polarized", "dep")]
    assert cell.thesis_mean == 0.998 and cell.outside is None
    assert "97.0 % ± 0.0" in t32.to_markdown() and "99.8 %" in t32.to_markdown()


def test_figures_written(tmp_path):
    pytest.importorskip("matplotlib")
    from vaecore.report.figures import draw_figures

    with ResultsStore(tmp_path) as store:
        for beta in (1e-3, 1e-2):
            fill(store, "fig-3.7-synth-lin", [
                ({"variant": "beta-vae", "beta": beta, "dataset": "synth-lin"},
                 {"dataset": "synth-lin", "beta": beta}, s, {"dto": 0.1 + s, "ds": 0.9 - s / 10})
                for s in range(3)])
        for steps in (300, 900):
            fill(store, "fig-3.4", [
                ({"variant": "beta-vae", "steps": steps, "dataset": "dsprites"},
                 {"dataset": "dsprites", "steps": steps}, s, {"dto": 1.0 - s / 10, "ds": s / 10})
                for s in range(3)])
        tables = tables_of(store)
    written = draw_figures(tables, {"fig-3.7": "line", "fig-3.4": "scatter"}, tmp_path / "r")
    names = sorted(p.name for p in written)
    assert names == ["fig-3.4.pdf", "fig-3.4.png", "fig-3.7.pdf", "fig-3.7.png"]
    assert all(p.stat().st_size > 1000 for p in written)


def test_report_shows_latest_expansion_only(tmp_path):
    from vaecore.experiments import ExperimentRecord, ExperimentSpec

    def make(steps):
        return ExperimentSpec.from_dict({
            "experiment": {"name": "t", "runner": "theorem2"},
            "report": {"table": "t", "rows": "variant", "columns": "metric"},
            "variants": [{"variant": "a", "steps": steps}],
            "scales": {"quick": {"seeds": 2}},
        })

    with ResultsStore(tmp_path) as store:
        for steps, value in ((10, 1.0), (20, 0.0)):
            spec = make(steps)
            runs = spec.expand(scale="quick")
            for r in runs:
                rid = store.add(r.experiment, r.config, r.seed)
                store.mark_running(rid)
                store.mark_done(rid, {"pca_distance": value, "dto": value, "random_distance": 1.0})
            store.put_experiment("t", ExperimentRecord.from_spec(spec, runs).to_dict())
        records = experiment_records(store, ["t"])
        no_ids = {"t": ExperimentRecord.from_dict({**records["t"].to_dict(), "runs": []})}
        all_rows = build_tables(store.runs(), no_ids)[0].cells[("a", "dto", "dto")]
        latest = build_tables(store.runs(), records)[0].cells[("a", "dto", "dto")]
    assert all_rows.n == 4 and latest.n == 2 and latest.mean == 0.0
