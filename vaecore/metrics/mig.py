"""Mutual information gap MIG (thesis eq. 2.8; Chen et al. 2018, disentanglement_lib)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vaecore._native import native, resolve_backend
from vaecore._validation import check_int
from vaecore.metrics._arrays import (
    check_codes_factors,
    check_finite_result,
    encode_labels,
    pow2_scale,
    top_two,
)
from vaecore.metrics._result import MetricResult
from vaecore.reference import mig as _reference

_FUNC = "mig"


@dataclass(frozen=True)
class MIGResult(MetricResult):
    """Result of :func:`mig`.

    Attributes
    ----------
    value : float
        MIG = mean over the scored factors of (I_best - I_second) / H(w_i) (eq. 2.8).
    per_factor : ndarray (n_scored,)
        The normalised gap of every scored factor.
    matrix : ndarray (n_factors, n_latents)
        Mutual information I(w_i; z_j) in nats (all factors, also dropped ones).
    entropies : ndarray (n_factors,)
        H(w_i) in nats.
    best, second : ndarray (n_scored,) int
        Latents with the largest and second-largest MI per scored factor.
    factors : tuple of int
        Indices of the scored factors (all unless ``drop_constant`` removed some).
    """

    DLIB_KEYS = {"discrete_mig": "value"}  # disentanglement_lib's name of the score, kept beside ours

    value: float
    per_factor: np.ndarray
    matrix: np.ndarray
    entropies: np.ndarray
    best: np.ndarray
    second: np.ndarray
    factors: tuple[int, ...]


def histogram_edges(codes: np.ndarray, n_bins: int, ranges: np.ndarray | None = None) -> np.ndarray:
    """``np.histogram_bin_edges(codes[:, j], n_bins)`` for every latent j, shape
    ``(n_latents, n_bins + 1)``, from the column minima and maxima (``ranges (n_latents, 2)``,
    computed if not given): numpy's rule verbatim (a constant column gets the range
    [v - 0.5, v + 0.5]; ``np.linspace`` edges; too narrow a range for its magnitude raises)."""
    if ranges is None:
        ranges = _reference.column_ranges(codes)
    edges = np.empty((codes.shape[1], n_bins + 1), dtype=np.float64)
    for j in range(codes.shape[1]):
        first, last = ranges[j, 0], ranges[j, 1]
        if first == last:
            first, last = first - 0.5, last + 0.5
        edges[j] = np.linspace(first, last, n_bins + 1, endpoint=True)
    bad = np.flatnonzero(np.any(edges[:, :-1] >= edges[:, 1:], axis=1))
    if bad.size:
        raise ValueError(
            f"{_FUNC}: codes must span a range that n_bins={n_bins} finite-sized bins can split "
            f"(numpy's histogram rule); got latent(s) {bad.tolist()} with too small a range for "
            f"their magnitude"
        )
    return edges


def _factor_classes(
    w: np.ndarray, ranges_of: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(classes float64, offsets, n_slots, constant factor indices)`` for the kernels.

    Classes are w - min when every factor holds float integers in a modest range (the usual
    factor indices; unused values are empty slots), else the dense ranks of the distinct
    values; integer factors are always ranked exactly in their own dtype (labels beyond
    2**53 stay apart).
    """
    if w.dtype.kind in "iu":
        labels, n_slots = encode_labels(w)
        return labels.astype(np.float64), np.zeros(w.shape[1]), n_slots, np.flatnonzero(n_slots == 1)
    w_range = ranges_of(w)
    constant = np.flatnonzero(w_range[:, 0] == w_range[:, 1])
    with np.errstate(over="ignore", invalid="ignore"):
        span = w_range[:, 1] - w_range[:, 0]
    if np.all(span < 4 * w.shape[0] + 1024) and np.array_equal(w, np.round(w)):
        return w, w_range[:, 0].copy(), span.astype(np.int64) + 1, constant
    labels, n_slots = encode_labels(w)
    return labels.astype(np.float64), np.zeros(w.shape[1]), n_slots, constant


def mig(
    codes: Any,
    factors: Any,
    *,
    n_bins: int = 20,
    drop_constant: bool = False,
    backend: str = "auto",
) -> MIGResult:
    """Mutual information gap of a representation (thesis eq. 2.8), as disentanglement_lib.

    Every latent is discretised into ``n_bins`` equal-width bins between its minimum and
    maximum (the edges of ``np.histogram(z_j, n_bins)``, assigned by
    ``np.digitize(z_j, edges[:-1])``); every factor is used as class labels (its distinct
    values). With I the natural-log mutual information and H the factor entropy,

        MIG = mean_i (max_j I(w_i; z_j) - second-max_j I(w_i; z_j)) / H(w_i).

    Parameters
    ----------
    codes : array (n_samples, n_latents)
        The representation (at least 2 latents).
    factors : array (n_samples, n_factors) or (n_samples,)
        Discrete ground-truth factors (values or indices).
    n_bins : int
        Bins per latent (disentanglement_lib: 20).
    drop_constant : bool
        A factor with a single value has H = 0 and no MIG. False: raise ``ValueError``;
        True: leave such factors out of the mean (``result.factors`` lists those scored).
    backend : {"auto", "native", "reference"}
        "native": one C++ pass per latent fills the contingency tables against all factors
        (``csrc/mutual_info.cpp``); "reference": ``sklearn.metrics.mutual_info_score`` per
        pair (:mod:`vaecore.reference.mig`). Both agree to 1e-12.

    Each latent is first multiplied by a power of two (exact; :func:`~vaecore.metrics._arrays.pow2_scale`),
    so codes of any finite magnitude (1e-300 .. 1e300) bin exactly as their unit-scale
    copies; integer factors are ranked as integers (never cast to float).

    Returns
    -------
    MIGResult
    """
    z, w = check_codes_factors(_FUNC, codes, factors, min_rows=2)
    n_bins = check_int(_FUNC, "n_bins", n_bins, minimum=2)
    if not isinstance(drop_constant, (bool, np.bool_)):
        raise TypeError(f"{_FUNC}: drop_constant must be a bool; got {type(drop_constant).__name__}")
    which = resolve_backend(_FUNC, backend)
    ranges_of = native().column_ranges if which == "native" else _reference.column_ranges
    z, _ = pow2_scale(z)  # exact: the equal-width bins scale with the codes
    classes, offsets, n_slots, constant = _factor_classes(w, ranges_of)
    if constant.size and not drop_constant:
        raise ValueError(
            f"{_FUNC}: factors must take at least 2 values (zero entropy leaves MIG undefined); "
            f"got constant factor(s) {constant.tolist()}; pass drop_constant=True to skip them"
        )
    kept = np.setdiff1d(np.arange(w.shape[1]), constant)
    if kept.size == 0:
        raise ValueError(f"{_FUNC}: factors must include a non-constant factor; got all constant")
    edges = histogram_edges(z, n_bins, ranges_of(z))
    if which == "native":
        matrix, entropies = native().histogram_mutual_info(z, edges, classes, offsets, n_slots)
    else:
        edges = np.stack([np.histogram_bin_edges(z[:, j], n_bins) for j in range(z.shape[1])])
        matrix, entropies = _reference.histogram_mutual_info(z, edges, classes, offsets, n_slots)
    sub = matrix[kept]
    best, second = top_two(sub)
    rows = np.arange(kept.size)
    per_factor = (sub[rows, best] - sub[rows, second]) / entropies[kept]
    check_finite_result(_FUNC, "mutual information gap", per_factor)
    return MIGResult(
        value=float(per_factor.mean()),
        per_factor=per_factor,
        matrix=matrix,
        entropies=entropies,
        best=best,
        second=second,
        factors=tuple(int(i) for i in kept),
    )
