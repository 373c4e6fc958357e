"""disentanglement_lib's histogram discretizer and discrete mutual information, samples first.

Shared by Modularity, IRS, the unsupervised mutual-information score and the embedding-geometry
detector. The binning is numpy's (``np.histogram(z_j, n_bins)`` edges, ``np.digitize`` on all
but the last edge), as MIG's (:mod:`vaecore.metrics.mig`); the mutual information runs through
the same C++ kernel (``csrc/mutual_info.cpp``) or its Python twin (:mod:`vaecore.reference.mig`).
"""

from __future__ import annotations

import numpy as np

from vaecore._native import native, resolve_backend
from vaecore.metrics._arrays import encode_labels
from vaecore.reference import mig as _reference


def histogram_edges(func: str, name: str, x: np.ndarray, n_bins: int) -> np.ndarray:
    """``np.histogram_bin_edges(x[:, j], n_bins)`` for every column j, ``(d, n_bins + 1)``.

    Raises ``ValueError`` naming ``func`` and ``name`` where numpy cannot split a column's
    range into ``n_bins`` finite bins (too narrow a range for its magnitude).
    """
    edges = np.empty((x.shape[1], n_bins + 1), dtype=np.float64)
    for j in range(x.shape[1]):
        try:
            edges[j] = np.histogram_bin_edges(x[:, j], n_bins)
        except ValueError as exc:
            raise ValueError(
                f"{func}: {name} must span a range that n_bins={n_bins} finite-sized bins can "
                f"split (numpy's histogram rule); got column {j} ({exc})"
            ) from exc
    return edges


def histogram_discretize(func: str, name: str, x: np.ndarray, n_bins: int) -> np.ndarray:
    """disentanglement_lib's ``_histogram_discretize`` samples first: bin indices
    ``1..n_bins`` of every column (int64, same shape as ``x``)."""
    edges = histogram_edges(func, name, x, n_bins)
    out = np.empty(x.shape, dtype=np.int64)
    for j in range(x.shape[1]):
        out[:, j] = np.digitize(x[:, j], edges[j, :-1])
    return out


def mutual_info_matrix(
    func: str, name: str, codes: np.ndarray, labels: np.ndarray, n_bins: int, backend: str
) -> tuple[np.ndarray, np.ndarray]:
    """``(mi (n_factors, n_latents), entropy (n_factors,))`` in nats.

    ``mi[i, j] = sklearn.metrics.mutual_info_score(labels[:, i], digitize(codes[:, j]))`` with
    the histogram discretizer of ``n_bins`` bins (disentanglement_lib's
    ``discrete_mutual_info``); ``entropy[i] = H(labels[:, i])``. ``labels`` are any discrete
    values (only their partition matters).
    """
    which = resolve_backend(func, backend)
    codes = np.ascontiguousarray(codes, dtype=np.float64)
    edges = histogram_edges(func, name, codes, n_bins)
    classes, n_classes = encode_labels(labels)
    classes = classes.astype(np.float64)
    offsets = np.zeros(classes.shape[1], dtype=np.float64)
    if which == "native":
        return native().histogram_mutual_info(codes, edges, classes, offsets, n_classes)
    return _reference.histogram_mutual_info(codes, edges, classes, offsets, n_classes)
