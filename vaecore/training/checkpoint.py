"""Atomic checkpoint files: ``torch.save`` to a temporary file in the run folder, then
``os.replace`` (:mod:`vaecore._io`); loading uses ``torch.load(weights_only=True)`` (no pickled code)
and turns every failure into a :class:`CheckpointError` naming the damaged file."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from .._io import atomic_write, atomic_write_json

__all__ = ["CHECKPOINT", "REQUIRED_KEYS", "CheckpointError", "load_checkpoint", "load_model_state",
           "save_checkpoint", "write_json_atomic"]

CHECKPOINT = "checkpoint.pt"
# keys every checkpoint written by the training loop holds
REQUIRED_KEYS: tuple[str, ...] = ("step", "config", "observation_shape", "likelihood", "model")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded; the message names the file and what to do."""


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` (tensors, numbers, strings, lists, dicts) atomically."""
    atomic_write(path, lambda fh: torch.save(state, fh))


def load_model_state(model: torch.nn.Module, state: dict[str, Any], where: str | Path) -> None:
    """``model.load_state_dict(state)``, failing with a ``ValueError`` that names the folder when the
    saved weights do not fit the model its config builds (e.g. a run written before the
    β-VAE-Σ's encoder emitted k + k² values instead of k + k(k+1)/2)."""
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        lines = [line.strip() for line in str(exc).splitlines()]
        first = next((line for line in lines if "size mismatch" in line or "key" in line), str(exc))
        raise ValueError(
            f"the checkpoint in {str(where)!r} does not fit the {getattr(model, 'name', 'model')!r} "
            f"model its config builds ({first}); it was written by another version of vaecore: "
            f"retrain the run (remove its folder, or its store row, and rerun)"
        ) from exc


def _reason(exc: BaseException) -> str:
    """A short cause for a failed ``torch.load``, without torch's advice to unpickle code."""
    text = " ".join(str(exc).split())
    if "weights_only" in text or "Weights only load failed" in text:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
        if found:
            return f"it holds a pickled {found.group(1)}, not only tensors and plain data"
        return "torch cannot read it: damaged, truncated or another format"
    first = text.split(". ")[0][:160]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def load_checkpoint(path: str | Path, *, required: tuple[str, ...] = REQUIRED_KEYS) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` on the CPU, ``weights_only=True``.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    CheckpointError
        (a ``ValueError``) when the file is damaged, truncated, not a checkpoint, holds pickled
        objects beyond tensors and plain data, or lacks a key of ``required`` (default
        :data:`REQUIRED_KEYS`, a training checkpoint; the manipulator passes its own); the
        message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load_checkpoint: no checkpoint file {str(path)!r}")
    todo = "delete it (or the run folder) and train the run again"
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, EOFError, RuntimeError, ValueError, KeyError, IndexError, TypeError,
            AttributeError, ImportError, pickle.UnpicklingError) as exc:
        raise CheckpointError(
            f"checkpoint {str(path)!r} is damaged or not a vaecore checkpoint ({_reason(exc)}); {todo}"
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {str(path)!r} holds a {type(state).__name__}, not a "
                              f"vaecore checkpoint; {todo}")
    missing = [k for k in required if k not in state]
    if missing:
        raise CheckpointError(f"checkpoint {str(path)!r} lacks {', '.join(map(repr, missing))}: it "
                              f"is not a vaecore training checkpoint; {todo}")
    return state


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON atomically."""
    atomic_write_json(path, obj)
