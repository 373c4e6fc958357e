"""A fitted LightGBM model's trees as plain arrays, the input of ``csrc/gbt_replay.cpp``.

The arrays are read from LightGBM's text model (``Booster.model_to_string()``, format
``version=v4``): per tree ``split_feature``, ``threshold``, ``decision_type``,
``left_child``, ``right_child`` (a child >= 0 is an internal node, a child < 0 is leaf
``~child``) and ``leaf_value`` (shrinkage already applied), concatenated over trees with
offsets. Only numerical splits are supported (the DCI inputs are float codes, never
categorical), and a sample goes left when ``x <= threshold``: LightGBM's decision for
finite values unless zeros are treated as missing (``zero_as_missing``), which is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

_CATEGORICAL_MASK = 1
_MISSING_ZERO = 1


@dataclass(frozen=True)
class TreeArrays:
    """Trees of a boosted ensemble, concatenated (see the module docstring).

    Tree ``t`` has internal nodes ``node_offset[t]:node_offset[t+1]`` and leaves
    ``leaf_offset[t]:leaf_offset[t+1]``; it belongs to class ``t % num_tree_per_iteration``.
    """

    num_tree_per_iteration: int
    n_features: int
    node_offset: np.ndarray
    split_feature: np.ndarray
    threshold: np.ndarray
    left_child: np.ndarray
    right_child: np.ndarray
    leaf_offset: np.ndarray
    leaf_value: np.ndarray

    @property
    def n_trees(self) -> int:
        return int(self.node_offset.size - 1)

    def kernel_args(self) -> tuple[np.ndarray, ...]:
        """The seven arrays in the kernels' argument order."""
        return (
            self.node_offset,
            self.split_feature,
            self.threshold,
            self.left_child,
            self.right_child,
            self.leaf_offset,
            self.leaf_value,
        )


_KEYS = ("num_leaves", "num_cat", "is_linear", "split_feature", "threshold", "decision_type",
         "left_child", "right_child", "leaf_value")
_LINE = re.compile(r"^(" + "|".join(_KEYS) + r")=(.*)$", re.MULTILINE)


def _numbers(parts: list[str], dtype: Any) -> np.ndarray:
    text = " ".join(parts).split()
    return np.array(text, dtype=dtype) if text else np.zeros(0, dtype=dtype)


def tree_arrays(booster: Any) -> TreeArrays:
    """:class:`TreeArrays` of a fitted ``lightgbm.Booster`` (e.g. ``LGBMClassifier().booster_``).

    One regular-expression pass over the text model collects the fields of every tree
    (``num_leaves`` starts a tree; a tree with one leaf has no split fields); each field is
    then converted once for all trees. Raises ``ValueError`` on categorical, linear or
    zero-as-missing splits and on a malformed model.
    """
    text = booster.model_to_string()
    head, _, body = text.partition("\nTree=")
    header = dict(line.split("=", 1) for line in head.splitlines() if "=" in line)
    k = int(header["num_tree_per_iteration"])
    n_features = int(header["max_feature_idx"]) + 1
    body = body.partition("end of trees")[0]
    fields: dict[str, list[str]] = {key: [] for key in _KEYS}
    n_leaves: list[int] = []
    for key, value in _LINE.findall(body):
        if key == "num_leaves":
            n_leaves.append(int(value))
        fields[key].append(value)
    if not n_leaves:
        raise ValueError("tree_arrays: the model has no trees")
    if any(v.strip() not in ("", "0") for v in fields["num_cat"] + fields["is_linear"]):
        raise ValueError("tree_arrays: the model has categorical or linear trees, which are not supported")
    decision = _numbers(fields["decision_type"], np.int64)
    if np.any(decision & _CATEGORICAL_MASK) or np.any(((decision >> 2) & 3) == _MISSING_ZERO):
        raise ValueError("tree_arrays: the model has categorical or zero-as-missing decisions, which are not supported")
    leaves = np.asarray(n_leaves, dtype=np.int64)
    arrays = {
        "split_feature": _numbers(fields["split_feature"], np.int32),
        "threshold": _numbers(fields["threshold"], np.float64),
        "left_child": _numbers(fields["left_child"], np.int32),
        "right_child": _numbers(fields["right_child"], np.int32),
        "leaf_value": _numbers(fields["leaf_value"], np.float64),
    }
    n_splits = int((leaves - 1).sum())
    for key, arr in arrays.items():
        expected = int(leaves.sum()) if key == "leaf_value" else n_splits
        if arr.size != expected:
            raise ValueError(f"tree_arrays: malformed model: {arr.size} values of {key}, expected {expected}")
    return TreeArrays(
        num_tree_per_iteration=k,
        n_features=n_features,
        node_offset=np.concatenate([[0], np.cumsum(leaves - 1)]).astype(np.int64),
        leaf_offset=np.concatenate([[0], np.cumsum(leaves)]).astype(np.int64),
        **arrays,
    )
