"""ExperimentRecord: what a report needs to know about an experiment, stored with its runs.

The sweep driver writes one record per experiment into the results store
(``ResultsStore.put_experiment``) from the experiment's config; reports read them back
(``ResultsStore.experiment_records``) and need nothing else: the report code holds no table ids,
titles, metric lists or thesis values of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from vaecore._paths import check_component

__all__ = ["DEFAULT_LABELS", "ExperimentRecord"]

#: display labels of the metrics (a config's ``[report] labels`` adds to / overrides them)
DEFAULT_LABELS = {
    "ds": "DS ↑",
    "dto": "DtO ↓",
    "mig": "MIG ↑",
    "fraction_polarized": "polarized",
    "pca_distance": "dist(decoder, PCA) ↓",
    "random_distance": "dist(random, PCA)",
}


@dataclass(frozen=True)
class ExperimentRecord:
    """One experiment as reports see it.

    Attributes
    ----------
    name : experiment name.
    title : title of its report table (experiments sharing ``layout["table"]`` share a table;
        the first record's title wins).
    layout : ``{"table", "rows", "columns", "figure", "x"}`` of the config's ``[report]``.
    metrics : the metrics shown (empty: every metric the runs stored).
    thesis : the thesis's values, ``{row: {column: {metric: [mean, std?]}}}`` (empty: none).
    labels : metric name → display label.
    runs : ids of the runs of the latest expansion (reports leave older rows out); empty: all.
    """

    name: str
    title: str
    layout: dict
    metrics: tuple[str, ...] = ()
    thesis: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    runs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_component(self.name, what="experiment record name")
        check_component(self.table, what=f"report table of experiment {self.name!r}")

    @property
    def table(self) -> str:
        return str(self.layout.get("table") or self.name)

    @property
    def rows(self) -> str:
        return str(self.layout.get("rows", "dataset"))

    @property
    def columns(self) -> str:
        return str(self.layout.get("columns", "variant"))

    @property
    def figure(self) -> str:
        return str(self.layout.get("figure", "none"))

    def label(self, metric: str) -> str:
        return self.labels.get(metric, DEFAULT_LABELS.get(metric, metric))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["metrics"], d["runs"] = list(self.metrics), list(self.runs)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExperimentRecord:
        if not isinstance(data, Mapping):
            raise TypeError(f"ExperimentRecord.from_dict: expected a mapping; got {type(data).__name__}")
        valid = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - valid)
        if unknown:
            raise ValueError(f"ExperimentRecord.from_dict: unknown key {unknown[0]!r}; valid keys "
                             f"are: {', '.join(sorted(valid))}")
        return cls(name=str(data["name"]), title=str(data.get("title", data["name"])),
                   layout=dict(data.get("layout") or {}), metrics=tuple(data.get("metrics") or ()),
                   thesis=dict(data.get("thesis") or {}), labels=dict(data.get("labels") or {}),
                   runs=tuple(data.get("runs") or ()))

    @classmethod
    def default(cls, name: str) -> ExperimentRecord:
        """The record of an experiment nothing is known about: its own table, every metric."""
        return cls(name=name, title=name, layout={"table": name})

    @classmethod
    def from_spec(cls, spec: Any, runs: Iterable[Any] = ()) -> ExperimentRecord:
        """The record of an :class:`~vaecore.experiments.spec.ExperimentSpec` (and its runs)."""
        from vaecore.report.thesis import thesis_table

        rep = spec.report
        layout = {"table": rep.table, "rows": rep.rows, "columns": rep.columns,
                  "figure": rep.figure, "x": rep.x}
        if getattr(rep, "tables", None):
            layout["tables"] = dict(rep.tables)
        metrics = spec.metrics if rep.metrics is None else rep.metrics
        return cls(name=spec.name, title=rep.title or spec.title, layout=layout,
                   metrics=tuple(metrics), thesis=thesis_table(rep.thesis) if rep.thesis else {},
                   labels=dict(rep.labels), runs=tuple(r.id for r in runs))
