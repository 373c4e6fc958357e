"""Parsing the tables of an experiment config: keys, ``[report]``, ``[[variants]]``, ``[scales]``.

See :mod:`vaecore.experiments.spec` for the layout of a config.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vaecore._paths import check_component

SCALES: tuple[str, ...] = ("quick", "thesis")

TOP_KEYS = ("experiment", "report", "defaults", "grid", "variants", "scales")
EXPERIMENT_KEYS = ("name", "title", "description", "runner", "metrics", "groups", "requires")
REPORT_KEYS = ("table", "title", "rows", "columns", "figure", "x", "metrics", "thesis", "labels", "tables")
SCALE_KEYS = ("seeds", "defaults", "variants", "grid")
FIGURES = ("scatter", "line", "ratio", "eigenfaces", "none")


def bad_key(where: str, key: str, valid: Sequence[str]) -> ValueError:
    return ValueError(
        f"{where}: unknown key {key!r}; valid keys are: {', '.join(sorted(valid))}"
    )


def check_keys(where: str, table: Mapping[str, Any], valid: Sequence[str]) -> None:
    for key in table:
        if key not in valid:
            raise bad_key(where, key, valid)


def check_table(where: str, value: Any) -> dict:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a table; got {type(value).__name__}")
    return dict(value)


def check_names(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(m, str) for m in value):
        raise ValueError(f"{where} must be a list of names; got {value!r}")
    return tuple(value)


@dataclass(frozen=True)
class ReportSpec:
    """How reports lay out an experiment (the ``[report]`` table of a config).

    ``table`` (one path component) merges experiments into one table, titled ``title``;
    ``rows`` × ``metrics`` lines, one cell per value of ``columns`` (``"metric"``: the metrics
    are the cells); ``metrics`` (default: the experiment's) are the metrics shown; ``thesis``
    names the table of the thesis's values (``thesis_values.toml``) cells are compared with;
    ``labels`` maps metric names to their display labels; ``tables`` (metric → table id) splits
    the experiment into one table per metric, each compared with the thesis table of that id
    (chapter 4: one sweep → Tables 4.2–4.5; :mod:`vaecore.report.chapter4`).
    """

    table: str
    title: str | None = None
    rows: str = "dataset"
    columns: str = "variant"
    figure: str = "none"
    x: str | None = None
    metrics: tuple[str, ...] | None = None
    thesis: str | None = None
    labels: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, where: str, rep: Mapping[str, Any], default_table: str) -> ReportSpec:
        check_keys(where, rep, REPORT_KEYS)
        report = cls(
            table=check_component(str(rep.get("table", default_table)), what=f"{where} table"),
            title=None if rep.get("title") is None else str(rep["title"]),
            rows=str(rep.get("rows", "dataset")),
            columns=str(rep.get("columns", "variant")),
            figure=str(rep.get("figure", "none")),
            x=rep.get("x"),
            metrics=None if "metrics" not in rep else check_names(f"{where} metrics", rep["metrics"]),
            thesis=None if rep.get("thesis") is None else str(rep["thesis"]),
            labels={str(k): str(v) for k, v in check_table(f"{where} labels", rep.get("labels", {})).items()},
            tables={str(k): check_component(str(v), what=f"{where} tables.{k}")
                    for k, v in check_table(f"{where} tables", rep.get("tables", {})).items()},
        )
        for tid in report.tables.values():
            from vaecore.report.thesis import thesis_values

            if tid not in thesis_values():
                raise ValueError(f"{where} tables: no thesis values named {tid!r} in thesis_values.toml")
        if report.thesis is not None:
            from vaecore.report.thesis import thesis_table

            try:
                thesis_table(report.thesis)
            except ValueError as exc:
                raise ValueError(f"{where} thesis: {exc}") from None
        if report.figure not in FIGURES:
            raise ValueError(f"{where}: figure must be one of {', '.join(FIGURES)}; got {report.figure!r}")
        return report


class ParamChecker:
    """Checks parameter tables against the keys a run function accepts."""

    def __init__(self, runner: str) -> None:
        from vaecore.experiments.runfns import get_run_function, run_function_keys

        self.valid = run_function_keys(get_run_function(runner))

    def __call__(self, where: str, table: Any) -> dict:
        table = check_table(where, table)
        if self.valid is not None:
            for key in table:
                if key.split(".", 1)[0] not in self.valid:
                    raise bad_key(where, key, self.valid)
        return table

    def grid(self, where: str, grid: Any) -> dict:
        grid = self(where, grid)
        for key, values in grid.items():
            if not isinstance(values, list) or not values:
                raise ValueError(f"{where}: {key!r} must be a non-empty list of values; got {values!r}")
        return grid


def parse_variants(where: str, raw: Any, check: ParamChecker) -> tuple[dict, ...]:
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where}: [[variants]] must be a non-empty array of tables")
    variants = []
    for i, v in enumerate(raw):
        w = f"{where} [[variants]] #{i + 1}"
        v = check_table(w, v)
        if "variant" not in v:
            raise ValueError(f"{w}: missing required key 'variant' (the column label)")
        label = str(v.pop("variant"))
        variants.append({"variant": label, **check(w, v)})
    labels = [v["variant"] for v in variants]
    if len(set(labels)) != len(labels):
        raise ValueError(f"{where}: variant labels must be unique; got {labels}")
    return tuple(variants)


def parse_scales(where: str, raw: Any, labels: list[str], check: ParamChecker) -> dict:
    scales = {}
    raw = check_table(f"{where} [scales]", raw)
    check_keys(f"{where} [scales]", raw, SCALES)
    for sname in SCALES:
        w = f"{where} [scales.{sname}]"
        sc = check_table(w, raw.get(sname, {}))
        check_keys(w, sc, SCALE_KEYS)
        seeds = sc.get("seeds", 5 if sname == "thesis" else 3)
        if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
            raise ValueError(f"{w}: seeds must be a positive integer; got {seeds!r}")
        sv = check_table(f"{w}.variants", sc.get("variants", {}))
        for label, table in sv.items():
            if label not in labels:
                raise ValueError(f"{w}.variants: unknown variant {label!r}; valid variants are: "
                                 f"{', '.join(labels)}")
            sv[label] = check(f"{w}.variants.{label}", table)
        scales[sname] = {
            "seeds": seeds,
            "defaults": check(f"{w}.defaults", sc.get("defaults", {})),
            "variants": sv,
            "grid": check.grid(f"{w}.grid", sc["grid"]) if "grid" in sc else None,
        }
    return scales
