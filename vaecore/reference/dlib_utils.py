"""Literal twin of disentanglement_lib's ``evaluation/metrics/utils.py`` helpers.

disentanglement_lib's layout throughout: ``(num_codes, num_points)`` and
``(num_factors, num_points)`` (the transpose of vaecore's samples-first arrays). Used by the
``dlib_*`` reference twins that the tests compare vaecore's metrics with.
"""

from __future__ import annotations

import numpy as np
import sklearn.metrics


def histogram_discretize(target: np.ndarray, num_bins: int) -> np.ndarray:
    """``utils._histogram_discretize`` (dlib's ``histogram_discretizer``) verbatim."""
    discretized = np.zeros_like(target)
    for i in range(target.shape[0]):
        discretized[i, :] = np.digitize(
            target[i, :], np.histogram(target[i, :], num_bins)[1][:-1]
        )
    return discretized


def discrete_mutual_info(mus: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``utils.discrete_mutual_info`` verbatim: ``m[i, j] = MI(ys[j], mus[i])`` in nats."""
    num_codes = mus.shape[0]
    num_factors = ys.shape[0]
    m = np.zeros([num_codes, num_factors])
    for i in range(num_codes):
        for j in range(num_factors):
            m[i, j] = sklearn.metrics.mutual_info_score(ys[j, :], mus[i, :])
    return m


def normalize_data(
    data: np.ndarray, mean: np.ndarray | None = None, stddev: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``utils.normalize_data`` verbatim (per-code mean and population std)."""
    if mean is None:
        mean = np.mean(data, axis=1)
    if stddev is None:
        stddev = np.std(data, axis=1)
    return (data - mean[:, np.newaxis]) / stddev[:, np.newaxis], mean, stddev
