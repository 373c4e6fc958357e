"""The kNN disentanglement score DS (thesis §3.3.1, eq. 3.32-3.37; SPEC §3)."""

from __future__ import annotations

from collections.abc import Sequence
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
    scaled_values,
    top_two,
)
from vaecore.metrics._result import MetricResult
from vaecore.reference import ds as _reference

_FUNC = "ds"


@dataclass(frozen=True)
class DSResult(MetricResult):
    """Result of :func:`ds`.

    Attributes
    ----------
    value : float
        DS = mean_i (A[i, best_i] - A[i, second_i]) / M_i (eq. 3.32).
    per_factor : ndarray (n_factors,)
        The summands (A[i, best_i] - A[i, second_i]) / M_i, each in [0, 1].
    matrix : ndarray (n_factors, n_latents)
        The sensitivities A_ij (eq. 3.37, clipped at 0).
    normalizers : ndarray (n_factors,)
        M_i: sqrt(var(w_i)) (regression) or 1 - acc_const (classification).
    best, second : ndarray (n_factors,) int
        Latent indices m(i) and s(i) of eq. 3.33-3.34.
    categorical : tuple of bool
        Which factors were scored by classification.
    n_train, n_test : int
        Sizes of the fit and scoring parts.
    """

    value: float
    per_factor: np.ndarray
    matrix: np.ndarray
    normalizers: np.ndarray
    best: np.ndarray
    second: np.ndarray
    categorical: tuple[bool, ...]
    n_train: int
    n_test: int


def _categorical_mask(categorical: Any, n_factors: int) -> np.ndarray:
    if categorical is None:
        return np.zeros(n_factors, dtype=bool)
    if isinstance(categorical, (str, bytes)) or not isinstance(categorical, (Sequence, np.ndarray)):
        raise TypeError(
            f"{_FUNC}: categorical must be None or a sequence of bools (or factor kinds) per "
            f"factor; got {type(categorical).__name__}"
        )
    items = list(np.asarray(categorical, dtype=object).reshape(-1))
    if len(items) != n_factors:
        raise ValueError(
            f"{_FUNC}: categorical must have one entry per factor ({n_factors}); got {len(items)}"
        )
    from vaecore.datasets.base import FACTOR_KINDS

    mask = np.empty(n_factors, dtype=bool)
    for i, item in enumerate(items):
        if isinstance(item, str):
            if item not in FACTOR_KINDS:
                raise ValueError(
                    f"{_FUNC}: categorical must hold bools or factor kinds {FACTOR_KINDS}; got "
                    f"{item!r} at position {i}"
                )
            mask[i] = item == "categorical"
        elif isinstance(item, (bool, np.bool_)):
            mask[i] = bool(item)
        else:
            raise TypeError(
                f"{_FUNC}: categorical must hold bools or factor-kind strings; got "
                f"{type(item).__name__} {item!r} at position {i}"
            )
    return mask


def split_indices(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The 80/20 split of DS: ``(train_rows, test_rows)``, each sorted ascending.

    ``n_test = ceil(n / 5)`` rows chosen by ``np.random.default_rng(seed).permutation(n)``
    (the first ``n_test`` of the permutation), the rest are the training rows.
    """
    perm = np.random.default_rng(seed).permutation(n)
    n_test = (n + 4) // 5
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def ds(
    codes: Any,
    factors: Any,
    *,
    categorical: Sequence[bool] | Sequence[str] | None = None,
    k: int = 5,
    seed: int = 0,
    backend: str = "auto",
) -> DSResult:
    """Disentanglement score DS of a representation (thesis §3.3.1, eq. 3.32-3.37).

    For every factor w_i and every latent z_j *alone*, a k-nearest-neighbour model
    (uniform weights) is fit on 80 % of the given points and scored on the other 20 %:
    a regressor for continuous factors, a classifier for categorical ones.

    * regression: A_ij = max(0, sqrt(var(w_i)) - sqrt(mse_ij)), M_i = sqrt(var(w_i));
    * classification: A_ij = max(0, acc_ij - acc_const_i), M_i = 1 - acc_const_i,
      acc_const_i = the accuracy of the best constant (majority-class) prediction;
    * DS = mean_i (A_i,m(i) - A_i,s(i)) / M_i with m(i) the best and s(i) the second-best
      latent of factor i (ties: the smaller latent index is "best").

    ``var(w_i)`` (population variance, ddof=0) and ``acc_const_i`` are computed on the
    *scoring* (20 %) part, as sklearn's scoring of a constant predictor would: M_i is then
    exactly the score of the best constant model on that part, and A_ij <= M_i. The thesis
    writes A_ij = acc for classification and M_i = acc_const; SPEC §3 uses the
    constant-relative form above, which (like the clip at 0: a predictor worse than the
    constant carries no information) keeps every summand in [0, 1] as the thesis intends.

    Parameters
    ----------
    codes : array (n_samples, n_latents)
        The representation, e.g. posterior means of the test split. At least 2 latents.
    factors : array (n_samples, n_factors) or (n_samples,)
        Ground-truth factor values.
    categorical : sequence of bool or of factor kinds, optional
        Per factor, True (or the string "categorical") scores it by classification;
        None scores every factor by regression. Categorical values may be any numbers;
        they are mapped to class indices in sorted order.
    k : int
        Neighbours (5, scikit-learn's default, as in the thesis).
    seed : int
        Seed of the 80/20 split (:func:`split_indices`).
    backend : {"auto", "native", "reference"}
        "native": the exact 1-D k-NN of ``csrc/knn1d.cpp`` (sorted values, binary search
        and a growing window, parallel over latents, each neighbour set shared by all
        factors). "reference": scikit-learn's ``KNeighborsRegressor`` /
        ``KNeighborsClassifier`` per pair (:mod:`vaecore.reference.ds`).

    Returns
    -------
    DSResult

    Notes
    -----
    Tie rules of the native backend: among training points at the same distance as the
    k-th nearest one, those with the smaller row index in ``codes`` are taken; a tied
    majority vote goes to the smaller class label (scikit-learn's rule). scikit-learn's
    tree searches break distance ties in an unspecified order, so both backends agree
    exactly (to ~1e-15, the order of floating-point sums) on data without distance ties.
    A factor that is constant on the scoring part (M_i = 0) raises ``ValueError``.

    Every latent and every regression factor is multiplied by a power of two before the
    k-NN (exact in binary floating point; ``matrix`` and ``normalizers`` are reported in the
    factors' own units), so inputs of any finite magnitude give the same DS as their
    unit-scale copies; integer factors are ranked (and shifted) in integer arithmetic.
    Strings in ``categorical`` must be factor kinds (``vaecore.datasets.base.FACTOR_KINDS``).
    """
    z, w = check_codes_factors(_FUNC, codes, factors, min_rows=2)
    k = check_int(_FUNC, "k", k, minimum=1)
    seed = check_int(_FUNC, "seed", seed, minimum=0)
    which = resolve_backend(_FUNC, backend)
    n, n_factors = z.shape[0], w.shape[1]
    n_test = (n + 4) // 5
    if n - n_test < k:
        need = k + (k + 3) // 4  # smallest n with n - ceil(n/5) >= k
        while need - (need + 4) // 5 < k:
            need += 1
        raise ValueError(
            f"{_FUNC}: codes must have at least {need} rows for k={k} (80 % of them fit the "
            f"k-NN models); got {n}"
        )
    is_class = _categorical_mask(categorical, n_factors)
    train, test = split_indices(n, seed)
    # Exact power-of-two scaling of codes and regression targets: k-NN distances and the
    # ratios A/M are scale-covariant, so nothing changes but nothing can overflow.
    z, _ = pow2_scale(z)
    y, y_exp = scaled_values(w)
    y_exp[is_class] = 0
    n_classes = np.zeros(n_factors, dtype=np.int64)
    if is_class.any():
        labels, counts = encode_labels(w[:, is_class])
        y[:, is_class] = labels
        n_classes[is_class] = counts
    y_train, y_test = y[train], y[test]
    normalizers = np.empty(n_factors, dtype=np.float64)
    acc_const = np.zeros(n_factors, dtype=np.float64)
    for i in range(n_factors):
        if is_class[i]:
            freq = np.bincount(y_test[:, i].astype(np.int64), minlength=int(n_classes[i]))
            acc_const[i] = freq.max() / y_test.shape[0]
            normalizers[i] = 1.0 - acc_const[i]
        else:
            normalizers[i] = np.sqrt(np.var(y_test[:, i]))
    constant = np.flatnonzero(normalizers <= 0.0)
    if constant.size:
        raise ValueError(
            f"{_FUNC}: factors must vary on the scoring part (20 % of the rows, seed={seed}); "
            f"got constant factor(s) {constant.tolist()}"
        )
    args = (
        np.ascontiguousarray(z[train]),
        np.ascontiguousarray(z[test]),
        np.ascontiguousarray(y_train),
        np.ascontiguousarray(y_test),
        is_class.astype(np.uint8),
        n_classes,
        k,
    )
    if which == "native":
        scores = native().knn1d_scores(*args)
    else:
        scores = _reference.knn1d_scores(*args)
    matrix = np.where(
        is_class[:, None],
        scores - acc_const[:, None],
        normalizers[:, None] - np.sqrt(scores),
    )
    matrix = np.maximum(matrix, 0.0)
    best, second = top_two(matrix)
    rows = np.arange(n_factors)
    per_factor = (matrix[rows, best] - matrix[rows, second]) / normalizers
    check_finite_result(_FUNC, "score", per_factor)
    return DSResult(
        value=float(per_factor.mean()),
        per_factor=per_factor,
        matrix=np.ldexp(matrix, y_exp[:, None]),  # back to the factors' units (exact)
        normalizers=np.ldexp(normalizers, y_exp),
        best=best,
        second=second,
        categorical=tuple(bool(c) for c in is_class),
        n_train=int(train.size),
        n_test=int(test.size),
    )
