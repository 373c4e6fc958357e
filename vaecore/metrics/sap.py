"""Separated attribute predictability SAP (Kumar et al. 2018), as disentanglement_lib."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaecore._validation import check_int
from vaecore.metrics._arrays import (
    check_finite_result,
    check_train_test,
    pow2_scale,
    scaled_values,
    standardize_train_test,
    top_two,
)
from vaecore.metrics._result import MetricResult

_FUNC = "sap"
#: Iteration limit of every LinearSVC fit (scikit-learn's default, stated so the bound is explicit).
SVC_MAX_ITER = 1000


@dataclass(frozen=True)
class SAPResult(MetricResult):
    """Result of :func:`sap`.

    Attributes
    ----------
    value : float
        SAP = mean over factors of (best - second-best score over latents).
    per_factor : ndarray (n_factors,)
        The gap of every factor.
    matrix : ndarray (n_factors, n_latents)
        Score of each latent for each factor: test accuracy of a 1-D linear SVM
        (discrete) or the squared correlation (continuous).
    best, second : ndarray (n_factors,) int
        Latents with the largest and second-largest score.
    n_not_converged : int
        How many LinearSVC fits stopped at their iteration limit (sklearn's
        ConvergenceWarning, recorded here instead of printed).
    """

    DLIB_KEYS = {"SAP_score": "value"}  # disentanglement_lib's name of the score, kept beside ours

    value: float
    per_factor: np.ndarray
    matrix: np.ndarray
    best: np.ndarray
    second: np.ndarray
    n_not_converged: int


def encode_train_test(func: str, w_train: np.ndarray, w_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class indices per factor from the training values; test values unseen in training
    get label -1 (never predicted). Raises on a factor with one training class."""
    train = np.empty(w_train.shape, dtype=np.int64)
    test = np.empty(w_test.shape, dtype=np.int64)
    constant = []
    for i in range(w_train.shape[1]):
        uniq = np.unique(w_train[:, i])
        if uniq.size < 2:
            constant.append(i)
            continue
        train[:, i] = np.searchsorted(uniq, w_train[:, i])
        pos = np.clip(np.searchsorted(uniq, w_test[:, i]), 0, uniq.size - 1)
        test[:, i] = np.where(uniq[pos] == w_test[:, i], pos, -1)
    if constant:
        raise ValueError(
            f"{func}: factors_train must take at least 2 values per factor (a classifier needs "
            f"two classes); got constant factor(s) {constant}"
        )
    return train, test


def _continuous_scores(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Squared correlations on the training arrays (disentanglement_lib's continuous branch).

    Both arrays are first scaled per column by a power of two (exact, so the correlations
    are unchanged and no square overflows); disentanglement_lib's rule "0 when var z_j <=
    1e-12" is applied to the variance in the codes' own units.
    """
    values, _ = scaled_values(w)
    flat = np.flatnonzero(np.var(values, axis=0) == 0)
    if flat.size:
        raise ValueError(f"{_FUNC}: factors_train must vary; got constant factor(s) {flat.tolist()}")
    zs, exponents = pow2_scale(z)
    matrix = np.zeros((w.shape[1], z.shape[1]), dtype=np.float64)
    for j in range(z.shape[1]):
        for i in range(w.shape[1]):
            cov = np.cov(zs[:, j], values[:, i], ddof=1)
            with np.errstate(over="ignore"):
                var_z = np.ldexp(cov[0, 0], 2 * int(exponents[j]))  # in the codes' units
            if var_z > 1e-12 and cov[0, 0] > 0:
                matrix[i, j] = cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1])
    return matrix


#: Codes whose every value lies within this magnitude and whose training std is at least
#: ``1 / RAW_RANGE`` are fit raw, exactly as disentanglement_lib; other columns are standardised.
RAW_RANGE = 1e3


def _svm_inputs(z: np.ndarray, zt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per latent: the raw codes when they are of ordinary scale (disentanglement_lib's exact
    arithmetic), else the codes standardised with the training mean and std (the penalised SVM
    is not scale invariant and liblinear does not converge on codes of magnitude ~1e100)."""
    with np.errstate(over="ignore", invalid="ignore"):
        peak = np.maximum(np.abs(z).max(axis=0), np.abs(zt).max(axis=0))
        std = z.std(axis=0)
    raw = (peak <= RAW_RANGE) & (std >= 1.0 / RAW_RANGE) & np.isfinite(std)
    if raw.all():
        return z, zt
    zs, zts = standardize_train_test(z, zt)
    zs[:, raw], zts[:, raw] = z[:, raw], zt[:, raw]
    return zs, zts


def _svm_scores(
    z: np.ndarray, w: np.ndarray, zt: np.ndarray, wt: np.ndarray, seed: int
) -> tuple[np.ndarray, int]:
    """Test accuracies of one-feature LinearSVCs on standardised codes, and how many fits
    stopped at :data:`SVC_MAX_ITER`. Every fit is one short, bounded C call on inputs of
    unit scale; Python regains control between fits, so Ctrl-C interrupts the loop."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    y_train, y_test = encode_train_test(_FUNC, w, wt)
    zs, zts = _svm_inputs(z, zt)
    matrix = np.zeros((w.shape[1], z.shape[1]), dtype=np.float64)
    not_converged = 0
    for j in range(z.shape[1]):
        for i in range(w.shape[1]):
            clf = LinearSVC(
                C=0.01, class_weight="balanced", dual="auto", random_state=seed, max_iter=SVC_MAX_ITER
            )
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                clf.fit(zs[:, [j]], y_train[:, i])
            not_converged += sum(issubclass(c.category, ConvergenceWarning) for c in caught)
            for c in caught:
                if not issubclass(c.category, ConvergenceWarning):
                    warnings.warn_explicit(c.message, c.category, c.filename, c.lineno)
            matrix[i, j] = np.mean(clf.predict(zts[:, [j]]) == y_test[:, i])
    return matrix, not_converged


def sap(
    codes_train: Any,
    factors_train: Any,
    codes_test: Any,
    factors_test: Any,
    *,
    continuous: bool = False,
    seed: int = 0,
) -> SAPResult:
    """SAP score (Kumar et al. 2018) exactly as disentanglement_lib's ``sap_score``.

    For each factor i and latent j a score S_ij:

    * discrete (default): ``LinearSVC(C=0.01, class_weight="balanced")`` fit on latent j
      of the training arrays, S_ij = its accuracy on the test arrays — on the raw codes,
      exactly as disentanglement_lib, whenever latent j is of ordinary scale (every value
      within ±1e3 and a training std of at least 1e-3, :data:`RAW_RANGE`); a latent outside
      that range is first standardised with its training mean and standard deviation
      (:func:`~vaecore.metrics._arrays.standardize_train_test`), since the penalised SVM is
      not scale invariant and liblinear never converged on codes of magnitude 1e100;
    * ``continuous=True``: S_ij = cov(z_j, w_i)^2 / (var z_j var w_i) on the training
      arrays (ddof=1; 0 when var z_j <= 1e-12); the test arrays are not used, as in
      disentanglement_lib.

    SAP = mean_i (largest - second largest S_ij over j).

    Parameters
    ----------
    codes_train, codes_test : array (n_samples, n_latents)
        Representations (at least 2 latents; same number of columns).
    factors_train, factors_test : array (n_samples, n_factors) or (n_samples,)
        Ground-truth factors (discrete: class values).
    continuous : bool
        Score by squared correlation instead of a classifier.
    seed : int
        ``random_state`` of the LinearSVC fits (``dual="auto"``: the deterministic primal
        solver for one feature, so the seed rarely matters).

    Returns
    -------
    SAPResult
    """
    z, w, zt, wt = check_train_test(_FUNC, codes_train, factors_train, codes_test, factors_test)
    if not isinstance(continuous, (bool, np.bool_)):
        raise TypeError(f"{_FUNC}: continuous must be a bool; got {type(continuous).__name__}")
    seed = check_int(_FUNC, "seed", seed, minimum=0)
    n_factors, n_latents = w.shape[1], z.shape[1]
    if continuous:
        matrix = _continuous_scores(z, w)
        not_converged = 0
    else:
        matrix, not_converged = _svm_scores(z, w, zt, wt, seed)
    best, second = top_two(matrix)
    rows = np.arange(n_factors)
    per_factor = matrix[rows, best] - matrix[rows, second]
    check_finite_result(_FUNC, "score matrix", per_factor)
    return SAPResult(
        value=float(per_factor.mean()),
        per_factor=per_factor,
        matrix=matrix,
        best=best,
        second=second,
        n_not_converged=int(not_converged),
    )
