"""Reference twin of ``csrc/gbt_replay.cpp``: sklearn's gradient-boosting importance of a
tree ensemble given as plain arrays (LightGBM's layout, see the kernel's header).

Follows scikit-learn literally: ``GradientBoostingClassifier`` fits tree ``k`` of stage ``m``
to the residuals ``y_k - p_k`` of the raw scores after stage ``m - 1`` (``p`` = sigmoid of the
one raw score for two classes, softmax otherwise), and ``feature_importances_`` sum each tree's
``compute_feature_importances(normalize=False)``: per split node
``w_node * impurity_node - w_left * impurity_left - w_right * impurity_right`` with the node's
impurity the variance (squared error) of the residuals of the training samples that reach it.
Node membership is recomputed here by routing every sample (``x[feature] <= threshold`` goes
left), independently of the kernel's residual sums.
"""

from __future__ import annotations

import numpy as np


def _tree(arrays: tuple[np.ndarray, ...], t: int) -> tuple[np.ndarray, ...]:
    node_offset, split_feature, threshold, left, right, leaf_offset, leaf_value = arrays
    a, b = node_offset[t], node_offset[t + 1]
    return split_feature[a:b], threshold[a:b], left[a:b], right[a:b], leaf_value[leaf_offset[t] : leaf_offset[t + 1]]


def _route(x: np.ndarray, split_feature, threshold, left, right) -> tuple[np.ndarray, list[np.ndarray]]:
    """(leaf index per sample, boolean membership mask of every internal node)."""
    n = x.shape[0]
    leaf = np.zeros(n, dtype=np.int64)
    masks = [np.zeros(n, dtype=bool) for _ in range(split_feature.size)]
    if split_feature.size == 0:
        return leaf, masks
    for s in range(n):
        node = 0
        while True:
            masks[node][s] = True
            child = left[node] if x[s, split_feature[node]] <= threshold[node] else right[node]
            if child < 0:
                leaf[s] = ~child
                break
            node = child
    return leaf, masks


def gbt_raw_scores(
    x: np.ndarray,
    k: int,
    node_offset: np.ndarray,
    split_feature: np.ndarray,
    threshold: np.ndarray,
    left_child: np.ndarray,
    right_child: np.ndarray,
    leaf_offset: np.ndarray,
    leaf_value: np.ndarray,
) -> np.ndarray:
    """Twin of the kernel ``gbt_raw_scores``: ``(n, k)`` sums of leaf values per class."""
    arrays = (node_offset, split_feature, threshold, left_child, right_child, leaf_offset, leaf_value)
    raw = np.zeros((x.shape[0], k), dtype=np.float64)
    for t in range(node_offset.size - 1):
        sf, thr, lc, rc, values = _tree(arrays, t)
        leaf, _ = _route(x, sf, thr, lc, rc)
        raw[:, t % k] += values[leaf]
    return raw


def gbt_residual_importance(
    x: np.ndarray,
    labels: np.ndarray,
    init: np.ndarray,
    node_offset: np.ndarray,
    split_feature: np.ndarray,
    threshold: np.ndarray,
    left_child: np.ndarray,
    right_child: np.ndarray,
    leaf_offset: np.ndarray,
    leaf_value: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Twin of the kernel ``gbt_residual_importance``: ``(importance, raw)``."""
    arrays = (node_offset, split_feature, threshold, left_child, right_child, leaf_offset, leaf_value)
    n, k = x.shape[0], init.size
    n_trees = node_offset.size - 1
    onehot = np.eye(max(k, 2))[labels]
    targets = onehot[:, 1:] if k == 1 else onehot
    raw = np.tile(init.astype(np.float64), (n, 1))
    importance = np.zeros(x.shape[1], dtype=np.float64)
    for m in range(n_trees // k):
        if k == 1:
            prob = 1.0 / (1.0 + np.exp(-raw))
        else:
            e = np.exp(raw - raw.max(axis=1, keepdims=True))
            prob = e / e.sum(axis=1, keepdims=True)
        residual = targets - prob
        step = np.zeros_like(raw)
        for c in range(k):
            sf, thr, lc, rc, values = _tree(arrays, m * k + c)
            leaf, masks = _route(x, sf, thr, lc, rc)
            r = residual[:, c]

            def members(child: int, leaf=leaf, masks=masks) -> np.ndarray:
                return leaf == ~child if child < 0 else masks[child]

            for node in range(sf.size):
                left, right = members(lc[node]), members(rc[node])
                if not left.any() or not right.any():
                    continue
                both = masks[node]
                importance[sf[node]] += (
                    both.sum() * r[both].var() - left.sum() * r[left].var() - right.sum() * r[right].var()
                )
            step[:, c] = values[leaf]
        # LightGBM's first-stage leaves already contain the initial score.
        raw = step if m == 0 else raw + step
    return importance, raw
