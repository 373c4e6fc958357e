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
    codes: np.ndarray, edges: np.ndarray, labels: np.ndarray, n_classes: np.ndarray
) -> np.ndarray:
    """MI (nats) of every (factor i, latent j), shape ``(n_factors, n_latents)``.

    Same contract as the kernel: ``edges[j]`` are the ``n_bins + 1`` histogram edges of
    latent j and ``labels`` the factors as class indices.
    """
    n_factors, n_latents = labels.shape[1], codes.shape[1]
    mi = np.empty((n_factors, n_latents), dtype=np.float64)
    for j in range(n_latents):
        binned = np.digitize(codes[:, j], edges[j, :-1])
        for i in range(n_factors):
            mi[i, j] = mutual_info_score(labels[:, i], binned)
    return mi


def discrete_entropy(labels: np.ndarray) -> np.ndarray:
    """Entropy (nats) of every factor column: ``mutual_info_score(w, w)``."""
    return np.array(
        [mutual_info_score(labels[:, i], labels[:, i]) for i in range(labels.shape[1])],
        dtype=np.float64,
    )
