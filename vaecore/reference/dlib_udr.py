"""Literal twin of disentanglement_lib's ``evaluation/udr/metrics/udr.py``.

Duan et al. (2020), "Unsupervised model selection for variational disentangled representation
learning" (UDR). ``compute_udr_sklearn`` minus the sampling: it takes the representations of
every model on the same inputs, ``inferred_model_reps[m] (num_points, latent_dim)``
(samples first, as dlib's UDR code), and each model's mean KL per latent ``kl[m]
(latent_dim,)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats
from sklearn import linear_model, preprocessing


def relative_strength_disentanglement(corr_matrix: np.ndarray) -> float:
    """dlib's ``relative_strength_disentanglement`` verbatim (``np.nan_to_num(x, 0)``: the 0
    is its ``copy`` argument, so NaN becomes 0 and inf the largest float)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        score_x = np.nanmean(
            np.nan_to_num(
                np.power(np.ndarray.max(corr_matrix, axis=0), 2) / np.sum(corr_matrix, axis=0), 0
            )
        )
        score_y = np.nanmean(
            np.nan_to_num(
                np.power(np.ndarray.max(corr_matrix, axis=1), 2) / np.sum(corr_matrix, axis=1), 0
            )
        )
    return (score_x + score_y) / 2


def spearman_correlation_conv(vec1: np.ndarray, vec2: np.ndarray) -> np.ndarray:
    """dlib's ``spearman_correlation_conv`` verbatim: ``|spearman(vec1[:, i], vec2[:, j])|``."""
    assert vec1.shape == vec2.shape
    corr_y = []
    for i in range(vec1.shape[1]):
        corr_x = []
        for j in range(vec2.shape[1]):
            corr, _ = scipy.stats.spearmanr(vec1[:, i], vec2[:, j], nan_policy="omit")
            corr_x.append(corr)
        corr_y.append(np.stack(corr_x))
    return np.transpose(np.absolute(np.stack(corr_y, axis=1)))


def lasso_correlation_matrix(vec1: np.ndarray, vec2: np.ndarray, random_state: Any = None) -> np.ndarray:
    """dlib's ``lasso_correlation_matrix`` verbatim (``Lasso(alpha=0.1)`` from vec1 to vec2)."""
    assert vec1.shape == vec2.shape
    model = linear_model.Lasso(random_state=random_state, alpha=0.1)
    model.fit(vec1, vec2)
    return np.transpose(np.absolute(model.coef_))


def compute_udr_sklearn(
    inferred_model_reps: list[np.ndarray],
    kl: list[np.ndarray],
    random_state: Any = None,
    correlation_matrix: str = "lasso",
    filter_low_kl: bool = True,
    kl_filter_threshold: float = 0.01,
) -> dict[str, Any]:
    """dlib's ``compute_udr_sklearn`` body after ``_generate_representation_dataset``."""
    inferred_model_reps = [np.array(r, dtype=np.float64) for r in inferred_model_reps]
    num_models = len(inferred_model_reps)
    latent_dim = inferred_model_reps[0].shape[1]
    corr_matrix_all = np.zeros((num_models, num_models, latent_dim, latent_dim))
    kl_mask = []
    for i in range(len(inferred_model_reps)):
        scaler = preprocessing.StandardScaler()
        scaler.fit(inferred_model_reps[i])
        inferred_model_reps[i] = scaler.transform(inferred_model_reps[i])
        inferred_model_reps[i] = inferred_model_reps[i] * np.greater(kl[i], 0.01)
        kl_mask.append(kl[i] > kl_filter_threshold)
    disentanglement = np.zeros((num_models, num_models, 1))
    for i in range(num_models):
        for j in range(num_models):
            if i == j:
                continue
            if correlation_matrix == "lasso":
                corr_matrix = lasso_correlation_matrix(
                    inferred_model_reps[i], inferred_model_reps[j], random_state
                )
            else:
                corr_matrix = spearman_correlation_conv(inferred_model_reps[i], inferred_model_reps[j])
            corr_matrix_all[i, j, :, :] = corr_matrix
            if filter_low_kl:
                corr_matrix = corr_matrix[kl_mask[i], ...][..., kl_mask[j]]
            disentanglement[i, j] = relative_strength_disentanglement(corr_matrix)
    scores_dict: dict[str, Any] = {}
    scores_dict["raw_correlations"] = corr_matrix_all.tolist()
    scores_dict["pairwise_disentanglement_scores"] = disentanglement.tolist()
    model_scores = []
    for i in range(num_models):
        model_scores.append(np.median(np.delete(disentanglement[:, i], i)))
    scores_dict["model_scores"] = model_scores
    return scores_dict
