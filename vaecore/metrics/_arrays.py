"""Validation shared by the array metrics (DS, MIG, SAP, DCI).

Layout is samples first: ``codes (n_samples, n_latents)``, ``factors (n_samples,
n_factors)``; numpy arrays, torch tensors or nested sequences are accepted. Every
check runs before any model fit or C++ call and raises
``"<func>: <arg> must be <expectation>; got <actual>"``.
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
    """Validate a ``(codes, factors)`` pair and return both as float64 C arrays.

    ``codes`` must be 2-D with at least two latents (every metric compares a factor's best
    latent with its second best); ``factors`` may be 1-D (one factor) or 2-D; both must be
    finite and have the same number of rows, at least ``min_rows``.
    """
    z = check_array(func, codes_name, codes, ndim=2, min_rows=min_rows)
    w = check_array(func, factors_name, factors, ndim=(1, 2), min_rows=min_rows)
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
    return z, w, zt, wt


def encode_labels(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map every factor column to class indices ``0..C-1`` (sorted by value).

    Returns ``(labels (n, F) int64, n_classes (F,) int64)``.
    """
    labels = np.empty(w.shape, dtype=np.int64)
    n_classes = np.empty(w.shape[1], dtype=np.int64)
    for i in range(w.shape[1]):
        col = w[:, i]
        lo = col.min()
        shifted = col - lo
        as_int = shifted.astype(np.int64)
        if shifted.max() < 4 * col.size + 1024 and np.array_equal(as_int, shifted):
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


def top_two(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``matrix (n_factors, n_latents)``: index of the largest entry and of the
    largest among the rest (ties go to the smaller latent index)."""
    best = np.argmax(matrix, axis=1)
    rest = matrix.copy()
    rest[np.arange(matrix.shape[0]), best] = -np.inf
    second = np.argmax(rest, axis=1)
    return best.astype(np.int64), second.astype(np.int64)
