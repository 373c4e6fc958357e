"""Modularity and Explicitness (Ridgeway & Mozer 2018), as disentanglement_lib."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaecore._validation import check_int
from vaecore.metrics._arrays import check_train_test
from vaecore.metrics._histogram import mutual_info_matrix
from vaecore.metrics._result import MetricResult

_FUNC = "modularity_explicitness"


@dataclass(frozen=True)
class ModularityExplicitnessResult(MetricResult):
    """Result of :func:`modularity_explicitness`.

    Attributes
    ----------
    value : float
        The modularity score (disentanglement_lib's ``modularity_score``).
    modularity : float
        Same as ``value``.
    explicitness_train, explicitness_test : float
        Mean over factors of the macro one-vs-rest ROC-AUC of a logistic regression from all
        (standardised) latents to the factor, on the training / test arrays
        (``explicitness_score_train`` / ``explicitness_score_test``).
    per_code : ndarray (n_latents,)
        Modularity of every latent, 1 - δ_j (0 for a latent with no information).
    per_factor_train, per_factor_test : ndarray (n_factors,)
        Explicitness (ROC-AUC) of every factor.
    mutual_info : ndarray (n_factors, n_latents)
        I(w_i; z_j) in nats on the training arrays, latents in ``n_bins`` histogram bins.
    n_not_converged : int
        How many logistic regressions stopped at their iteration limit (sklearn's
        ConvergenceWarning, recorded here instead of printed).
    """

    value: float
    modularity: float
    explicitness_train: float
    explicitness_test: float
    per_code: np.ndarray
    per_factor_train: np.ndarray
    per_factor_test: np.ndarray
    mutual_info: np.ndarray
    n_not_converged: int


def modularity_scores(mutual_info: np.ndarray) -> np.ndarray:
    """Per-latent modularity from ``mutual_info (n_factors, n_latents)`` (dlib's ``modularity``).

    With θ_j = max_i I(w_i; z_j)² and F factors, δ_j = (Σ_i I(w_i; z_j)² − θ_j) / (θ_j (F − 1))
    and the latent's modularity is 1 − δ_j; a latent with θ_j = 0 scores 0.
    """
    squared = np.square(mutual_info.T)  # dlib's layout (num_codes, num_factors)
    theta = squared.max(axis=1)
    out = np.zeros(squared.shape[0], dtype=np.float64)
    ok = theta > 0.0
    out[ok] = 1.0 - (squared[ok].sum(axis=1) - theta[ok]) / (theta[ok] * (squared.shape[1] - 1.0))
    return out


def _class_sets(w: np.ndarray, wt: np.ndarray) -> None:
    for i in range(w.shape[1]):
        train, test = np.unique(w[:, i]), np.unique(wt[:, i])
        if train.size < 2:
            raise ValueError(
                f"{_FUNC}: factors_train must take at least 2 values per factor (a classifier "
                f"needs two classes); got constant factor {i}"
            )
        if not np.array_equal(train, test):
            raise ValueError(
                f"{_FUNC}: factors_test must take the same values as factors_train in every "
                f"factor (one ROC-AUC per class, as disentanglement_lib); got factor {i} with "
                f"{train.size} training and {test.size} test values "
                f"({np.setxor1d(train, test)[:5].tolist()} in only one of them)"
            )


def _explicitness(x: np.ndarray, y: np.ndarray, xt: np.ndarray, yt: np.ndarray) -> tuple[float, float, int]:
    """dlib's ``explicitness_per_factor``: default LogisticRegression, macro ROC-AUC of the
    one-hot classes (classes sorted, as MultiLabelBinarizer and predict_proba order them)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf = LogisticRegression().fit(x, y)
    n_bad = sum(issubclass(c.category, ConvergenceWarning) for c in caught)
    for c in caught:
        if not issubclass(c.category, ConvergenceWarning):
            warnings.warn_explicit(c.message, c.category, c.filename, c.lineno)
    onehot = (y[:, None] == clf.classes_[None, :]).astype(np.int64)
    onehot_t = (yt[:, None] == clf.classes_[None, :]).astype(np.int64)
    train = roc_auc_score(onehot, clf.predict_proba(x))
    test = roc_auc_score(onehot_t, clf.predict_proba(xt))
    return float(train), float(test), n_bad


def modularity_explicitness(
    codes_train: Any,
    factors_train: Any,
    codes_test: Any,
    factors_test: Any,
    *,
    n_bins: int = 20,
    backend: str = "auto",
) -> ModularityExplicitnessResult:
    """Modularity and Explicitness (Ridgeway & Mozer 2018), exactly as disentanglement_lib's
    ``compute_modularity_explicitness`` (``evaluation/metrics/modularity_explicitness.py``).

    * **Modularity** (training arrays): every latent is discretised into ``n_bins`` equal-width
      histogram bins (as MIG), I(w_i; z_j) is the discrete mutual information with each
      factor, and the latent's modularity is 1 − δ_j with δ_j = (Σ_i I_ij² − θ_j) / (θ_j (F−1)),
      θ_j = max_i I_ij²; the score is the plain mean over latents (a latent with no
      information scores 0).
    * **Explicitness**: the latents are standardised with the training mean and population
      std; per factor, sklearn's default ``LogisticRegression()`` is fit on all latents and
      scored by the macro ROC-AUC of its class probabilities against the one-hot classes,
      on the training and on the test arrays; the scores are the means over factors.

    Where disentanglement_lib fails (NaN), this function is defined instead: a latent that
    is constant on the training arrays is centred but not scaled (std taken as 1). The
    classifier is today's sklearn default (lbfgs, multinomial); the sklearn of
    disentanglement_lib's time defaulted to liblinear one-vs-rest.

    Parameters
    ----------
    codes_train, codes_test : array (n_samples, n_latents)
        Representations (at least 2 latents; same number of columns).
    factors_train, factors_test : array (n_samples, n_factors) or (n_samples,)
        Discrete ground-truth factors, at least 2 (modularity's δ divides by F − 1); every
        factor takes at least 2 values and the same set of values in both arrays.
    n_bins : int
        Histogram bins per latent (disentanglement_lib's ``discretizer.num_bins``: 20).
    backend : {"auto", "native", "reference"}
        Mutual information by the C++ kernel of MIG or its sklearn twin (agree to 1e-12).

    Returns
    -------
    ModularityExplicitnessResult
    """
    z, w, zt, wt = check_train_test(_FUNC, codes_train, factors_train, codes_test, factors_test)
    n_bins = check_int(_FUNC, "n_bins", n_bins, minimum=2)
    if w.shape[1] < 2:
        raise ValueError(
            f"{_FUNC}: factors_train must have at least 2 factors (modularity compares a "
            f"latent's best factor with the others); got shape {w.shape}"
        )
    _class_sets(w, wt)
    mi, _ = mutual_info_matrix(_FUNC, "codes_train", z, w, n_bins, backend)
    per_code = modularity_scores(mi)
    mean, std = z.mean(axis=0), z.std(axis=0)
    std = np.where(std == 0.0, 1.0, std)
    x, xt = (z - mean) / std, (zt - mean) / std
    per_train = np.empty(w.shape[1])
    per_test = np.empty(w.shape[1])
    n_bad = 0
    for i in range(w.shape[1]):
        values = np.unique(w[:, i])  # class indices: same order as dlib's sorted labels
        y, yt = np.searchsorted(values, w[:, i]), np.searchsorted(values, wt[:, i])
        per_train[i], per_test[i], bad = _explicitness(x, y, xt, yt)
        n_bad += bad
    value = float(per_code.mean())
    return ModularityExplicitnessResult(
        value=value,
        modularity=value,
        explicitness_train=float(per_train.mean()),
        explicitness_test=float(per_test.mean()),
        per_code=per_code,
        per_factor_train=per_train,
        per_factor_test=per_test,
        mutual_info=mi,
        n_not_converged=int(n_bad),
    )
