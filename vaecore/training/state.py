"""Where a training run stands: its folder, step, history and monitor records (:class:`RunState`).

A run folder holds ``config.json`` (:meth:`TrainConfig.to_dict`), ``checkpoint.pt`` (written
atomically: step, config, model, optimizers, sampler and noise states, history, monitor records)
and ``run.json`` (status, step, total steps, observation shape, likelihood, polarized summary,
last losses, error). A run kept in memory (``out=None``) writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vaecore.datasets.provenance import dataset_provenance, software_versions
from vaecore.training.checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint, write_json_atomic
from vaecore.training.config import RESUMABLE_CHANGES, TrainConfig
from vaecore.training.monitor import summarize

__all__ = ["CHECKPOINT_FORMAT", "RunState", "check_resumable"]

CHECKPOINT_FORMAT = 1


def check_resumable(saved: Mapping[str, Any], config: TrainConfig, path: Path) -> None:
    """Refuse a checkpoint whose config differs from ``config`` in more than
    :data:`RESUMABLE_CHANGES`. Both sides are compared as :meth:`TrainConfig.to_dict` of the
    config they describe, so a checkpoint of an earlier release (flat keys of every model)
    compares equal to the same config written now."""
    try:
        before = TrainConfig.from_dict(saved).to_dict()
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"train: the checkpoint in {str(path)!r} holds a config this version cannot read ({exc}); "
            "pass resume=False and overwrite=True to start over, or use another out folder"
        ) from exc
    now = config.to_dict()
    diff = sorted(k for k in set(before) | set(now) if k not in RESUMABLE_CHANGES and before.get(k) != now.get(k))
    if diff:
        k = diff[0]
        raise ValueError(
            f"train: the checkpoint in {str(path)!r} was made with {k}={before.get(k)!r}, this config "
            f"has {k}={now.get(k)!r}; pass resume=False and overwrite=True to start over, or use "
            f"another out folder (only {sorted(RESUMABLE_CHANGES)} may change on resume)"
        )


class RunState:
    """The run's progress and its files.

    Opening a folder that holds a checkpoint loads it (``resume=True``, after
    :func:`check_resumable`) or refuses (``resume=False`` without ``overwrite``); the loaded state
    reaches the model, optimizers and samplers through :meth:`restore`.
    """

    def __init__(self, out: str | Path | None, config: TrainConfig, *, resume: bool, overwrite: bool) -> None:
        self.config = config
        self.dir = Path(out) if out is not None else None
        self.step = 0
        self.total = 0
        self.history: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []
        self.monitor_on = False
        self.observation_shape: tuple[int, ...] = ()
        self.likelihood = ""
        self.last_saved: int | None = None
        self.saved: dict[str, Any] | None = None
        path = self.dir / CHECKPOINT if self.dir is not None else None
        if path is not None and path.is_file():
            if resume:
                self.saved = load_checkpoint(path)
                check_resumable(self.saved["config"], config, self.dir)  # type: ignore[arg-type]
            elif not overwrite:
                raise FileExistsError(
                    f"train: {str(self.dir)!r} already holds a run; pass resume=True to continue it or "
                    "overwrite=True to start over"
                )

    def restore(self, parts: Any, total: int) -> None:
        """Load the opened checkpoint (if any) into ``parts`` and take its step and logs."""
        self.total = total
        self.observation_shape, self.likelihood = parts.observation_shape, parts.likelihood
        self.provenance = {"dataset": dataset_provenance(parts.sampler.dataset), "software": software_versions()}
        if self.saved is None:
            return
        step = int(self.saved["step"])
        if step > total:
            raise ValueError(
                f"train: the checkpoint in {str(self.dir)!r} is at step {step}, beyond the "
                f"{total} steps of this config"
            )
        parts.load_state_dict(self.saved, self.dir)
        self.step = self.last_saved = step
        self.history = list(self.saved["history"])
        self.records = list(self.saved["monitor"])
        self.saved = None

    def start(self) -> None:
        """Create the folder and write ``config.json``."""
        if self.dir is not None:
            self.dir.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.dir / "config.json", self.config.to_dict())

    def checkpoint(self, parts: Any) -> None:
        """Write ``checkpoint.pt`` atomically (a no-op for runs kept in memory)."""
        if self.dir is None:
            return
        self.last_saved = self.step
        save_checkpoint(
            self.dir / CHECKPOINT,
            {
                "format": CHECKPOINT_FORMAT,
                "step": self.step,
                "config": self.config.to_dict(),
                "observation_shape": list(self.observation_shape),
                "likelihood": self.likelihood,
                **parts.state_dict(),
                "history": self.history,
                "monitor": self.records,
            },
        )

    def polarized(self) -> dict[str, Any]:
        """The polarized-regime summary (:func:`vaecore.training.monitor.summarize`)."""
        return summarize(self.records, self.step) if self.monitor_on else {"fraction_polarized": None}

    def write_info(self, status: str, error: str | None = None) -> None:
        """Write ``run.json`` with ``status`` ("finished" or "failed") and the error, if any."""
        if self.dir is None:
            return
        info = {
            "status": status,
            "step": self.step,
            "total_steps": self.total,
            "observation_shape": list(self.observation_shape),
            "likelihood": self.likelihood,
            "polarized": self.polarized(),
            "last": self.history[-1] if self.history else None,
            "provenance": getattr(self, "provenance", None),
            "error": error,
        }
        write_json_atomic(self.dir / "run.json", json.loads(json.dumps(info, default=float)))

    def fail(self, exc: BaseException) -> None:
        """Record a failed run in ``run.json`` (best effort: a full disk must not hide ``exc``)."""
        try:
            self.write_info("failed", f"{type(exc).__name__}: {exc}")
        except OSError:
            pass
