"""The training log and live metrics of a run: ``metrics.jsonl`` (+ TensorBoard) and eval-on-a-probe.

:class:`TrainingLog` appends one JSON line per logging window to ``<run>/metrics.jsonl``:
``{"step", <each loss term>, "lr": {optimizer group: lr}, "wall_s", "delta_kl", "active_units",
"eval_<metric>" for the live metrics computed since the previous line}`` — ``delta_kl`` / ``active_units`` from the polarized monitor's latest record at
or before the step (thesis §3.3.2), ``wall_s`` the training wall time summed over every session of
the run. On resume, lines beyond the checkpoint's step (written after it by a session that then
died) are dropped first, so the file always describes one consistent run. With
``tensorboard=True`` the same numbers go to a ``torch.utils.tensorboard`` writer in
``<run>/tensorboard`` (the optional extra ``tensorboard``).

:class:`LiveEval` computes ``config.eval_metrics`` every ``config.eval_every`` steps on a fixed
probe of ``config.eval_points`` points of the *test* split (drawn once from ``config.seed``):
``mig`` and ``ds`` of the posterior means against the ground-truth factors, ``active_units``
(E σ² < 0.8, thesis §4.3.4), and ``dto`` of the decoder Jacobians at the first 100 probe codes
over the latents of the DtO evaluator's rule (:func:`vaecore.evaluation_options.dto_latents_for`,
:func:`~vaecore.evaluation_options.active_latents`). It runs under ``no_grad`` in
eval mode and never draws from the training's random streams.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["LIVE_METRICS", "LiveEval", "TrainingLog"]

LIVE_METRICS: tuple[str, ...] = ("mig", "ds", "dto", "active_units")
LOG_FILE = "metrics.jsonl"
DTO_POINTS = 100


def _read_lines(path: Path, up_to: int) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:  # a line cut by a crash mid-write
            continue
        if isinstance(entry, dict) and isinstance(entry.get("step"), int) and entry["step"] <= up_to:
            out.append(entry)
    return out


class TrainingLog:
    """``metrics.jsonl`` of a run folder (nothing for runs kept in memory)."""

    def __init__(self, run_dir: Path | None, *, step: int, tensorboard: bool) -> None:
        self.path = None if run_dir is None else Path(run_dir) / LOG_FILE
        self.wall_before = 0.0
        self.started = time.perf_counter()
        self.writer = None
        if self.path is not None and self.path.is_file():
            kept = _read_lines(self.path, step)
            self.wall_before = float(kept[-1].get("wall_s", 0.0)) if kept else 0.0
            from vaecore._io import atomic_write_text

            atomic_write_text(self.path, "".join(json.dumps(e, allow_nan=False) + "\n" for e in kept))
        if tensorboard and run_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as exc:
                raise RuntimeError("tensorboard=True needs the tensorboard package: "
                                   "pip install 'vaecore[tensorboard]'") from exc
            self.writer = SummaryWriter(log_dir=str(Path(run_dir) / "tensorboard"), purge_step=step + 1)

    def write(self, entry: dict[str, Any], optimizers: dict[str, torch.optim.Optimizer],
              records: list[dict[str, Any]], live: dict[str, float]) -> dict[str, Any]:
        """Complete ``entry`` (a history entry) and append it; returns the completed entry."""
        out = dict(entry)
        out["lr"] = {name: float(opt.param_groups[0]["lr"]) for name, opt in optimizers.items()}
        out["wall_s"] = self.wall_before + time.perf_counter() - self.started
        last = next((r for r in reversed(records) if r["step"] <= entry["step"]), None)
        if last is not None:
            out["delta_kl"], out["active_units"] = last.get("delta_kl"), last.get("active_units")
        out.update({f"eval_{k}": v for k, v in live.items()})
        if self.path is not None:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(out, allow_nan=False, default=float) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        if self.writer is not None:
            for key, value in out.items():
                if key != "step" and isinstance(value, (int, float)) and value is not None:
                    self.writer.add_scalar(key, value, entry["step"])
            for name, lr in out["lr"].items():
                self.writer.add_scalar(f"lr/{name}", lr, entry["step"])
        return out

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class LiveEval:
    """Metrics of the model on a fixed test-split probe during training (see the module docstring)."""

    def __init__(self, config: Any, dataset: Any, device: torch.device) -> None:
        self.metrics = tuple(config.eval_metrics)
        self.every = int(config.eval_every)
        self.seed = int(config.seed)
        self.model_name = str(config.model)
        self.last: dict[str, float] = {}
        self.fresh = False
        if not self.metrics:
            return
        needs_factors = {"mig", "ds"} & set(self.metrics)
        if needs_factors and not hasattr(dataset, "factors_at"):
            raise ValueError(f"train: eval_metrics {sorted(needs_factors)} need a dataset with factors; "
                             f"{getattr(dataset, 'name', type(dataset).__name__)!r} has none")
        test = np.asarray(dataset.split(seed=config.split_seed)[2])
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 7]))
        idx = np.sort(rng.choice(test, size=min(int(config.eval_points), test.size), replace=False))
        self.x = torch.as_tensor(np.asarray(dataset.observations_at(idx)), dtype=torch.float32, device=device)
        self.factors = np.asarray(dataset.factors_at(idx)) if needs_factors else None
        self.categorical = [k == "categorical" for k in getattr(dataset, "factor_kinds", ())] or None

    def due(self, step: int, total: int) -> bool:
        return bool(self.metrics) and (step % self.every == 0 or step == total)

    def __call__(self, model: Any) -> dict[str, float]:
        """Compute the live metrics now (model left in training mode)."""
        from vaecore.metrics import active_units, ds, mig

        model.eval()
        try:
            with torch.no_grad():
                mu, logvar = model.encode(self.x)
            mu_np = mu.double().cpu().numpy()
            out: dict[str, float] = {}
            if "mig" in self.metrics:
                out["mig"] = float(mig(mu_np, self.factors, drop_constant=True).value)
            if "ds" in self.metrics:
                out["ds"] = float(ds(mu_np, self.factors, categorical=self.categorical, seed=self.seed).value)
            if "active_units" in self.metrics:
                out["active_units"] = float(active_units(logvar.double().cpu().numpy()).value)
            if "dto" in self.metrics:
                out["dto"] = self._dto(model, mu, self.model_name)
        finally:
            model.train()
        self.last, self.fresh = out, True
        return out

    def take(self) -> dict[str, float]:
        """The metrics computed since the last call (empty when none were), for the log line."""
        out, self.fresh = (self.last if self.fresh else {}), False
        return out

    @staticmethod
    def _dto(model: Any, mu: torch.Tensor, name: str) -> float:
        from vaecore.evaluation_options import active_latents, dto_latents_for
        from vaecore.jacobians import jacobians
        from vaecore.metrics import dto

        if getattr(model, "decoder", None) is None:
            return float("nan")
        z = mu[:DTO_POINTS]
        mask = active_latents(mu.double().cpu().numpy(), dto_latents_for(name))
        if int(np.sum(mask)) < 2:
            return float("nan")
        J = jacobians(model.decoder, z, of="mean")
        return float(dto(J.double().cpu().numpy(), active=mask).value)
