"""The thesis's published numbers (Tables 3.2–3.4), shipped as ``thesis_values.toml``.

``thesis_value("table-3.3", "synth-lin", "beta-vae", "dto")`` → ``(0.0, 0.0)``;
``(mean, None)`` where the thesis prints no ± (Table 3.2), ``None`` for a "–" cell.
"""

from __future__ import annotations

import copy
import functools
import sys
from importlib import resources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def format_key(value: object) -> str:
    """How a row / column value is written as a key: numbers with ``:g`` (1.0 → "1")."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if isinstance(value, list):
        return "-".join(format_key(v) for v in value)
    return str(value)


@functools.lru_cache(maxsize=1)
def thesis_values() -> dict:
    """The whole table: ``{table: {row: {column: {metric: [mean, std?]}}}}``."""
    with (resources.files("vaecore.report") / "thesis_values.toml").open("rb") as fh:
        return tomllib.load(fh)


def thesis_table(name: str) -> dict:
    """The thesis's values of one table, ``{row: {column: {metric: [mean, std?]}}}``.

    ``name`` is a top-level key of ``thesis_values.toml`` (an experiment config's
    ``[report] thesis``); an unknown name raises ``ValueError`` listing the known ones.
    """
    values = thesis_values()
    if name not in values:
        raise ValueError(f"thesis values: unknown table {name!r}; known tables are: "
                         f"{', '.join(sorted(values))}")
    return copy.deepcopy(values[name])


def lookup(values: dict, row: object, column: object, metric: str) -> tuple[float, float | None] | None:
    """``(mean, std)`` of one cell of a :func:`thesis_table` (``None``: the thesis has none)."""
    entry = values.get(format_key(row), {}).get(format_key(column), {}).get(metric)
    if entry is None:
        return None
    return float(entry[0]), (float(entry[1]) if len(entry) > 1 else None)


def thesis_value(table: str, row: object, column: object, metric: str) -> tuple[float, float | None] | None:
    """The thesis's ``(mean, std)`` for one cell, or ``None`` if it reports none."""
    entry = (
        thesis_values()
        .get(table, {})
        .get(format_key(row), {})
        .get(format_key(column), {})
        .get(metric)
    )
    if entry is None:
        return None
    return float(entry[0]), (float(entry[1]) if len(entry) > 1 else None)
