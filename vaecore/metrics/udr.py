"""Unsupervised disentanglement ranking UDR (Duan et al. 2020), as disentanglement_lib."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaecore._validation import check_array, check_float, check_int, check_option, to_numpy
from vaecore.metrics._result import MetricResult

_FUNC = "udr"
CORRELATIONS = ("lasso", "spearman")


@dataclass(frozen=True)
class UDRResult(MetricResult):
    """Result of :func:`udr`.

    Attributes
    ----------
    value : float
        Mean of ``model_scores`` (how much the runs agree with each other overall).
    model_scores : ndarray (n_runs,)
        UDR of every run: the median over the other runs j of ``pairwise[j, run]``
        (disentanglement_lib's ``model_scores``); higher = better.
    best : int
        The run with the highest UDR (the first on ties).
    pairwise : ndarray (n_runs, n_runs)
        Relative-strength score of every ordered pair (zero diagonal)
        (``pairwise_disentanglement_scores``).
    correlations : ndarray (n_runs, n_runs, n_latents, n_latents)
        |R| between run i's latents (axis 2) and run j's (axis 3), before the KL filter
        (``raw_correlations``); a Spearman correlation undefined for a constant latent is
        stored as 0.
    active : ndarray (n_runs, n_latents) bool
        Latents kept by the KL filter (mean KL > ``kl_threshold``; all without ``kl``).
    correlation : str
        "lasso" or "spearman".
    """

    value: float
    model_scores: np.ndarray
    best: int
    pairwise: np.ndarray
    correlations: np.ndarray
    active: np.ndarray
    correlation: str


def gaussian_kl_per_latent(mean: Any, logvar: Any) -> np.ndarray:
    """Mean KL(N(μ, σ²) ‖ N(0, 1)) per latent over the samples, ``(n_latents,)``: the ``kl``
    input of :func:`udr`, as disentanglement_lib's UDR evaluation computes it
    (``evaluation/udr/evaluate.py``: mean of ½(μ² + e^{log σ²} − log σ² − 1))."""
    func = "gaussian_kl_per_latent"
    mu = check_array(func, "mean", mean, ndim=2, min_rows=1)
    lv = check_array(func, "logvar", logvar, ndim=2, min_rows=1)
    if mu.shape != lv.shape:
        raise ValueError(f"{func}: logvar must have the shape of mean {mu.shape}; got {lv.shape}")
    return np.mean(0.5 * (np.square(mu) + np.exp(lv) - lv - 1.0), axis=0)


def _runs(codes: Any, kl: Any) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    if isinstance(codes, np.ndarray) or hasattr(codes, "detach"):
        arr = to_numpy(_FUNC, "codes", codes)
        if arr.ndim != 3:
            raise ValueError(
                f"{_FUNC}: codes must be a sequence of (n_samples, n_latents) arrays or one "
                f"(n_runs, n_samples, n_latents) array; got shape {tuple(arr.shape)}"
            )
        codes = list(arr)
    if not isinstance(codes, Sequence) or isinstance(codes, (str, bytes)):
        raise TypeError(
            f"{_FUNC}: codes must be a sequence of arrays, one per run; got {type(codes).__name__}"
        )
    if len(codes) < 2:
        raise ValueError(f"{_FUNC}: codes must hold at least 2 runs (UDR compares runs); got {len(codes)}")
    runs = [check_array(_FUNC, f"codes[{m}]", c, ndim=2, min_rows=2) for m, c in enumerate(codes)]
    for m, r in enumerate(runs[1:], start=1):
        if r.shape[1] != runs[0].shape[1]:
            raise ValueError(
                f"{_FUNC}: codes must come from runs of the same latent size; got "
                f"{runs[0].shape[1]} latents in codes[0] and {r.shape[1]} in codes[{m}]"
            )
        if r.shape[0] != runs[0].shape[0]:
            raise ValueError(
                f"{_FUNC}: codes must encode the same inputs (as many rows in every run); got "
                f"{runs[0].shape[0]} rows in codes[0] and {r.shape[0]} in codes[{m}]"
            )
    if kl is None:
        return runs, None
    if isinstance(kl, np.ndarray) and kl.ndim == 2:
        kl = list(kl)
    if not isinstance(kl, Sequence) or len(kl) != len(runs):
        raise ValueError(
            f"{_FUNC}: kl must hold one (n_latents,) array per run ({len(runs)}); got "
            f"{len(kl) if isinstance(kl, Sequence) else type(kl).__name__}"
        )
    kls = [check_array(_FUNC, f"kl[{m}]", k, ndim=1) for m, k in enumerate(kl)]
    for m, k in enumerate(kls):
        if k.shape[0] != runs[0].shape[1]:
            raise ValueError(
                f"{_FUNC}: kl[{m}] must have {runs[0].shape[1]} entries (one per latent); "
                f"got {k.shape[0]}"
            )
    return runs, kls


def relative_strength(corr: np.ndarray) -> float:
    """dlib's ``relative_strength_disentanglement``: the mean over columns and over rows of
    max² / sum, averaged (a NaN or 0/0 ratio counts as 0). An empty matrix (no kept latent
    in one of the runs; dlib raises there) scores 0."""
    if corr.size == 0:
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.nan_to_num(np.max(corr, axis=0) ** 2 / np.sum(corr, axis=0), copy=False)
        y = np.nan_to_num(np.max(corr, axis=1) ** 2 / np.sum(corr, axis=1), copy=False)
    return float((np.mean(x) + np.mean(y)) / 2)


def _spearman(ranked: list[np.ndarray], i: int, j: int) -> np.ndarray:
    """|Spearman| of every latent pair = |Pearson| of the ranks (NaN for a constant latent)."""
    a, b = ranked[i], ranked[j]
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = (a.T @ b) / np.outer(np.linalg.norm(a, axis=0), np.linalg.norm(b, axis=0))
    return np.abs(corr)


def udr(
    codes: Any,
    kl: Any = None,
    *,
    correlation: str = "lasso",
    kl_threshold: float = 0.01,
    filter_low_kl: bool = True,
    seed: int = 0,
) -> UDRResult:
    """UDR (Duan et al. 2020) of a set of runs, exactly as disentanglement_lib's
    ``compute_udr_sklearn`` (``evaluation/udr/metrics/udr.py``).

    Every run's codes are standardised (sklearn's ``StandardScaler``) and latents with mean
    KL ≤ 0.01 are zeroed (dlib's fixed constant). For every ordered pair of runs (i, j) a
    similarity matrix R between their latents is computed: ``correlation="lasso"`` the
    |coefficients| of ``Lasso(alpha=0.1)`` regressing run j's codes on run i's,
    ``"spearman"`` the |Spearman correlations|. With ``filter_low_kl`` only latents with
    KL > ``kl_threshold`` are kept, and the pair scores
    ½(mean_cols max²/sum + mean_rows max²/sum) of R. A run's UDR is the median of the pair
    scores (j, run) over the other runs j. The Spearman ranks (a sort over n × d per run)
    are where a C++ kernel could pay; numpy's sort is used.

    Parameters
    ----------
    codes : sequence of array (n_samples, n_latents), or array (n_runs, n_samples, n_latents)
        Representations (e.g. posterior means) of ≥ 2 runs on the same inputs, in the same
        order; every run must have the same latent size.
    kl : sequence of array (n_latents,), optional
        Mean KL to the prior per latent of every run (:func:`gaussian_kl_per_latent`).
        None keeps every latent (for models without a KL term).
    correlation : {"lasso", "spearman"}
    kl_threshold : float
        KL above which a latent counts as informative (dlib: 0.01).
    filter_low_kl : bool
        Drop the uninformative latents before scoring a pair (dlib: True).
    seed : int
        ``random_state`` of the Lasso fits (their cyclic coordinate descent ignores it).

    Returns
    -------
    UDRResult
    """
    runs, kls = _runs(codes, kl)
    check_option(_FUNC, "correlation", correlation, CORRELATIONS)
    kl_threshold = check_float(_FUNC, "kl_threshold", kl_threshold, minimum=0.0)
    if not isinstance(filter_low_kl, (bool, np.bool_)):
        raise TypeError(f"{_FUNC}: filter_low_kl must be a bool; got {type(filter_low_kl).__name__}")
    seed = check_int(_FUNC, "seed", seed, minimum=0)
    from sklearn.linear_model import Lasso
    from sklearn.preprocessing import StandardScaler

    m, d = len(runs), runs[0].shape[1]
    kls = kls if kls is not None else [np.full(d, np.inf)] * m
    reps = [StandardScaler().fit_transform(r) * np.greater(k, 0.01) for r, k in zip(runs, kls)]
    active = np.stack([k > kl_threshold for k in kls]) if filter_low_kl else np.ones((m, d), bool)
    if correlation == "spearman":
        import scipy.stats

        ranked = [scipy.stats.rankdata(r, axis=0) for r in reps]
        ranked = [r - r.mean(axis=0) for r in ranked]
    corr_all = np.zeros((m, m, d, d))
    pairwise = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            if i == j:
                continue
            if correlation == "lasso":
                corr = np.abs(Lasso(alpha=0.1, random_state=seed).fit(reps[i], reps[j]).coef_).T
            else:
                corr = _spearman(ranked, i, j)
            corr_all[i, j] = np.nan_to_num(corr, nan=0.0)
            pairwise[i, j] = relative_strength(corr[active[i]][:, active[j]])
    scores = np.array([np.median(np.delete(pairwise[:, i], i)) for i in range(m)])
    return UDRResult(
        value=float(scores.mean()),
        model_scores=scores,
        best=int(np.argmax(scores)),
        pairwise=pairwise,
        correlations=corr_all,
        active=active,
        correlation=correlation,
    )
