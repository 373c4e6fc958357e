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
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vaecore._io import atomic_write_text
from vaecore._paths import check_component
from vaecore.experiments.record import DEFAULT_LABELS

MARK = "†"
ROUNDING = 0.005

METRIC_LABELS = DEFAULT_LABELS  # kept for older imports


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
    labels: dict = field(default_factory=dict)  # metric -> display label

    def label(self, metric: str) -> str:
        return self.labels.get(metric, DEFAULT_LABELS.get(metric, metric))

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
            label = self.label(col) if self.columns_key == "metric" else col
            head.append(f"{label} (ours)" if has_thesis else label)
            if has_thesis:
                head.append(f"{label} (thesis)")
        rows = []
        for row, metric, cells in self.lines():
            line = [row] + ([] if self.columns_key == "metric" else [self.label(metric)])
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


def write_tables(tables: Iterable[Table], out: str | Path) -> list[Path]:
    """Write ``report.md`` and one ``<table>.csv`` per table into ``out`` (atomically).

    Table ids must be single path components, so every file stays inside ``out``.
    """
    out = Path(out)
    tables = list(tables)
    written = [atomic_write_text(out / "report.md", "\n".join(t.to_markdown() for t in tables))]
    for t in tables:
        name = check_component(t.id, what="report table id")
        written.append(atomic_write_text(out / f"{name}.csv", t.to_csv()))
    return written
