"""Literal twin of disentanglement_lib's ``evaluation/metrics/modularity_explicitness.py``.

Ridgeway & Mozer (2018), "Learning deep disentangled embeddings with the F-statistic loss".
``compute_modularity_explicitness`` minus the sampling: it takes the sampled train/test
codes and factors in dlib's layout ``(num_codes, num_points)`` / ``(num_factors, num_points)``
and the ``discretizer.num_bins`` of the histogram discretizer (dlib's configs: 20).
"""

from __future__ import annotations

import numpy as np
from sklearn import linear_model, metrics, preprocessing

from vaecore.reference.dlib_utils import discrete_mutual_info, histogram_discretize, normalize_data


def compute_modularity_explicitness(
    mus_train: np.ndarray,
    ys_train: np.ndarray,
    mus_test: np.ndarray,
    ys_test: np.ndarray,
    num_bins: int = 20,
) -> dict[str, float]:
    """dlib's ``compute_modularity_explicitness`` body after ``generate_batch_factor_code``."""
    scores = {}
    discretized_mus = histogram_discretize(mus_train, num_bins)
    mutual_information = discrete_mutual_info(discretized_mus, ys_train)
    assert mutual_information.shape[0] == mus_train.shape[0]
    assert mutual_information.shape[1] == ys_train.shape[0]
    scores["modularity_score"] = modularity(mutual_information)
    explicitness_score_train = np.zeros([ys_train.shape[0], 1])
    explicitness_score_test = np.zeros([ys_test.shape[0], 1])
    mus_train_norm, mean_mus, stddev_mus = normalize_data(mus_train)
    mus_test_norm, _, _ = normalize_data(mus_test, mean_mus, stddev_mus)
    for i in range(ys_train.shape[0]):
        explicitness_score_train[i], explicitness_score_test[i] = explicitness_per_factor(
            mus_train_norm, ys_train[i, :], mus_test_norm, ys_test[i, :]
        )
    scores["explicitness_score_train"] = np.mean(explicitness_score_train)
    scores["explicitness_score_test"] = np.mean(explicitness_score_test)
    return scores


def explicitness_per_factor(
    mus_train: np.ndarray, y_train: np.ndarray, mus_test: np.ndarray, y_test: np.ndarray
) -> tuple[float, float]:
    """dlib's ``explicitness_per_factor`` verbatim (ROC-AUC of a default LogisticRegression)."""
    x_train = np.transpose(mus_train)
    x_test = np.transpose(mus_test)
    clf = linear_model.LogisticRegression().fit(x_train, y_train)
    y_pred_train = clf.predict_proba(x_train)
    y_pred_test = clf.predict_proba(x_test)
    mlb = preprocessing.MultiLabelBinarizer()
    roc_train = metrics.roc_auc_score(mlb.fit_transform(np.expand_dims(y_train, 1)), y_pred_train)
    roc_test = metrics.roc_auc_score(mlb.fit_transform(np.expand_dims(y_test, 1)), y_pred_test)
    return roc_train, roc_test


def modularity(mutual_information: np.ndarray) -> float:
    """dlib's ``modularity`` verbatim; ``mutual_information`` is ``(num_codes, num_factors)``."""
    squared_mi = np.square(mutual_information)
    max_squared_mi = np.max(squared_mi, axis=1)
    numerator = np.sum(squared_mi, axis=1) - max_squared_mi
    denominator = max_squared_mi * (squared_mi.shape[1] - 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = numerator / denominator
    modularity_score = 1.0 - delta
    index = max_squared_mi == 0.0
    modularity_score[index] = 0.0
    return np.mean(modularity_score)
