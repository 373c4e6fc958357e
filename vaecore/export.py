"""Exports: a trained model as safetensors + JSON, and the runs of a store as CSV / JSON lines.

Model export (``vaecore export RUN --format safetensors --out DIR``) writes two files:

- ``model.safetensors`` — the model's ``state_dict`` (weights only: no optimizer, no pickled code;
  safetensors stores raw tensors, so loading it can never execute code);
- ``model.json`` — ``{"format": "vaecore-model", "version": 1, "config": TrainConfig.to_dict(),
  "observation_shape", "likelihood", "step", "sha256": <of model.safetensors>, "versions": {...}}``.

:func:`load_exported` rebuilds the model from that pair: the config builds the architecture, the
weights must fit it exactly (names and shapes) and match the recorded sha256, else a ``ValueError``
names the file and what differs. The optional dependency is ``safetensors`` (extra ``export``).

Runs export (``vaecore runs DIR --format csv|jsonl``): one row per run of the store with its id,
experiment, seed, status, attempts, the config flattened as ``config.<key>`` and the metrics as
``metric.<name>``; :func:`runs_dataframe` returns the same rows as a pandas DataFrame.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vaecore._io import atomic_write_bytes, atomic_write_json, atomic_write_text

__all__ = ["export_model", "load_exported", "runs_dataframe", "runs_rows", "write_runs"]

MODEL_FORMAT = "vaecore-model"
MODEL_VERSION = 1
WEIGHTS = "model.safetensors"
META = "model.json"
FORMATS = ("safetensors",)
RUN_FORMATS = ("csv", "jsonl")


def _safetensors_torch() -> Any:
    try:
        import safetensors.torch as st
    except ImportError as exc:
        raise RuntimeError(
            "safetensors is not installed; `pip install 'vaecore[export]'` (or `pip install safetensors`)"
        ) from exc
    return st


def _versions() -> dict[str, str]:
    import numpy
    import torch

    import vaecore

    return {"vaecore": vaecore.__version__, "torch": torch.__version__, "numpy": numpy.__version__}


def export_model(run_dir: str | Path, out: str | Path, *, format: str = "safetensors") -> Path:
    """Write the model of the run folder ``run_dir`` as ``out/model.safetensors`` + ``out/model.json``.

    Returns the folder ``out``. Both files are written atomically.
    """
    from vaecore.training.run import load_run

    if format not in FORMATS:
        raise ValueError(f"export: format must be one of {FORMATS}; got {format!r}")
    if str(out) == "":
        raise ValueError("export: out must name a folder; got an empty string")
    st = _safetensors_torch()
    run = load_run(run_dir)
    state = {k: v.detach().cpu().contiguous() for k, v in run.model.state_dict().items()}
    blob = st.save(state)
    folder = Path(out)
    atomic_write_bytes(folder / WEIGHTS, blob)
    meta = {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "config": run.config.to_dict(),
        "observation_shape": list(run.observation_shape),
        "likelihood": run.likelihood,
        "step": run.step,
        "sha256": hashlib.sha256(blob).hexdigest(),
        "versions": _versions(),
    }
    atomic_write_json(folder / META, meta)
    return folder


def _read_meta(folder: Path) -> dict:
    path = folder / META
    if not path.is_file():
        raise FileNotFoundError(f"load_exported: {str(folder)!r} has no {META} (not a vaecore export)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"load_exported: {str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ValueError(f"load_exported: {str(path)!r} is not a {MODEL_FORMAT} file")
    if meta.get("version") != MODEL_VERSION:
        raise ValueError(
            f"load_exported: {str(path)!r} has version {meta.get('version')!r}; this vaecore reads "
            f"version {MODEL_VERSION}"
        )
    return meta


def load_exported(path: str | Path, *, device: str = "cpu") -> Any:
    """Rebuild the model exported by :func:`export_model` from its folder (in eval mode)."""
    from vaecore.training.config import TrainConfig
    from vaecore.training.run import make_model

    st = _safetensors_torch()
    folder = Path(path)
    meta = _read_meta(folder)
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise FileNotFoundError(f"load_exported: {str(weights)!r} is missing")
    blob = weights.read_bytes()
    if hashlib.sha256(blob).hexdigest() != meta.get("sha256"):
        raise ValueError(
            f"load_exported: {str(weights)!r} does not match the sha256 recorded in {META} "
            "(truncated or modified); export the run again"
        )
    try:
        state = st.load(blob)
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
        raise ValueError(f"load_exported: {str(weights)!r} is not a safetensors file: {exc}") from None
    config = TrainConfig.from_dict(meta["config"])
    model = make_model(config, tuple(int(s) for s in meta["observation_shape"]), str(meta["likelihood"]))
    _check_fits(model.state_dict(), state, weights)
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()


def _check_fits(want: dict, got: dict, path: Path) -> None:
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    shapes = [
        f"{k}: expected {tuple(want[k].shape)}, got {tuple(got[k].shape)}"
        for k in sorted(set(want) & set(got))
        if tuple(want[k].shape) != tuple(got[k].shape)
    ]
    if missing or extra or shapes:
        parts = []
        if missing:
            parts.append(f"missing tensors {missing[:5]}")
        if extra:
            parts.append(f"unexpected tensors {extra[:5]}")
        if shapes:
            parts.append("shape mismatches " + "; ".join(shapes[:5]))
        raise ValueError(
            f"load_exported: the tensors in {str(path)!r} do not fit the model its config builds: "
            + ", ".join(parts)
        )


# ------------------------------------------------------------------------------- runs tables

def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}", v, out)
    elif isinstance(value, (list, tuple)):
        out[prefix] = json.dumps(value)
    else:
        out[prefix] = value


def runs_rows(store_path: str | Path, *, experiment: str | None = None) -> list[dict[str, Any]]:
    """One flat dict per run of the results store at ``store_path`` (see the module docstring)."""
    from vaecore.experiments.store import ResultsStore

    rows = []
    with ResultsStore(store_path) as store:
        for rec in store.runs(experiment=experiment):
            row: dict[str, Any] = {"id": rec.id, "experiment": rec.experiment, "seed": rec.seed,
                                   "status": rec.status, "attempts": rec.attempts,
                                   "finished_at": rec.finished_at, "artifacts": rec.artifacts}
            _flatten("config", rec.config, row)
            _flatten("metric", rec.metrics or {}, row)
            rows.append(row)
    return rows


def _columns(rows: Iterable[dict[str, Any]]) -> list[str]:
    cols: dict[str, None] = {}
    for row in rows:
        cols.update(dict.fromkeys(row))
    return list(cols)


def write_runs(store_path: str | Path, out: str | Path | None, *, format: str = "csv") -> str:
    """Write the runs table as CSV or JSON lines to ``out`` (atomically), or return it when ``out`` is None."""
    if format not in RUN_FORMATS:
        raise ValueError(f"runs: format must be one of {RUN_FORMATS}; got {format!r}")
    rows = runs_rows(store_path)
    if format == "jsonl":
        text = "".join(json.dumps(r, allow_nan=False, default=str) + "\n" for r in rows)
    else:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=_columns(rows), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    if out is not None:
        atomic_write_text(out, text)
    return text


def runs_dataframe(store_path: str | Path, *, experiment: str | None = None) -> Any:
    """The runs table as a pandas DataFrame (pandas is optional)."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise RuntimeError("runs_dataframe needs pandas; `pip install pandas`") from exc
    rows = runs_rows(store_path, experiment=experiment)
    return pd.DataFrame(rows, columns=_columns(rows))
