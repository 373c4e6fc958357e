"""Mean correlation coefficient (MCC) between a representation and the true sources.

The standard score of nonlinear ICA (Hyvärinen & Morioka 2016, 2017; used for PCL, SPEC-ch4
§10 check 5): the absolute correlations ``|corr(code_j, source_i)|`` form a square matrix, the
one-to-one matching of codes to sources that maximises their sum is found with the Hungarian
algorithm (:func:`scipy.optimize.linear_sum_assignment`), and MCC is the mean correlation over
the matched pairs. It is invariant to permutations, signs and (Spearman) monotone rescalings of
the codes, lies in ``[0, 1]``, is 1 for the sources themselves and ≈ 0 for independent noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vaecore._validation import check_array, check_option
from vaecore.metrics._result import MetricResult

__all__ = ["MCC_METHODS", "MCCResult", "mean_corr_coef"]

MCC_METHODS: tuple[str, ...] = ("pearson", "spearman")
_FUNC = "mean_corr_coef"


@dataclass(frozen=True)
class MCCResult(MetricResult):
    """Result of :func:`mean_corr_coef`.

    Attributes
    ----------
    value : float
        Mean of ``|corr|`` over the matched (code, source) pairs.
    matrix : ndarray (n_latents, n_sources)
        ``|corr(codes[:, j], sources[:, i])|`` (0 for a constant column).
    matching : ndarray (n_sources,) int
        ``matching[i]`` = the code matched to source ``i``.
    per_source : ndarray (n_sources,)
        The matched correlation of every source.
    method : str
    """

    value: float
    matrix: np.ndarray
    matching: np.ndarray
    per_source: np.ndarray
    method: str


def _rank(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x, axis=0)


def abs_correlations(codes: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """``|Pearson corr|`` of every code column with every source column, ``(n_latents,
    n_sources)``; a constant column correlates 0 with everything."""
    a = codes - codes.mean(axis=0)
    b = sources - sources.mean(axis=0)
    na = np.sqrt((a * a).sum(axis=0))
    nb = np.sqrt((b * b).sum(axis=0))
    num = a.T @ b
    den = np.outer(na, nb)
    out = np.zeros_like(num)
    np.divide(np.abs(num), den, out=out, where=den > 0)
    return np.clip(out, 0.0, 1.0)


def mean_corr_coef(codes: Any, sources: Any, *, method: str = "pearson") -> MCCResult:
    """Mean absolute correlation after the best one-to-one matching of codes to sources.

    Parameters
    ----------
    codes : array (n_samples, n_latents)
        The representation (e.g. PCL's h(x)).
    sources : array (n_samples, n_sources)
        The true sources; ``n_latents >= n_sources`` (surplus codes stay unmatched).
    method : {"pearson", "spearman"}
        Spearman = Pearson on the ranks (invariant to monotone maps of each column).

    Raises
    ------
    ValueError
        Different numbers of rows, fewer than 2 samples, fewer codes than sources, NaN/inf, an
        unknown method.
    """
    from scipy.optimize import linear_sum_assignment

    check_option(_FUNC, "method", method, MCC_METHODS)
    z = check_array(_FUNC, "codes", codes, ndim=2, min_rows=2)
    s = check_array(_FUNC, "sources", sources, ndim=2, min_rows=2)
    if z.shape[0] != s.shape[0]:
        raise ValueError(f"{_FUNC}: codes and sources must have the same number of rows; got "
                         f"{z.shape[0]} and {s.shape[0]}")
    if s.shape[1] == 0 or z.shape[1] < s.shape[1]:
        raise ValueError(f"{_FUNC}: codes must have at least as many columns as sources (>= 1); "
                         f"got {z.shape[1]} codes for {s.shape[1]} sources")
    if method == "spearman":
        z, s = _rank(z), _rank(s)
    matrix = abs_correlations(z, s)
    rows, cols = linear_sum_assignment(-matrix)
    matching = np.empty(s.shape[1], dtype=np.int64)
    matching[cols] = rows
    per_source = matrix[matching, np.arange(s.shape[1])]
    return MCCResult(float(per_source.mean()), matrix, matching, per_source, method)
