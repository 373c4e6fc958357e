"""The polarized-regime monitor of the training loop (thesis §3.3.2, Table 3.2).

Every ``monitor_every`` batches (and before the first and after the last) the model encodes a
fixed probe batch in eval mode; :func:`vaecore.metrics.polarized_regime` and
:func:`vaecore.metrics.active_units` turn (μ, log σ²) into one record: per-latent √var μ_j and
E σ_j², the active set, L_KL, L≈KL, ΔKL, active units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from vaecore.metrics.polarized import active_units, polarized_regime

__all__ = ["POLARIZED_TOLERANCE", "fraction_polarized", "monitor_record", "summarize"]

POLARIZED_TOLERANCE = 0.03


@torch.no_grad()
def monitor_record(model: Any, probe: torch.Tensor, step: int) -> dict[str, Any]:
    """One monitor record of ``model`` on ``probe`` at ``step`` (JSON-able)."""
    was_training = model.training
    model.eval()
    try:
        mu, logvar = model.encode(probe)
    finally:
        model.train(was_training)
    mu_np = mu.double().cpu().numpy()
    lv_np = logvar.double().cpu().numpy()
    pol = polarized_regime(mu_np, lv_np)
    au = active_units(lv_np)
    return {
        "step": int(step),
        "kl": pol.kl,
        "kl_approx": pol.kl_approx,
        "delta_kl": pol.value if pol.value != float("inf") else None,
        "n_active": pol.n_active,
        "active": [bool(a) for a in pol.active],
        "sqrt_var_mu": [float(v) for v in pol.sqrt_var_mu],
        "mean_var": [float(v) for v in pol.mean_var],
        "active_units": au.value,
    }


def fraction_polarized(
    records: Sequence[dict[str, Any]], total_steps: int, *, tolerance: float = POLARIZED_TOLERANCE
) -> float | None:
    """Fraction of training time with ΔKL < ``tolerance`` continuously until the end (Table 3.2).

    Let t* be the step of the earliest record from which every later record has ΔKL < tolerance;
    the fraction is (T − t*) / T for T = ``total_steps``. 0 when the last record fails; None
    without records or training steps.
    """
    if not records or total_steps <= 0:
        return None
    start = None
    for rec in reversed(records):
        d = rec.get("delta_kl")
        if d is None or not d < tolerance:
            break
        start = rec["step"]
    if start is None:
        return 0.0
    return float(total_steps - start) / float(total_steps)


def summarize(records: Sequence[dict[str, Any]], total_steps: int) -> dict[str, Any]:
    """The run's polarized summary: the last record plus ``fraction_polarized``."""
    out: dict[str, Any] = {"fraction_polarized": fraction_polarized(records, total_steps)}
    if records:
        last = dict(records[-1])
        last.pop("step", None)
        out.update(last)
        out["step"] = records[-1]["step"]
    return out
