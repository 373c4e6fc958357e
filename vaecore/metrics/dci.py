"""DCI: disentanglement, completeness, informativeness (Eastwood & Williams 2018), as
disentanglement_lib, with scikit-learn's gradient boosting as the reference and LightGBM
as the fast backend."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.stats

from vaecore._native import native, resolve_backend
from vaecore._validation import check_int, check_option
from vaecore.metrics._arrays import check_finite_result, check_train_test, standardize_train_test
from vaecore.metrics._result import MetricResult
from vaecore.metrics.lightgbm_trees import TreeArrays, tree_arrays
from vaecore.metrics.sap import encode_train_test
from vaecore.reference import gbt_replay as _reference

_FUNC = "dci"
DCI_BACKENDS = ("sklearn", "lightgbm")

# LightGBM settings that mirror sklearn's GradientBoostingClassifier defaults
# (100 stages, learning rate 0.1, depth-3 trees = at most 8 leaves, leaves of one sample,
# no subsampling, no L2 penalty), one thread (LightGBM's OpenMP pool oversubscribes busy
# machines; sklearn is single-threaded too). The importances are recomputed sklearn's way from the
# fitted trees (:func:`lightgbm_impurity_importance`).
LIGHTGBM_PARAMS: dict[str, Any] = {
    "n_estimators": 100,
    "learning_rate": 0.1,
    "max_depth": 3,
    "num_leaves": 8,
    "min_child_samples": 1,
    "min_child_weight": 1e-3,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "reg_lambda": 0.0,
    "verbose": -1,
}


@dataclass(frozen=True)
class DCIResult(MetricResult):
    """Result of :func:`dci`.

    Attributes
    ----------
    value : float
        The disentanglement score D (the headline number of disentanglement_lib).
    disentanglement, completeness : float
        D and C: importance-weighted means of 1 - entropy of the rows / columns of the
        importance matrix.
    informativeness_train, informativeness_test : float
        Mean classification accuracy of the per-factor models (disentanglement_lib's
        "informativeness" = accuracy, not an error).
    importance : ndarray (n_factors, n_latents)
        R_ij = |feature importance| of latent j in the model of factor i.
    per_code : ndarray (n_latents,)
        Disentanglement of each latent, 1 - H_{n_factors}(R_{.j}).
    per_factor : ndarray (n_factors,)
        Completeness of each factor, 1 - H_{n_latents}(R_{i.}).
    backend : str
        "sklearn" or "lightgbm".
    """

    value: float
    disentanglement: float
    completeness: float
    informativeness_train: float
    informativeness_test: float
    importance: np.ndarray
    per_code: np.ndarray
    per_factor: np.ndarray
    backend: str


def dci_scores(importance: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Disentanglement and completeness of an importance matrix ``(n_factors, n_latents)``.

    disentanglement_lib's ``disentanglement`` / ``completeness`` verbatim (its matrix is the
    transpose, codes x factors): per-code 1 - entropy (base n_factors) of the code's column
    (+1e-11), weighted by the code's share of the total importance, and the same per factor
    with base n_latents. An all-zero matrix weights codes (factors) uniformly.

    Returns ``(disentanglement, completeness, per_code, per_factor)``.
    """
    r = importance.T  # disentanglement_lib's layout: (num_codes, num_factors)
    per_code = 1.0 - scipy.stats.entropy(r.T + 1e-11, base=r.shape[1])
    per_factor = 1.0 - scipy.stats.entropy(r + 1e-11, base=r.shape[0])
    weights = np.ones_like(r) if r.sum() == 0.0 else r
    code_importance = weights.sum(axis=1) / weights.sum()
    factor_importance = weights.sum(axis=0) / weights.sum()
    return (
        float(np.sum(per_code * code_importance)),
        float(np.sum(per_factor * factor_importance)),
        per_code,
        per_factor,
    )


def _model(backend: str, seed: int) -> Any:
    if backend == "sklearn":
        from sklearn.ensemble import GradientBoostingClassifier

        return GradientBoostingClassifier(random_state=seed)
    try:
        import lightgbm
    except ImportError as exc:
        raise RuntimeError(
            f'{_FUNC}: backend="lightgbm" needs the lightgbm package ({exc}); install it with '
            '`pip install "vaecore[fast]"` or use backend="sklearn"'
        ) from exc
    return lightgbm.LGBMClassifier(random_state=seed, n_jobs=1, **LIGHTGBM_PARAMS)


def lightgbm_init_score(y: np.ndarray, k: int) -> np.ndarray:
    """LightGBM's initial raw score (``boost_from_average``) for class indices ``y``.

    One tree per iteration (two classes): the logit of the positive rate; otherwise the log
    class frequencies; both with LightGBM's clipping at 1e-15.
    """
    freq = np.bincount(y, minlength=max(k, 2)) / y.size
    if k == 1:
        p1 = np.clip(freq[1], 1e-15, 1 - 1e-15)
        return np.array([np.log(p1 / (1 - p1))])
    return np.log(np.maximum(freq, 1e-15))


def lightgbm_impurity_importance(
    model: Any, x: np.ndarray, y: np.ndarray, *, backend: str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """sklearn's gradient-boosting importance evaluated on a fitted LightGBM classifier.

    sklearn's ``feature_importances_`` sum, over every split of every tree, the decrease of
    the squared error of the *residuals* y_k - p_k the tree was fit to (its impurity), then
    normalise to sum 1. LightGBM's own "gain" importance weights splits by the hessian
    instead, which over-credits late trees that fit noise (0.06-0.10 off in D and C). Here
    the trees are read as arrays (:func:`vaecore.metrics.lightgbm_trees.tree_arrays`) and
    boosting is replayed on the training samples (``csrc/gbt_replay.cpp``, twin
    :mod:`vaecore.reference.gbt_replay`): raw scores iteration by iteration from LightGBM's
    initial score (:func:`lightgbm_init_score`), the residuals give each split its
    decrease, and the sums are normalised like sklearn's.

    Parameters
    ----------
    model : lightgbm.LGBMClassifier or TreeArrays
        Fitted on ``x`` and class indices ``y`` (0 .. n_classes - 1, all present), or its
        :func:`~vaecore.metrics.lightgbm_trees.tree_arrays`.
    x : ndarray (n_samples, n_features), float64
    y : ndarray (n_samples,), int
    backend : {"auto", "native", "reference"}
        The C++ kernel or its pure-Python twin (same numbers to ~1e-12).

    Returns
    -------
    ``(importance (n_features,), raw training scores (n_samples, k))``; the argmax of the raw
    scores (``> 0`` when k = 1) equals ``model.predict(x)``.
    """
    which = resolve_backend(_FUNC, backend)
    trees = _trees(model)
    k = trees.num_tree_per_iteration
    kernel = native().gbt_residual_importance if which == "native" else _reference.gbt_residual_importance
    out, raw = kernel(
        _features(trees, x, "x"),
        np.ascontiguousarray(y, dtype=np.int64),
        lightgbm_init_score(y, k),
        *trees.kernel_args(),
    )
    total = out.sum()
    return (out / total if total > 0 else out), raw


def lightgbm_raw_scores(model: Any, x: np.ndarray, *, backend: str = "auto") -> np.ndarray:
    """Raw scores ``(n_samples, k)`` of a fitted LightGBM model, from its tree arrays (equal to
    ``booster.predict(x, raw_score=True)``, without LightGBM's per-call overhead)."""
    which = resolve_backend(_FUNC, backend)
    trees = _trees(model)
    kernel = native().gbt_raw_scores if which == "native" else _reference.gbt_raw_scores
    return kernel(_features(trees, x, "x"), trees.num_tree_per_iteration, *trees.kernel_args())


def _trees(model: Any) -> TreeArrays:
    return model if isinstance(model, TreeArrays) else tree_arrays(model.booster_)


def _features(trees: TreeArrays, x: np.ndarray, name: str) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != trees.n_features:
        raise ValueError(
            f"{_FUNC}: {name} must have shape (n_samples, {trees.n_features}) like the fitted model's "
            f"inputs; got {x.shape}"
        )
    return x


def _classes(raw: np.ndarray) -> np.ndarray:
    return (raw[:, 0] > 0).astype(np.int64) if raw.shape[1] == 1 else np.argmax(raw, axis=1)


def dci(
    codes_train: Any,
    factors_train: Any,
    codes_test: Any,
    factors_test: Any,
    *,
    backend: str = "sklearn",
    seed: int = 0,
) -> DCIResult:
    """DCI scores (Eastwood & Williams 2018) as disentanglement_lib's ``dci``.

    For each factor a gradient-boosted tree classifier predicts the factor's class from
    all latents (fit on the training arrays); the absolute feature importances form
    row i of the importance matrix R. Disentanglement and completeness follow
    :func:`dci_scores`; informativeness is the mean accuracy on the training and on the
    test arrays.

    Parameters
    ----------
    codes_train, codes_test : array (n_samples, n_latents)
        Representations (at least 2 latents).
    factors_train, factors_test : array (n_samples, n_factors) or (n_samples,)
        Discrete ground-truth factors (at least 2 factors for the disentanglement score).
    backend : {"sklearn", "lightgbm"}
        "sklearn": ``GradientBoostingClassifier()`` with its defaults, the exact
        definition (slow: minutes at 10,000 points). "lightgbm": ``LGBMClassifier`` with the
        same depth, stages, learning rate and leaf size (:data:`LIGHTGBM_PARAMS`), its
        importances computed like sklearn's (residual squared-error decrease per split,
        :func:`lightgbm_impurity_importance`, a C++ replay of the fitted trees) and its
        predictions taken from the same tree arrays; ~25x faster at 10,000 / 5,000 points
        and within a few hundredths of the reference (see benchmarks/README.md). Needs the
        ``fast`` extra.
    seed : int
        ``random_state`` of every model (deterministic results).

    Returns
    -------
    DCIResult

    Notes
    -----
    The codes are standardised per latent with the training mean and standard deviation
    before the trees (:func:`~vaecore.metrics._arrays.standardize_train_test`). A tree's
    partitions, hence its importances and predictions, are invariant to increasing
    per-latent affine maps, but scikit-learn's trees compare features in float32 and
    LightGBM treats |x| < 1e-35 as zero: without the standardisation codes of magnitude
    1e-50 (or 1e50) scored D = 0.
    """
    z, w, zt, wt = check_train_test(_FUNC, codes_train, factors_train, codes_test, factors_test)
    check_option(_FUNC, "backend", backend, DCI_BACKENDS)
    seed = check_int(_FUNC, "seed", seed, minimum=0)
    if w.shape[1] < 2:
        raise ValueError(
            f"{_FUNC}: factors_train must have at least 2 factors (disentanglement is an entropy "
            f"over factors); got shape {w.shape}"
        )
    y_train, y_test = encode_train_test(_FUNC, w, wt)
    z, zt = standardize_train_test(z, zt)  # the trees' float32 / LightGBM's 1e-35 zero rule
    n_factors, n_latents = w.shape[1], z.shape[1]
    importance = np.zeros((n_factors, n_latents), dtype=np.float64)
    acc_train, acc_test = [], []
    for i in range(n_factors):
        model = _model(backend, seed)
        model.fit(z, y_train[:, i])
        if backend == "lightgbm":
            trees = tree_arrays(model.booster_)
            importance[i], raw = lightgbm_impurity_importance(trees, z, y_train[:, i])
            pred, pred_test = _classes(raw), _classes(lightgbm_raw_scores(trees, zt))
        else:
            importance[i] = np.abs(np.asarray(model.feature_importances_, dtype=np.float64))
            pred, pred_test = model.predict(z), model.predict(zt)
        acc_train.append(np.mean(pred == y_train[:, i]))
        acc_test.append(np.mean(pred_test == y_test[:, i]))
    check_finite_result(_FUNC, "importance matrix", importance)
    d, c, per_code, per_factor = dci_scores(importance)
    return DCIResult(
        value=d,
        disentanglement=d,
        completeness=c,
        informativeness_train=float(np.mean(acc_train)),
        informativeness_test=float(np.mean(acc_test)),
        importance=importance,
        per_code=per_code,
        per_factor=per_factor,
        backend=backend,
    )
