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
from vaecore.metrics._arrays import pow2_scale

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
        ΔKL is computed from rescaled sums (:func:`_kl_terms`) and is finite for any finite
        input; ``kl``, ``kl_approx`` and ``mean_var`` are inf where their true values exceed
        float64's range (log-variances above ~709).
    """
    func = "polarized_regime"
    mu_a, lv_a = _pair(func, mu, logvar)
    threshold = check_float(func, "threshold", threshold, minimum=0.0)
    mu_s, mu_exp = pow2_scale(mu_a)  # exact; var(μ) of 1e200-sized means cannot overflow
    sqrt_var_mu = np.ldexp(np.sqrt(mu_s.var(axis=0)), mu_exp)
    active = sqrt_var_mu > threshold
    kl, kl_approx, delta = _kl_terms(mu_a, lv_a, active)
    with np.errstate(over="ignore"):
        mean_var = np.exp(lv_a).mean(axis=0)
    return PolarizedResult(
        value=float(delta),
        kl=kl,
        kl_approx=kl_approx,
        active=active,
        sqrt_var_mu=sqrt_var_mu,
        mean_var=mean_var,
        n_active=int(active.sum()),
    )


def _log_sum(x: np.ndarray) -> tuple[float, float]:
    """``(sign, log|Σ x|)`` of a sum of finite values, overflow-free (power-of-two scaling)."""
    flat = x.reshape(-1, 1)
    if flat.size == 0:
        return 0.0, -np.inf
    scaled, e = pow2_scale(flat)
    total = float(scaled.sum())
    if total == 0.0:
        return 0.0, -np.inf
    return float(np.sign(total)), float(np.log(abs(total)) + e[0] * np.log(2.0))


def _kl_terms(mu: np.ndarray, lv: np.ndarray, active: np.ndarray) -> tuple[float, float, float]:
    """``(L_KL, L≈KL, ΔKL)`` of eq. 3.5 and 3.38.

    When no term can overflow (μ² and σ² below e^600) the terms are summed as they are.
    Otherwise L_KL = ½ (Σ μ² + Σ σ² − Σ (log σ² + 1)) / n is assembled from the logarithms
    of its three sums (log-sum-exp for the first two), so ΔKL, a ratio, is exact to
    rounding for any finite input (one log-variance of 1000 gives ΔKL ≈ 1, not NaN); L_KL
    and L≈KL are then inf when their true value exceeds float64's range (~e^709).
    """
    with np.errstate(divide="ignore"):
        log_sq = 2.0 * np.log(np.abs(mu))
    if max(float(log_sq.max()), float(lv.max())) <= 600.0:
        kl = float((0.5 * (mu**2 + np.exp(lv) - lv - 1.0)).sum(axis=1).mean())
        approx_terms = 0.5 * (mu**2 - lv - 1.0)
        approx = float(approx_terms[:, active].sum(axis=1).mean()) if active.any() else 0.0
        if kl > 0:
            return kl, approx, abs(kl - approx) / kl
        return kl, approx, (0.0 if approx == 0 else float("inf"))
    from scipy.special import logsumexp

    half_n = np.log(2.0 * mu.shape[0])
    parts = [  # (sign, log|.|) of Σ μ², Σ σ², −Σ (log σ² + 1), over all latents / active ones
        (1.0, float(logsumexp(log_sq))),
        (1.0, float(logsumexp(lv))),
    ]
    sign_c, log_c = _log_sum(lv + 1.0)
    parts.append((-sign_c, log_c))
    act = [(1.0, float(logsumexp(log_sq[:, active])) if active.any() else -np.inf)]
    sign_ca, log_ca = _log_sum(lv[:, active] + 1.0)
    act.append((-sign_ca, log_ca))

    def total(terms: list[tuple[float, float]], m: float) -> float:
        return float(sum(sg * np.exp(lg - m) for sg, lg in terms if sg != 0.0))

    m = max(lg for _, lg in parts + act)
    kl_s, approx_s = total(parts, m), total(act, m)
    delta = abs(kl_s - approx_s) / kl_s  # kl_s > 0: Σ σ² alone exceeds e^600 here
    m_a = max(lg for _, lg in act)
    approx_own = total(act, m_a) if np.isfinite(m_a) else 0.0
    with np.errstate(over="ignore"):
        kl = float(np.exp(np.log(kl_s) + m - half_n))
        approx = float(np.sign(approx_own) * np.exp(np.log(abs(approx_own)) + m_a - half_n)) if approx_own else 0.0
    return kl, approx, float(delta)


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
    with np.errstate(over="ignore"):  # a log-variance above ~709 is an infinite variance here
        mean_var = np.exp(lv).mean(axis=0)
    active = mean_var < threshold
    return ActiveUnitsResult(
        value=int(active.sum()), active=active, mean_var=mean_var, threshold=threshold
    )
