"""Literal twin of disentanglement_lib's ``evaluation/metrics/unsupervised_metrics.py``.

``unsupervised_metrics`` minus the sampling, on ``mus_train (num_codes, num_points)`` (dlib's
layout) with the histogram discretizer's ``num_bins`` (dlib's configs: 20).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from vaecore.reference.dlib_utils import discrete_mutual_info, histogram_discretize


def unsupervised_metrics(mus_train: np.ndarray, num_bins: int = 20) -> dict[str, float]:
    """dlib's ``unsupervised_metrics`` body after ``generate_batch_factor_code``."""
    scores = {}
    num_codes = mus_train.shape[0]
    cov_mus = np.cov(mus_train)
    assert num_codes == cov_mus.shape[0]
    scores["gaussian_total_correlation"] = gaussian_total_correlation(cov_mus)
    scores["gaussian_wasserstein_correlation"] = gaussian_wasserstein_correlation(cov_mus)
    scores["gaussian_wasserstein_correlation_norm"] = scores[
        "gaussian_wasserstein_correlation"
    ] / np.sum(np.diag(cov_mus))
    mus_discrete = histogram_discretize(mus_train, num_bins)
    mutual_info_matrix = discrete_mutual_info(mus_discrete, mus_discrete)
    np.fill_diagonal(mutual_info_matrix, 0)
    mutual_info_score = np.sum(mutual_info_matrix) / (num_codes**2 - num_codes)
    scores["mutual_info_score"] = mutual_info_score
    return scores


def gaussian_total_correlation(cov: np.ndarray) -> float:
    """dlib's ``gaussian_total_correlation`` verbatim."""
    return 0.5 * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1])


def gaussian_wasserstein_correlation(cov: np.ndarray) -> float:
    """dlib's ``gaussian_wasserstein_correlation`` verbatim."""
    sqrtm = scipy.linalg.sqrtm(cov * np.expand_dims(np.diag(cov), axis=1))
    return 2 * np.trace(cov) - 2 * np.trace(sqrtm)
