"""Interventional robustness score IRS (Suter et al. 2019), as disentanglement_lib."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vaecore._validation import check_float, check_int
from vaecore.metrics._arrays import check_codes_factors
from vaecore.metrics._histogram import histogram_discretize
from vaecore.metrics._result import MetricResult

_FUNC = "irs"


@dataclass(frozen=True)
class IRSResult(MetricResult):
    """Result of :func:`irs`.

    Attributes
    ----------
    value : float
        IRS: the per-latent scores averaged with the latents' maximal deviations as weights
        (0 when no latent varies).
    per_code : ndarray (n_latents,)
        max_i IRS_ij of every latent (0 for a constant latent).
    matrix : ndarray (n_factors, n_latents)
        IRS_ij = 1 − E_{w_i}[q-quantile of |z_j − E[z_j | w_i]|] / max |z_j − E z_j|
        (0 in the columns of constant latents).
    parents : ndarray (n_latents,) int
        The factor with the largest IRS_ij per latent (−1 for a constant latent).
    max_deviations : ndarray (n_latents,)
        max |z_j − E z_j| (the weights of ``value``).
    active : ndarray (n_latents,) bool
        Latents with non-zero variance (the ones scored).
    n_active : int
        Their number.
    """

    value: float
    per_code: np.ndarray
    matrix: np.ndarray
    parents: np.ndarray
    max_deviations: np.ndarray
    active: np.ndarray
    n_active: int


def _irs_matrix(groups: np.ndarray, z: np.ndarray, quantile: float) -> np.ndarray:
    """dlib's ``scalable_disentanglement_score`` cumulative deviations, ``(n_factors, d)``:
    per factor, the mean over its values of the per-latent ``quantile`` of |z − E[z | value]|."""
    cum = np.zeros((groups.shape[1], z.shape[1]), dtype=np.float64)
    for i in range(groups.shape[1]):
        values = np.unique(groups[:, i])
        for v in values:
            block = z[groups[:, i] == v]
            diffs = np.abs(block - block.mean(axis=0))
            cum[i] += np.percentile(diffs, q=quantile * 100, axis=0)
        cum[i] /= values.size
    return cum


def irs(
    codes: Any,
    factors: Any,
    *,
    diff_quantile: float = 0.99,
    n_bins: int | None = 20,
) -> IRSResult:
    """Interventional robustness score (Suter et al. 2019), exactly as disentanglement_lib's
    ``compute_irs`` (``evaluation/metrics/irs.py``).

    Every factor is discretised into ``n_bins`` equal-width histogram bins (dlib passes the
    factors through its histogram discretizer; a factor with at most ``n_bins`` evenly spaced
    values keeps its classes), constant latents are dropped, and for every remaining latent
    j and factor i

        IRS_ij = 1 − mean_{v of w_i} Q_q(|z_j − E[z_j | w_i = v]|) / max |z_j − E z_j|

    with Q_q the ``diff_quantile`` quantile (numpy's linear interpolation) over the samples
    with w_i = v. A latent's score is max_i IRS_ij; IRS is their average weighted by
    max |z_j − E z_j|. The C++ opportunity here is the per-group quantile (a selection over
    n × d per factor); numpy's partition is used as dlib does.

    Parameters
    ----------
    codes : array (n_samples, n_latents)
        The representation (at least 2 latents).
    factors : array (n_samples, n_factors) or (n_samples,)
        Ground-truth factors (crossed, equally likely values, as the paper assumes).
    diff_quantile : float
        Quantile of the within-group deviations, in (0, 1] (dlib: 0.99; 1.0 = the paper).
    n_bins : int or None
        Histogram bins for the factors (dlib's ``discretizer.num_bins``: 20); None uses the
        factor values as they are.

    Returns
    -------
    IRSResult
        ``n_active`` counts the latents with non-zero variance (disentanglement_lib's
        ``num_active_dims`` is ``np.sum`` of the active codes' values, not a count).
    """
    z, w = check_codes_factors(_FUNC, codes, factors, min_rows=2)
    q = check_float(_FUNC, "diff_quantile", diff_quantile, minimum=0.0, strict=True)
    if q > 1.0:
        raise ValueError(f"{_FUNC}: diff_quantile must be <= 1; got {diff_quantile!r}")
    if n_bins is not None:
        n_bins = check_int(_FUNC, "n_bins", n_bins, minimum=1)
        groups = histogram_discretize(_FUNC, "factors", w, n_bins)
    else:
        groups = w
    d = z.shape[1]
    active = z.var(axis=0) > 0.0
    matrix = np.zeros((w.shape[1], d), dtype=np.float64)
    per_code = np.zeros(d, dtype=np.float64)
    parents = np.full(d, -1, dtype=np.int64)
    max_dev = np.zeros(d, dtype=np.float64)
    value = 0.0
    if active.any():
        za = z[:, active]
        dev = np.max(np.abs(za - za.mean(axis=0)), axis=0)
        sub = 1.0 - _irs_matrix(groups, za, q) / dev[None, :]
        matrix[:, active] = sub
        per_code[active] = sub.max(axis=0)
        parents[active] = sub.argmax(axis=0)
        max_dev[active] = dev
        value = float(np.average(per_code[active], weights=dev))
    return IRSResult(
        value=value,
        per_code=per_code,
        matrix=matrix,
        parents=parents,
        max_deviations=max_dev,
        active=active,
        n_active=int(active.sum()),
    )
