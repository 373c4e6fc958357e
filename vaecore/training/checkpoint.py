"""Atomic checkpoint files: ``torch.save`` to a temporary file in the run folder, then
``os.replace`` (:mod:`vaecore._io`); loading uses ``torch.load(weights_only=True)`` (no pickled code)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .._io import atomic_write, atomic_write_json

__all__ = ["CHECKPOINT", "load_checkpoint", "load_model_state", "save_checkpoint", "write_json_atomic"]

CHECKPOINT = "checkpoint.pt"


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


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` on the CPU, ``weights_only=True``."""
    return torch.load(Path(path), map_location="cpu", weights_only=True)


def write_json_atomic(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON atomically."""
    atomic_write_json(path, obj)
