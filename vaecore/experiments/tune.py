"""β tuning by the polarized-regime rule of §3.3.6 (a tool beyond the thesis).

"Keep track of E_x[σ_j²(x)] and keep increasing β until the mean collapses to
approximately 1 for at least one latent coordinate. This is the value at which the
model enters the polarized regime." :func:`tune_beta` raises β geometrically from
``start`` by ``factor`` until ``max_j E σ_j² ≥ threshold`` and reports that β with
the active units (E σ_j² < 0.8, §4.3.4) found at every step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

ACTIVE_THRESHOLD = 0.8


@dataclass(frozen=True)
class TuneStep:
    beta: float
    mean_variance: tuple[float, ...]
    active_units: int

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TuneResult:
    """β found (``value``; ``None`` if never reached) and the steps taken."""

    value: float | None
    steps: tuple[TuneStep, ...]
    threshold: float

    def as_dict(self) -> dict:
        return {"value": self.value, "threshold": self.threshold,
                "steps": [s.as_dict() for s in self.steps]}


def tune_beta(
    mean_variances: Callable[[float], np.ndarray],
    *,
    start: float = 1e-4,
    factor: float = 2.0,
    max_iter: int = 16,
    threshold: float = 0.9,
    log: Callable[[str], None] | None = None,
) -> TuneResult:
    """Raise β geometrically until one latent's mean posterior variance reaches ``threshold``.

    Parameters
    ----------
    mean_variances : callable
        ``β -> E_x σ²`` per latent (shape (d,)): trains a model with that β and measures it.
    start, factor : float
        β_k = start · factor^k.
    max_iter : int
        Most models trained.
    threshold : float
        "≈ 1": stop when ``max_j E σ_j² ≥ threshold``.
    """
    if not (start > 0 and factor > 1 and max_iter >= 1 and 0 < threshold <= 1):
        raise ValueError(
            "tune_beta: need start > 0, factor > 1, max_iter >= 1, 0 < threshold <= 1; got "
            f"start={start}, factor={factor}, max_iter={max_iter}, threshold={threshold}"
        )
    steps = []
    beta = float(start)
    for _ in range(int(max_iter)):
        var = np.asarray(mean_variances(beta), dtype=np.float64).ravel()
        if var.size == 0 or not np.all(np.isfinite(var)):
            raise ValueError(f"tune_beta: mean posterior variances must be finite; got {var}")
        step = TuneStep(beta=beta, mean_variance=tuple(float(v) for v in var),
                        active_units=int(np.sum(var < ACTIVE_THRESHOLD)))
        steps.append(step)
        if log:
            log(f"beta={beta:.4g}: E sigma^2 = {np.round(var, 3).tolist()}, "
                f"active units = {step.active_units}")
        if var.max() >= threshold:
            return TuneResult(value=beta, steps=tuple(steps), threshold=threshold)
        beta *= factor
    return TuneResult(value=None, steps=tuple(steps), threshold=threshold)


def train_mean_variances(dataset: str, model: str, *, scale: str = "quick", seed: int = 0,
                         n_points: int = 2000, overrides: Mapping[str, Any] | None = None
                         ) -> Callable[[float], np.ndarray]:
    """``β -> E σ²`` over (up to ``n_points`` of) the test split, by training the preset of
    ``dataset`` at ``scale`` with ``model`` and ``beta`` (real runs)."""
    def fn(beta: float) -> np.ndarray:
        import torch

        from vaecore import TrainConfig, train

        cfg = TrainConfig.from_dict({"preset": dataset, "scale": scale, **dict(overrides or {}),
                                     "model": model, "beta": beta, "seed": seed})
        run = train(cfg, out=None, progress=False)
        test = np.asarray(run.split()[2])  # the run's own test split, never training points
        x = run.dataset.observations_at(test[:n_points])
        run.model.eval()
        with torch.no_grad():
            _, logvar = run.model.encode(torch.as_tensor(x))
        return logvar.exp().mean(dim=0).cpu().numpy()

    return fn
