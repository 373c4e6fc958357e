"""Polarized-regime statistics and active units (thesis §3.2.2 Definition 1, eq. 3.5, eq. 3.38,
§3.3.2; §4.3.4).

The training monitor (:mod:`vaecore.training.monitor`) calls these same functions on a fixed
probe batch, so what a user measures after training is what the loop logged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vaecore._validation import check_array, check_float

__all__ = ["ActiveUnitsResult", "PolarizedResult", "active_units", "polarized_regime"]


@dataclass(frozen=True)
class PolarizedResult:
    """Polarized-regime statistics of one batch of posteriors.

    Attributes
    ----------
    value
        ΔKL = |L_KL − L≈KL| / L_KL (eq. 3.38); the regime holds when it is small (< 3 %).
    kl
        L_KL: the exact KL term, ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1), averaged over samples.
    kl_approx
        L≈KL (eq. 3.5): ½ Σ_{j∈Va} (μ_j² − log σ_j² − 1), averaged over samples.
    active
        Boolean mask of active latents, √var(μ_j) > ``threshold`` (0.5, §3.3.2).
    sqrt_var_mu
        √var(μ_j) over the batch, per latent.
    mean_var
        E σ_j² over the batch, per latent.
    n_active
        Number of active latents.
    """

    value: float
    kl: float
    kl_approx: float
    active: np.ndarray
    sqrt_var_mu: np.ndarray
    mean_var: np.ndarray
    n_active: int

    @property
    def delta_kl(self) -> float:
        """Alias of :attr:`value` (ΔKL, eq. 3.38)."""
        return self.value

    def __float__(self) -> float:
        return float(self.value)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["delta_kl"] = self.value
        for key in ("active", "sqrt_var_mu", "mean_var"):
            d[key] = np.asarray(d[key]).tolist()
        return d


@dataclass(frozen=True)
class ActiveUnitsResult:
    """Active units by mean posterior variance (§4.3.4): latent j is active when E σ_j² < threshold.

    Attributes
    ----------
    value
        Number of active units.
    active
        Boolean mask over latents.
    mean_var
        E σ_j² over the batch, per latent.
    threshold
        The threshold used.
    """

    value: int
    active: np.ndarray
    mean_var: np.ndarray
    threshold: float

    def __int__(self) -> int:
        return int(self.value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": int(self.value),
            "active": np.asarray(self.active).tolist(),
            "mean_var": np.asarray(self.mean_var).tolist(),
            "threshold": float(self.threshold),
        }


def _pair(func: str, mu: Any, logvar: Any) -> tuple[np.ndarray, np.ndarray]:
    mu_a = check_array(func, "mu", mu, ndim=2, min_rows=2)
    lv_a = check_array(func, "logvar", logvar, ndim=2, min_rows=2)
    if mu_a.shape != lv_a.shape:
        raise ValueError(
            f"{func}: mu and logvar must have the same shape (n_samples, n_latents); "
            f"got {mu_a.shape} and {lv_a.shape}"
        )
    if mu_a.shape[1] == 0:
        raise ValueError(f"{func}: mu must have at least one latent column; got shape {mu_a.shape}")
    return mu_a, lv_a


def polarized_regime(mu: Any, logvar: Any, *, threshold: float = 0.5) -> PolarizedResult:
    """Polarized-regime statistics of a diagonal Gaussian posterior (thesis §3.2.2, §3.3.2).

    Parameters
    ----------
    mu, logvar
        Posterior means and log-variances, shape ``(n_samples, n_latents)`` (numpy or torch;
        at least 2 samples, finite).
    threshold
        Active latents are those with √var(μ_j) > ``threshold`` over the samples (0.5 in §3.3.2).
        The variance is the population variance (``ddof=0``).

    Returns
    -------
    PolarizedResult
        ``value`` = ΔKL (eq. 3.38), plus L_KL, L≈KL (eq. 3.5), the active mask, √var μ_j, E σ_j².
        When L_KL is 0 (a prior-matching posterior), ΔKL is defined as 0 if L≈KL is 0 too, else inf.
    """
    func = "polarized_regime"
    mu_a, lv_a = _pair(func, mu, logvar)
    threshold = check_float(func, "threshold", threshold, minimum=0.0)
    var = np.exp(lv_a)
    sqrt_var_mu = np.sqrt(mu_a.var(axis=0))
    active = sqrt_var_mu > threshold
    per_latent = 0.5 * (mu_a**2 + var - lv_a - 1.0)
    kl = float(per_latent.sum(axis=1).mean())
    approx = 0.5 * (mu_a**2 - lv_a - 1.0)
    kl_approx = float(approx[:, active].sum(axis=1).mean()) if active.any() else 0.0
    if kl > 0:
        delta = abs(kl - kl_approx) / kl
    else:
        delta = 0.0 if kl_approx == 0 else float("inf")
    return PolarizedResult(
        value=float(delta),
        kl=kl,
        kl_approx=kl_approx,
        active=active,
        sqrt_var_mu=sqrt_var_mu,
        mean_var=var.mean(axis=0),
        n_active=int(active.sum()),
    )


def active_units(logvar: Any, *, threshold: float = 0.8) -> ActiveUnitsResult:
    """Count active units: latents with E σ_j² < ``threshold`` (thesis §4.3.4, threshold 0.8).

    Parameters
    ----------
    logvar
        Posterior log-variances, shape ``(n_samples, n_latents)`` (numpy or torch, finite).
    threshold
        Mean-variance threshold (> 0); 0.8 as in §4.3.4, where runs with fewer active units than
        ground-truth factors count as over-pruned.

    Returns
    -------
    ActiveUnitsResult
        ``value`` = the number of active units, ``active`` mask, ``mean_var`` per latent.
    """
    func = "active_units"
    lv = check_array(func, "logvar", logvar, ndim=2, min_rows=1)
    if lv.shape[1] == 0:
        raise ValueError(f"{func}: logvar must have at least one latent column; got shape {lv.shape}")
    threshold = check_float(func, "threshold", threshold, minimum=0.0, strict=True)
    mean_var = np.exp(lv).mean(axis=0)
    active = mean_var < threshold
    return ActiveUnitsResult(
        value=int(active.sum()), active=active, mean_var=mean_var, threshold=threshold
    )
