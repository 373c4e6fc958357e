"""Report tables: mean ± std over seeds, beside the thesis's value (SPEC §6).

A table is laid out by the experiment's ``[report]`` section: one line per
(row value, metric), one cell per column value (``columns = "metric"`` puts the
metrics in the cells instead). Experiments sharing a ``table`` id (the Table 3.3
rows come from one config per dataset) are merged into one table.

Statistics: mean and sample standard deviation (``ddof = 1``; 0 for one seed)
over the seeds of a cell — the thesis does not state its estimator.
A cell is marked ``†`` when our mean lies outside the thesis's ``mean ± std``
widened by 0.005 (the thesis prints two decimals, so ±0.00 means "< 0.005").
Cells where the thesis prints no ± (Table 3.2) are not marked.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from vaecore.report.thesis import format_key, thesis_value

MARK = "†"
ROUNDING = 0.005
EXPERIMENTS_FILE = "experiments.json"

METRIC_LABELS = {
    "ds": "DS ↑",
    "dto": "DtO ↓",
    "mig": "MIG ↑",
    "fraction_polarized": "polarized",
    "pca_distance": "dist(decoder, PCA) ↓",
    "random_distance": "dist(random, PCA)",
}


def _fmt(metric: str, x: float) -> str:
    if metric == "fraction_polarized":
        return f"{100 * x:.1f} %"
    return f"{x:.2f}"


@dataclass(frozen=True)
class Cell:
    """One table cell: our seeds' statistics and the thesis's value."""

    table: str
    row: str
    metric: str
    column: str
    n: int
    mean: float | None
    std: float | None
    thesis_mean: float | None = None
    thesis_std: float | None = None
    n_failed: int = 0
    values: tuple[float, ...] = ()

    @property
    def outside(self) -> bool | None:
        """Whether our mean lies outside the thesis's mean ± std (``None``: not comparable)."""
        if self.mean is None or self.thesis_mean is None or self.thesis_std is None:
            return None
        return abs(self.mean - self.thesis_mean) > self.thesis_std + ROUNDING

    def ours(self) -> str:
        if self.mean is None:
            return "failed" if self.n_failed else "–"
        text = f"{_fmt(self.metric, self.mean)} ± {_fmt(self.metric, self.std or 0.0)}"
        if self.metric == "fraction_polarized":
            text = f"{_fmt(self.metric, self.mean)} ± {100 * (self.std or 0.0):.1f}"
        return text + (f" {MARK}" if self.outside else "")

    def thesis(self) -> str:
        if self.thesis_mean is None:
            return "–"
        if self.thesis_std is None:
            return _fmt(self.metric, self.thesis_mean)
        return f"{_fmt(self.metric, self.thesis_mean)} ± {_fmt(self.metric, self.thesis_std)}"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["outside"] = self.outside
        d["values"] = list(self.values)
        return d


@dataclass
class Table:
    """One report table (possibly merged from several experiments)."""

    id: str
    title: str
    rows_key: str
    columns_key: str
    rows: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=list)
    cells: dict = field(default_factory=dict)  # (row, metric, column) -> Cell
    experiments: list[str] = field(default_factory=list)
    failed_runs: set = field(default_factory=set)

    @property
    def value(self) -> int:
        """Number of cells marked outside the thesis's ± (what a reader checks first)."""
        return sum(1 for c in self.cells.values() if c.outside)

    def as_dict(self) -> dict:
        return {
            "id": self.id, "title": self.title, "rows": self.rows, "columns": self.columns,
            "metrics": self.metrics, "experiments": self.experiments,
            "cells": [c.as_dict() for c in self.cells.values()],
        }

    # -- rendering -------------------------------------------------------------------
    def lines(self) -> list[tuple[str, str, list[Cell | None]]]:
        """(row, metric, cells per column) in display order."""
        out = []
        for row in self.rows:
            if self.columns_key == "metric":
                cells = [self.cells.get((row, m, m)) for m in self.metrics]
                if any(cells):
                    out.append((row, "", cells))
                continue
            for metric in self.metrics:
                cells = [self.cells.get((row, metric, c)) for c in self.columns]
                if any(cells):
                    out.append((row, metric, cells))
        return out

    def header(self) -> list[str]:
        return self.metrics if self.columns_key == "metric" else self.columns

    def to_markdown(self) -> str:
        has_thesis = any(c.thesis_mean is not None for c in self.cells.values())
        head = [self.rows_key] + ([] if self.columns_key == "metric" else ["metric"])
        for col in self.header():
            label = METRIC_LABELS.get(col, col) if self.columns_key == "metric" else col
            head.append(f"{label} (ours)" if has_thesis else label)
            if has_thesis:
                head.append(f"{label} (thesis)")
        rows = []
        for row, metric, cells in self.lines():
            line = [row] + ([] if self.columns_key == "metric" else [METRIC_LABELS.get(metric, metric)])
            for cell in cells:
                line.append(cell.ours() if cell else "–")
                if has_thesis:
                    line.append(cell.thesis() if cell else "–")
            rows.append(line)
        text = [f"### {self.title}", ""]
        text.append("| " + " | ".join(head) + " |")
        text.append("|" + "|".join("---" for _ in head) + "|")
        text += ["| " + " | ".join(r) + " |" for r in rows]
        ns = sorted({c.n for c in self.cells.values() if c.mean is not None})
        note = f"mean ± std over {'/'.join(map(str, ns)) or 0} seeds"
        if has_thesis:
            note += f"; {MARK} = outside the thesis's mean ± std"
        failed = len(self.failed_runs)
        if failed:
            note += f"; {failed} failed runs left out"
        text += ["", f"_{note}._", ""]
        return "\n".join(text)

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["table", self.rows_key, "metric", self.columns_key, "n", "mean", "std",
                         "thesis_mean", "thesis_std", "outside", "n_failed"])
        for cell in self.cells.values():
            writer.writerow([
                self.id, cell.row, cell.metric, cell.column, cell.n,
                "" if cell.mean is None else repr(cell.mean),
                "" if cell.std is None else repr(cell.std),
                "" if cell.thesis_mean is None else cell.thesis_mean,
                "" if cell.thesis_std is None else cell.thesis_std,
                "" if cell.outside is None else int(cell.outside), cell.n_failed,
            ])
        return buf.getvalue()


def _group_value(group: Mapping, params: Mapping, key: str) -> object:
    if key in group:
        return group[key]
    if key in params:
        return params[key]
    extra = [k for k in group if k not in ("variant", "dataset")]
    return group[extra[0]] if extra else group.get("variant", "")


def layouts_from_store_dir(out: str | Path) -> dict[str, dict]:
    """Experiment name → ``{"title", "report": {...}}`` recorded by ``vaecore sweep``."""
    path = Path(out) / EXPERIMENTS_FILE
    if path.is_file():
        return json.loads(path.read_text())
    return {}


def record_layouts(out: str | Path, specs: Iterable, runs: Iterable = ()) -> None:
    """Write the report layout of ``specs`` into ``OUT/experiments.json`` (atomically).

    ``runs`` (the RunSpecs of the latest sweep) are recorded per experiment, so reports
    show the runs of the latest expansion only: rows of an older version of a config (other
    steps, other β) stay in the store but no longer enter the tables.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = layouts_from_store_dir(out)
    ids: dict[str, list[str]] = {}
    for run in runs:
        ids.setdefault(run.experiment, []).append(run.id)
    for spec in specs:
        data[spec.name] = {"title": spec.title, "report": asdict(spec.report),
                           "metrics": list(spec.metrics)}
        if spec.name in ids:
            data[spec.name]["runs"] = ids[spec.name]
    tmp = out / (EXPERIMENTS_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, out / EXPERIMENTS_FILE)


def _layout(name: str, layouts: Mapping[str, dict]) -> dict:
    if name in layouts:
        return layouts[name]
    try:
        from vaecore.experiments.spec import load_experiment

        spec = load_experiment(name)
        return {"title": spec.title, "report": asdict(spec.report), "metrics": list(spec.metrics)}
    except ValueError:
        return {"title": name, "report": {"table": name, "rows": "dataset", "columns": "variant"},
                "metrics": []}


_TITLES = {
    "table-3.2": "Table 3.2 — validity of the polarized regime (fraction of training with ΔKL < 3 %)",
    "table-3.3": "Table 3.3 — orthogonality (DtO) and disentanglement (DS)",
    "table-3.4": "Table 3.4 — degenerate singular values (Synth. Lin. ratio)",
    "fig-3.4": "Figure 3.4 — DtO and DS of dSprites β-VAE restarts",
    "fig-3.7": "Figure 3.7 — line search over β",
    "theorem-2": "Theorem 2 — linear VAE decoder vs PCA directions",
}


def build_tables(records: Iterable, layouts: Mapping[str, dict] | None = None) -> list[Table]:
    """Aggregate store records into report tables.

    Parameters
    ----------
    records : iterable of RunRecord
        All runs (failed ones are counted per cell, pending/running ones ignored).
    layouts : mapping, optional
        Experiment name → layout (see :func:`layouts_from_store_dir`); shipped configs otherwise.
    """
    layouts = layouts or {}
    current = {name: set(lay["runs"]) for name, lay in layouts.items() if "runs" in lay}
    # rows and columns appear in the order of the configs' expansion (variants, grid),
    # not in the order the runs happened to be (re)done
    ordered = [rid for lay in layouts.values() for rid in lay.get("runs", ())]
    position = {rid: i for i, rid in enumerate(ordered)}
    records = sorted(records, key=lambda r: position.get(r.id, len(position)))
    tables: dict[str, Table] = {}
    values: dict[tuple, list[float]] = {}
    failed: dict[tuple, int] = {}
    for rec in records:
        if rec.status not in ("done", "failed"):
            continue
        if rec.experiment in current and rec.id not in current[rec.experiment]:
            continue  # from an older version of the config
        lay = _layout(rec.experiment, layouts)
        rep = lay["report"]
        tid = rep.get("table") or rec.experiment
        table = tables.get(tid)
        if table is None:
            table = tables[tid] = Table(
                id=tid, title=_TITLES.get(tid, lay.get("title", tid)),
                rows_key=rep.get("rows", "dataset"), columns_key=rep.get("columns", "variant"),
            )
        if rec.experiment not in table.experiments:
            table.experiments.append(rec.experiment)
        if rec.status == "failed":
            table.failed_runs.add(rec.id)
        group, params = rec.config.get("group", {}), rec.config.get("params", {})
        row = format_key(_group_value(group, params, table.rows_key))
        if row not in table.rows:
            table.rows.append(row)
        metrics = list(lay.get("metrics") or []) or sorted((rec.metrics or {}).keys())
        if tid == "table-3.2":
            metrics = ["fraction_polarized"]
        if tid == "theorem-2":
            metrics = ["pca_distance", "dto", "random_distance"]
        for m in metrics:
            if m not in table.metrics:
                table.metrics.append(m)
        for m in metrics:
            col = m if table.columns_key == "metric" else format_key(
                _group_value(group, params, table.columns_key))
            if col not in table.columns:
                table.columns.append(col)
            key = (tid, row, m, col)
            if rec.status == "failed":
                failed[key] = failed.get(key, 0) + 1
                values.setdefault(key, [])
                continue
            v = (rec.metrics or {}).get(m)
            values.setdefault(key, [])
            if isinstance(v, (int, float)) and math.isfinite(v):
                values[key].append(float(v))
    for (tid, row, m, col), vals in values.items():
        table = tables[tid]
        arr = np.asarray(vals, dtype=np.float64)
        tv = None if table.columns_key == "metric" else thesis_value(tid, row, col, m)
        table.cells[(row, m, col)] = Cell(
            table=tid, row=row, metric=m, column=col, n=len(vals),
            mean=float(arr.mean()) if len(vals) else None,
            std=(float(arr.std(ddof=1)) if len(vals) > 1 else 0.0) if len(vals) else None,
            thesis_mean=None if tv is None else tv[0],
            thesis_std=None if tv is None else tv[1],
            n_failed=failed.get((tid, row, m, col), 0),
            values=tuple(vals),
        )
    order = list(_TITLES)
    return sorted(tables.values(), key=lambda t: (order.index(t.id) if t.id in order else len(order), t.id))


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_tables(tables: Iterable[Table], out: str | Path) -> list[Path]:
    """Write ``report.md`` and one ``<table>.csv`` per table into ``out``."""
    out = Path(out)
    written = []
    tables = list(tables)
    md = "\n".join(t.to_markdown() for t in tables)
    write_atomic(out / "report.md", md)
    written.append(out / "report.md")
    for t in tables:
        write_atomic(out / f"{t.id}.csv", t.to_csv())
        written.append(out / f"{t.id}.csv")
    return written
