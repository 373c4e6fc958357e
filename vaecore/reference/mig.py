"""Reference twin of ``csrc/mutual_info.cpp``: disentanglement_lib's discrete MIG pieces.

Literally disentanglement_lib (``evaluation/metrics/utils.py``): each latent is
discretised by ``np.digitize(z, np.histogram(z, n_bins)[1][:-1])`` and the mutual
information of every (latent, factor) pair is ``sklearn.metrics.mutual_info_score``
(natural log); the factor entropy is ``mutual_info_score(w, w)``.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mutual_info_score


def histogram_discretize(codes: np.ndarray, n_bins: int) -> np.ndarray:
    """disentanglement_lib's ``_histogram_discretize`` in samples-first layout."""
    out = np.zeros(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        out[:, j] = np.digitize(codes[:, j], np.histogram(codes[:, j], n_bins)[1][:-1])
    return out


def histogram_mutual_info(
    codes: np.ndarray,
    edges: np.ndarray,
    factors: np.ndarray,
    offsets: np.ndarray,
    n_slots: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(mi (n_factors, n_latents), entropy (n_factors,))`` in nats.

    Same contract as the kernel: ``edges[j]`` are the ``n_bins + 1`` histogram edges of
    latent j; factor i's class is ``factors[:, i] - offsets[i]`` (``n_slots`` only bounds it).
    """
    labels = (factors - offsets).astype(np.int64)
    n_factors, n_latents = labels.shape[1], codes.shape[1]
    mi = np.empty((n_factors, n_latents), dtype=np.float64)
    for j in range(n_latents):
        binned = np.digitize(codes[:, j], edges[j, :-1])
        for i in range(n_factors):
            mi[i, j] = mutual_info_score(labels[:, i], binned)
    entropy = np.array(
        [mutual_info_score(labels[:, i], labels[:, i]) for i in range(n_factors)], dtype=np.float64
    )
    return mi, entropy


def column_ranges(x: np.ndarray) -> np.ndarray:
    """Twin of the kernel ``column_ranges``: ``(d, 2)`` minimum and maximum per column."""
    return np.stack([x.min(axis=0), x.max(axis=0)], axis=1)
