"""Aggregate the runs of a results store into report tables, laid out by experiment records.

Everything about an experiment's table — id, title, rows, columns, metrics, labels, the thesis's
values — comes from its :class:`~vaecore.experiments.record.ExperimentRecord`; this module holds
no table ids of its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from vaecore.experiments.record import ExperimentRecord
from vaecore.report.tables import Cell, Table
from vaecore.report.thesis import format_key, lookup

__all__ = ["build_tables", "label_value"]


def label_value(group: Mapping, params: Mapping, key: str) -> object:
    """The value of a run's row / column label ``key``.

    Looked up in the run's labels (``group``), then in its parameters; when neither has it (a
    scale whose grid varies another key, e.g. ``steps`` for ``epochs``), the run's first grid
    label, else its variant.
    """
    if key in group:
        return group[key]
    if key in params:
        return params[key]
    extra = [k for k in group if k not in ("variant", "dataset")]
    return group[extra[0]] if extra else group.get("variant", "")


def _current(records: Iterable, experiments: Mapping[str, ExperimentRecord]) -> list:
    """Done / failed runs of the latest expansion of each experiment, in expansion order."""
    current = {name: set(rec.runs) for name, rec in experiments.items() if rec.runs}
    position = {rid: i for i, rid in enumerate(rid for rec in experiments.values() for rid in rec.runs)}
    out = [r for r in records if r.status in ("done", "failed")
           and (r.experiment not in current or r.id in current[r.experiment])]
    return sorted(out, key=lambda r: position.get(r.id, len(position)))


def build_tables(records: Iterable, experiments: Mapping[str, ExperimentRecord] | None = None) -> list[Table]:
    """Aggregate store records into report tables (sorted by table id).

    Parameters
    ----------
    records : iterable of RunRecord
        All runs (failed ones are counted per cell, pending/running ones ignored).
    experiments : mapping, optional
        Experiment name → :class:`ExperimentRecord`; an experiment without one gets
        :meth:`ExperimentRecord.default` (its own table, every stored metric, no thesis values).
    """
    experiments = dict(experiments or {})
    tables: dict[str, Table] = {}
    values: dict[tuple, list[float]] = {}
    failed: dict[tuple, int] = {}
    thesis: dict[str, dict] = {}
    for rec in _current(records, experiments):
        exp = experiments.get(rec.experiment) or ExperimentRecord.default(rec.experiment)
        table = tables.get(exp.table)
        if table is None:
            table = tables[exp.table] = Table(id=exp.table, title=exp.title, rows_key=exp.rows,
                                              columns_key=exp.columns)
        table.labels.update({m: exp.label(m) for m in exp.labels})
        for row, cols in exp.thesis.items():
            thesis.setdefault(exp.table, {}).setdefault(row, {}).update(cols)
        if rec.experiment not in table.experiments:
            table.experiments.append(rec.experiment)
        if rec.status == "failed":
            table.failed_runs.add(rec.id)
        group, params = rec.config.get("group", {}), rec.config.get("params", {})
        row = format_key(label_value(group, params, table.rows_key))
        if row not in table.rows:
            table.rows.append(row)
        metrics = list(exp.metrics) or sorted((rec.metrics or {}).keys())
        for m in metrics:
            if m not in table.metrics:
                table.metrics.append(m)
            col = m if table.columns_key == "metric" else format_key(
                label_value(group, params, table.columns_key))
            if col not in table.columns:
                table.columns.append(col)
            key = (exp.table, row, m, col)
            vals = values.setdefault(key, [])
            if rec.status == "failed":
                failed[key] = failed.get(key, 0) + 1
                continue
            v = (rec.metrics or {}).get(m)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                vals.append(float(v))
    for (tid, row, m, col), vals in values.items():
        table = tables[tid]
        tv = None if table.columns_key == "metric" else lookup(thesis.get(tid, {}), row, col, m)
        arr = np.asarray(vals, dtype=np.float64)
        table.cells[(row, m, col)] = Cell(
            table=tid, row=row, metric=m, column=col, n=len(vals),
            mean=float(arr.mean()) if len(vals) else None,
            std=(float(arr.std(ddof=1)) if len(vals) > 1 else 0.0) if len(vals) else None,
            thesis_mean=None if tv is None else tv[0],
            thesis_std=None if tv is None else tv[1],
            n_failed=failed.get((tid, row, m, col), 0),
            values=tuple(vals),
        )
    return sorted(tables.values(), key=lambda t: t.id)
