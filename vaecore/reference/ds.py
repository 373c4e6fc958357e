"""Reference twin of ``csrc/knn1d.cpp``: the k-NN scores of the disentanglement score.

Follows thesis §3.3.1 literally ("the SciPy [scikit-learn] implementation of a
k-nearest-neighbors classifier and regressor with default settings (k = 5)"): for
every factor i and latent j a ``KNeighborsRegressor`` / ``KNeighborsClassifier`` with
uniform weights is fit on the training part of z_j alone and scored on the test part.
On data without distance ties the values equal the C++ kernel's (up to the
floating-point order of the sums, ~1e-15).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, mean_squared_error
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor


def knn1d_scores(
    z_train: np.ndarray,
    z_test: np.ndarray,
    y_train: np.ndarray,
    y_test: np.ndarray,
    is_class: np.ndarray,
    n_classes: np.ndarray,
    k: int,
) -> np.ndarray:
    """Test MSE (regression factors) or test accuracy (classification factors) of the
    uniform k-NN model for every (factor i, latent j); shape ``(n_factors, n_latents)``.

    Same contract as the kernel: classification labels are ``0..n_classes[i]-1``.
    """
    n_factors, n_latents = y_train.shape[1], z_train.shape[1]
    scores = np.empty((n_factors, n_latents), dtype=np.float64)
    for j in range(n_latents):
        xtr, xte = z_train[:, [j]], z_test[:, [j]]
        for i in range(n_factors):
            if is_class[i]:
                clf = KNeighborsClassifier(n_neighbors=k).fit(xtr, y_train[:, i].astype(np.int64))
                scores[i, j] = accuracy_score(y_test[:, i].astype(np.int64), clf.predict(xte))
            else:
                reg = KNeighborsRegressor(n_neighbors=k).fit(xtr, y_train[:, i])
                scores[i, j] = mean_squared_error(y_test[:, i], reg.predict(xte))
    return scores
