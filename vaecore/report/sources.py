"""Where a report finds its experiment records.

1. The results store's ``experiments`` table, written at sweep time (this release on); a
   first-release store migrated to schema 1 holds its side file's entries there, read as in 2.
2. For stores written by the first release, which have none: the side file
   ``experiments.json`` beside the store (title, ``[report]`` layout, metrics and the ids of the
   latest expansion), completed by the packaged config of the same name when there is one.
3. Otherwise the packaged config of that name, else :meth:`ExperimentRecord.default`.
"""

from __future__ import annotations

import json
from pathlib import Path

from vaecore.experiments.record import ExperimentRecord

__all__ = ["SIDE_FILE", "experiment_records"]

SIDE_FILE = "experiments.json"


def _packaged(name: str) -> ExperimentRecord | None:
    from vaecore.experiments.shipped import list_experiments, load_experiment

    if name not in list_experiments():
        return None
    return ExperimentRecord.from_spec(load_experiment(name))


def _from_side_file(name: str, entry: dict) -> ExperimentRecord:
    """A first-release side-file entry, completed by the packaged config of the same name."""
    packaged = _packaged(name)
    runs = tuple(entry.get("runs") or ())
    if packaged is not None:
        return ExperimentRecord.from_dict({**packaged.to_dict(), "runs": list(runs)})
    return ExperimentRecord(name=name, title=str(entry.get("title", name)),
                            layout=dict(entry.get("report") or {"table": name}),
                            metrics=tuple(entry.get("metrics") or ()), runs=runs)


def _is_side_entry(rec: dict) -> bool:
    return "report" in rec and "layout" not in rec


def _side_file(store_dir: Path) -> dict:
    path = store_dir / SIDE_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"report: cannot read {str(path)!r}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"report: {str(path)!r} must hold a JSON object; got {type(data).__name__}")
    return data


def experiment_records(store, names) -> dict[str, ExperimentRecord]:
    """Experiment name → record for every name in ``names`` (the store's experiments)."""
    stored = {}
    if hasattr(store, "experiment_records"):
        # records migrated from a first-release side file keep its layout ("report" key)
        stored = {name: _from_side_file(name, rec) if _is_side_entry(rec)
                  else ExperimentRecord.from_dict({"name": name, **rec})
                  for name, rec in store.experiment_records().items()}
    side = _side_file(Path(store.path).parent) if not stored else {}
    out: dict[str, ExperimentRecord] = {}
    for name in names:
        if name in stored:
            out[name] = stored[name]
        elif name in side:
            out[name] = _from_side_file(name, side[name])
        else:
            out[name] = _packaged(name) or ExperimentRecord.default(name)
    return out
