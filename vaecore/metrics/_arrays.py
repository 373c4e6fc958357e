"""Validation and scaling shared by the array metrics (DS, MIG, SAP, DCI).

Layout is samples first: ``codes (n_samples, n_latents)``, ``factors (n_samples,
n_factors)``; numpy arrays, torch tensors or nested sequences are accepted. Every
check runs before any model fit or C++ call and raises
``"<func>: <arg> must be <expectation>; got <actual>"``.

Codes are float64; integer factors stay integers (int64, or uint64) so that labels
beyond 2**53 are never merged by a float cast. The helpers below rescale columns before
any arithmetic that could overflow or underflow (squares of 1e300, distances of 1e-320):
:func:`pow2_scale` multiplies each column by a power of two, which is exact in binary
floating point, so every metric whose comparisons and ratios are scale-covariant (the
histograms of MIG, the 1-D k-NN of DS) gives bit-identical results on ordinary inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vaecore._validation import check_array


def check_codes_factors(
    func: str,
    codes: Any,
    factors: Any,
    *,
    min_rows: int = 2,
    codes_name: str = "codes",
    factors_name: str = "factors",
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a ``(codes, factors)`` pair and return C arrays: codes float64, factors
    int64/uint64 when given as integers (exact labels), else float64.

    ``codes`` must be 2-D with at least two latents (every metric compares a factor's best
    latent with its second best); ``factors`` may be 1-D (one factor) or 2-D; both must be
    finite and have the same number of rows, at least ``min_rows``.
    """
    z = check_array(func, codes_name, codes, ndim=2, min_rows=min_rows)
    w = check_array(func, factors_name, factors, ndim=(1, 2), min_rows=min_rows, keep_int=True)
    if w.ndim == 1:
        w = w[:, None]
    if z.shape[0] != w.shape[0]:
        raise ValueError(
            f"{func}: {codes_name} and {factors_name} must have the same number of rows "
            f"(samples first); got {z.shape[0]} and {w.shape[0]}"
        )
    if z.shape[1] < 2:
        raise ValueError(
            f"{func}: {codes_name} must have at least 2 latents (columns); got shape {z.shape}"
        )
    if w.shape[1] < 1:
        raise ValueError(f"{func}: {factors_name} must have at least 1 factor; got shape {w.shape}")
    return z, w


def check_same_columns(
    func: str, name_a: str, a: np.ndarray, name_b: str, b: np.ndarray
) -> None:
    """Require two arrays to agree in their number of columns (train vs test arrays)."""
    if a.shape[1] != b.shape[1]:
        raise ValueError(
            f"{func}: {name_b} must have as many columns as {name_a} ({a.shape[1]}); "
            f"got shape {b.shape}"
        )


def check_train_test(
    func: str, codes_train: Any, factors_train: Any, codes_test: Any, factors_test: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate a train/test pair of (codes, factors) arrays, as SAP and DCI take them."""
    z, w = check_codes_factors(
        func, codes_train, factors_train, codes_name="codes_train", factors_name="factors_train"
    )
    zt, wt = check_codes_factors(
        func, codes_test, factors_test, codes_name="codes_test", factors_name="factors_test"
    )
    check_same_columns(func, "codes_train", z, "codes_test", zt)
    check_same_columns(func, "factors_train", w, "factors_test", wt)
    w, wt = common_label_dtype(w, wt)
    return z, w, zt, wt


def common_label_dtype(w: np.ndarray, wt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Give train and test factors one dtype for exact value matching.

    Equal kinds are returned as they are (int64 and uint64 compare exactly in numpy). A
    float array next to an integer one becomes int64 when it holds only integers inside
    int64's range (exact); otherwise the integer one becomes float64.
    """
    if (w.dtype.kind == "f") == (wt.dtype.kind == "f"):
        return w, wt
    flt = w if w.dtype.kind == "f" else wt
    if np.all(flt == np.round(flt)) and np.all(np.abs(flt) < 2.0**63):
        flt = flt.astype(np.int64)
        return (flt, wt) if w.dtype.kind == "f" else (w, flt)
    return w.astype(np.float64), wt.astype(np.float64)


def encode_labels(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map every factor column to class indices ``0..C-1`` (sorted by value).

    Integer columns are ranked exactly in their own dtype (no float cast); float columns
    by their values. Returns ``(labels (n, F) int64, n_classes (F,) int64)``.
    """
    labels = np.empty(w.shape, dtype=np.int64)
    n_classes = np.empty(w.shape[1], dtype=np.int64)
    limit = 4 * w.shape[0] + 1024
    for i in range(w.shape[1]):
        col = w[:, i]
        as_int = _small_offsets(col, limit)
        if as_int is not None:
            # Integer values in a modest range: O(n) ranks of the present values
            # (identical to np.unique's inverse, without its sort).
            present = np.bincount(as_int) > 0
            labels[:, i] = (np.cumsum(present) - 1)[as_int]
            n_classes[i] = int(present.sum())
        else:
            uniq, inv = np.unique(col, return_inverse=True)
            labels[:, i] = inv.reshape(-1)
            n_classes[i] = uniq.size
    return labels, n_classes


def _small_offsets(col: np.ndarray, limit: int) -> np.ndarray | None:
    """``col - min(col)`` as int64 when every value is an integer and the span is below
    ``limit``; else None. Overflow-free for every integer and float input."""
    if col.size == 0:
        return None
    lo, hi = col.min(), col.max()
    if col.dtype.kind in "iu":
        if int(hi) - int(lo) >= limit:
            return None
        return (col - lo).astype(np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        span = hi - lo
    if not span < limit:
        return None
    shifted = col - lo
    as_int = shifted.astype(np.int64)
    return as_int if np.array_equal(as_int, shifted) else None


def factor_values(w: np.ndarray) -> np.ndarray:
    """Factor values as float64 for the metrics that use values, not only classes (DS's
    regression, SAP's continuous branch). Integer columns are shifted by their minimum in
    exact integer arithmetic first (those metrics are translation invariant), so labels
    near 2**63 keep their differences; float columns are returned unchanged."""
    if w.dtype.kind == "f":
        return np.ascontiguousarray(w, dtype=np.float64)
    lo = w.min(axis=0)
    if w.dtype.kind == "i":  # a - b mod 2**64 is the exact difference when a >= b
        diff = w.astype(np.uint64) - lo.astype(np.uint64)
    else:
        diff = w - lo
    return diff.astype(np.float64)


def scaled_values(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`factor_values`, scaled by :func:`pow2_scale` and shifted to start at 0 per column:
    ``(values, exponents)``, the original values being ``(values + c) * 2**exponents``.

    For metrics invariant to shifting a factor and covariant with scaling it (variances,
    mean squared errors, correlations): nothing overflows, and a factor like 2**53 + k keeps
    the differences between its values (they are exact after the shift) instead of losing
    them to the cancellation of a mean of 9e15-sized numbers.
    """
    values, exponents = pow2_scale(factor_values(w))
    if values.shape[0]:
        values = values - values.min(axis=0)
    return values, exponents


def pow2_scale(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale every column of ``x`` by a power of two so that its largest magnitude lies in
    [0.5, 1); returns ``(scaled, exponents)`` with ``x[:, j] = scaled[:, j] * 2**exponents[j]``.

    Multiplying by a power of two is exact (unless a value underflows, i.e. lies more than
    ~2**1020 below its column's maximum), so sums, squares and distances of the scaled
    columns cannot overflow and scale-covariant computations give the same results.
    All-zero columns are left as they are (exponent 0).
    """
    peak = np.max(np.abs(x), axis=0) if x.shape[0] else np.zeros(x.shape[1])
    exponents = np.frexp(peak)[1].astype(np.int64)
    return np.ldexp(x, -exponents[None, :]), exponents


def standardize_train_test(
    z: np.ndarray, zt: np.ndarray, *, clip: float = 1e30
) -> tuple[np.ndarray, np.ndarray]:
    """Standardise codes per latent with the *training* mean and standard deviation (the
    same increasing affine map for both arrays); constant training columns are only
    centred. Used before the classifiers of SAP and DCI, whose solvers work in float32
    (scikit-learn's trees, LightGBM's |x| < 1e-35 "zero" rule) or diverge on huge
    inputs (liblinear). Both are scaled first by one power of two per column
    (:func:`pow2_scale` over both arrays), so no step overflows; test values more than
    ``clip`` training standard deviations away (only possible for a near-constant training
    column) are clipped there, an order-preserving map that leaves every tree's
    decision unchanged (thresholds lie inside the training range).
    """
    both, _ = pow2_scale(np.concatenate([z, zt], axis=0))
    a, b = both[: z.shape[0]], both[z.shape[0] :]
    mean = a.mean(axis=0)
    std = a.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    with np.errstate(over="ignore"):
        a = np.clip((a - mean) / std, -clip, clip)
        b = np.clip((b - mean) / std, -clip, clip)
    return np.ascontiguousarray(a), np.ascontiguousarray(b)


def check_finite_result(func: str, what: str, x: Any) -> None:
    """Raise when a computed quantity is not finite (a guard after arithmetic that could
    overflow; the inputs were finite, so this names the computation, not an argument)."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.size and not np.isfinite(arr).all():
        raise ValueError(
            f"{func}: the inputs must give a finite {what}; got NaN or inf (the codes or factors "
            f"exceed the floating-point range of this computation)"
        )


def top_two(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``matrix (n_factors, n_latents)``: index of the largest entry and of the
    largest among the rest (ties go to the smaller latent index)."""
    best = np.argmax(matrix, axis=1)
    rest = matrix.copy()
    rest[np.arange(matrix.shape[0]), best] = -np.inf
    second = np.argmax(rest, axis=1)
    return best.astype(np.int64), second.astype(np.int64)
