"""The report's provenance section: where each experiment's data came from, and which software.

Read from the ``provenance`` the train run function stores beside every run's metrics
(:func:`vaecore.datasets.provenance.dataset_provenance` and ``software_versions``); one line per
distinct (experiment, data source, software) with the number of runs it covers. Runs stored by a
release that did not record provenance are counted as "not recorded"; a store with none recorded
gets no section.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

__all__ = ["provenance_markdown"]


def _source(p: dict) -> str:
    kind = p.get("kind")
    name = p.get("name") or p.get("class")
    if kind == "procedural":
        return f"{name}: procedural ({p.get('renderer')})"
    if kind in ("file", "folder"):
        return f"{name}: {kind} {p.get('path')} (sha256 {str(p.get('sha256'))[:16]}…, {p.get('bytes')} bytes)"
    if kind == "derived":
        extra = ", ".join(f"{k}={v}" for k, v in p.items() if k not in ("kind", "name", "class", "base"))
        return f"{name} of [{_source(p.get('base') or {})}]" + (f" ({extra})" if extra else "")
    return f"{name}: {kind}"


def provenance_markdown(records: Iterable) -> str:
    """A Markdown section listing the data sources and software versions of the done runs."""
    counts: Counter = Counter()
    for rec in records:
        if rec.status != "done":
            continue
        prov = (rec.metrics or {}).get("provenance")
        if not isinstance(prov, dict):
            counts[(rec.experiment, "not recorded", "")] += 1
            continue
        soft = ", ".join(f"{k} {v}" for k, v in sorted((prov.get("software") or {}).items()))
        counts[(rec.experiment, _source(prov.get("dataset") or {}), soft)] += 1
    if all(source == "not recorded" for _exp, source, _soft in counts):
        return ""  # a store of a release that did not record provenance: its report is unchanged
    lines = ["## Provenance", "", "| experiment | data | software | runs |", "|---|---|---|---|"]
    for (exp, source, soft), n in sorted(counts.items()):
        lines.append(f"| {exp} | {source} | {soft or '–'} | {n} |")
    return "\n".join(lines) + "\n"
