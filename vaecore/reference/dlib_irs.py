"""Literal twin of disentanglement_lib's ``evaluation/metrics/irs.py``.

Suter et al. (2019), "Robustly disentangled causal mechanisms: validating deep representations
for interventional robustness". ``compute_irs`` minus the sampling, in dlib's layout
``mus (num_codes, num_points)``, ``ys (num_factors, num_points)``; the factors go through the
histogram discretizer with ``num_bins`` (dlib's configs: 20).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vaecore.reference.dlib_utils import histogram_discretize


def compute_irs(
    mus: np.ndarray, ys: np.ndarray, diff_quantile: float = 0.99, num_bins: int = 20
) -> dict[str, Any]:
    """dlib's ``compute_irs`` body after ``generate_batch_factor_code``.

    ``num_active_dims`` is dlib's expression ``np.sum(active_mus)`` verbatim (a sum of
    code values, not a count).
    """
    ys_discrete = histogram_discretize(ys, num_bins)
    active_mus = _drop_constant_dims(mus)
    if not active_mus.any():
        irs_score = 0.0
    else:
        irs_score = scalable_disentanglement_score(ys_discrete.T, active_mus.T, diff_quantile)[
            "avg_score"
        ]
    score_dict: dict[str, Any] = {}
    score_dict["IRS"] = irs_score
    score_dict["num_active_dims"] = np.sum(active_mus)
    return score_dict


def _drop_constant_dims(ys: np.ndarray) -> np.ndarray:
    """dlib's ``_drop_constant_dims`` verbatim."""
    ys = np.asarray(ys)
    if ys.ndim != 2:
        raise ValueError("Expecting a matrix.")
    variances = ys.var(axis=1)
    active_mask = variances > 0.0
    return ys[active_mask, :]


def scalable_disentanglement_score(
    gen_factors: np.ndarray, latents: np.ndarray, diff_quantile: float = 0.99
) -> dict[str, Any]:
    """dlib's ``scalable_disentanglement_score`` verbatim (samples-first arguments)."""
    num_gen = gen_factors.shape[1]
    num_lat = latents.shape[1]
    max_deviations = np.max(np.abs(latents - latents.mean(axis=0)), axis=0)
    cum_deviations = np.zeros([num_lat, num_gen])
    for i in range(num_gen):
        unique_factors = np.unique(gen_factors[:, i], axis=0)
        assert unique_factors.ndim == 1
        num_distinct_factors = unique_factors.shape[0]
        for k in range(num_distinct_factors):
            match = gen_factors[:, i] == unique_factors[k]
            e_loc = np.mean(latents[match, :], axis=0)
            diffs = np.abs(latents[match, :] - e_loc)
            max_diffs = np.percentile(diffs, q=diff_quantile * 100, axis=0)
            cum_deviations[:, i] += max_diffs
        cum_deviations[:, i] /= num_distinct_factors
    normalized_deviations = cum_deviations / max_deviations[:, np.newaxis]
    irs_matrix = 1.0 - normalized_deviations
    disentanglement_scores = irs_matrix.max(axis=1)
    if np.sum(max_deviations) > 0.0:
        avg_score = np.average(disentanglement_scores, weights=max_deviations)
    else:
        avg_score = np.mean(disentanglement_scores)
    parents = irs_matrix.argmax(axis=1)
    score_dict: dict[str, Any] = {}
    score_dict["disentanglement_scores"] = disentanglement_scores
    score_dict["avg_score"] = avg_score
    score_dict["parents"] = parents
    score_dict["IRS_matrix"] = irs_matrix
    score_dict["max_deviations"] = max_deviations
    return score_dict
