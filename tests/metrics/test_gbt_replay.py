"""Boosting replay for DCI's LightGBM backend (csrc/gbt_replay.cpp and its twin).

The strongest check: replaying scikit-learn's *own* fitted trees reproduces
``GradientBoostingClassifier.feature_importances_``, so the kernel computes sklearn's
definition; on LightGBM's trees, raw scores equal ``Booster.predict(raw_score=True)``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaecore._native import native
from vaecore.metrics.dci import (
    LIGHTGBM_PARAMS,
    lightgbm_impurity_importance,
    lightgbm_init_score,
    lightgbm_raw_scores,
)
from vaecore.metrics.lightgbm_trees import TreeArrays, tree_arrays
from vaecore.reference import gbt_replay as reference

lightgbm = pytest.importorskip("lightgbm")

BACKENDS = ["native", "reference"]


def _data(n: int, n_features: int, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features))
    score = x[:, 0] + 0.5 * x[:, -1] + 0.7 * rng.normal(size=n)
    y = np.searchsorted(np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]), score)
    return x, y.astype(np.int64)


def _fit_lightgbm(x: np.ndarray, y: np.ndarray, **params) -> object:
    return lightgbm.LGBMClassifier(random_state=0, n_jobs=1, **{**LIGHTGBM_PARAMS, **params}).fit(x, y)


def _sklearn_tree_arrays(model, x: np.ndarray) -> tuple[TreeArrays, np.ndarray]:
    """A fitted sklearn GradientBoostingClassifier in LightGBM's array layout: leaf values
    times the learning rate, the initial raw score folded into the first stage's leaves
    (as LightGBM stores it). Returns the arrays and that initial score."""
    init = model._raw_predict_init(x[:1])[0]
    k = model.estimators_.shape[1]
    sf, thr, left, right, leaf_value, n_int, n_leaf = [], [], [], [], [], [0], [0]
    for stage in range(model.estimators_.shape[0]):
        for c in range(k):
            tree = model.estimators_[stage, c].tree_
            is_leaf = tree.children_left == -1
            internal_id = np.cumsum(~is_leaf) - 1
            leaf_id = np.cumsum(is_leaf) - 1

            def ref(node, internal_id=internal_id, leaf_id=leaf_id, is_leaf=is_leaf):
                return ~leaf_id[node] if is_leaf[node] else internal_id[node]

            for node in np.flatnonzero(~is_leaf):
                sf.append(tree.feature[node])
                thr.append(tree.threshold[node])
                left.append(ref(tree.children_left[node]))
                right.append(ref(tree.children_right[node]))
            values = tree.value[is_leaf, 0, 0] * model.learning_rate
            leaf_value.append(values + (init[c] if stage == 0 else 0.0))
            n_int.append(int((~is_leaf).sum()))
            n_leaf.append(int(is_leaf.sum()))
    arrays = TreeArrays(
        num_tree_per_iteration=k,
        n_features=x.shape[1],
        node_offset=np.cumsum(n_int, dtype=np.int64),
        split_feature=np.asarray(sf, dtype=np.int32),
        threshold=np.asarray(thr, dtype=np.float64),
        left_child=np.asarray(left, dtype=np.int32),
        right_child=np.asarray(right, dtype=np.int32),
        leaf_offset=np.cumsum(n_leaf, dtype=np.int64),
        leaf_value=np.concatenate(leaf_value),
    )
    return arrays, init


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_replaying_sklearn_trees_gives_sklearn_importances(backend, n_classes):
    from sklearn.ensemble import GradientBoostingClassifier

    x, y = _data(300, 4, n_classes, seed=n_classes)
    x = x.astype(np.float32).astype(np.float64)  # sklearn's trees split float32 values
    model = GradientBoostingClassifier(n_estimators=30, random_state=0).fit(x, y)
    trees, init = _sklearn_tree_arrays(model, x)
    kernel = native() if backend == "native" else reference
    imp, raw = kernel.gbt_residual_importance(x, y, init, *trees.kernel_args())
    np.testing.assert_allclose(imp / imp.sum(), model.feature_importances_, rtol=1e-9, atol=1e-12)
    expected_raw = model.decision_function(x).reshape(x.shape[0], -1)
    np.testing.assert_allclose(raw, expected_raw, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        kernel.gbt_raw_scores(x, trees.num_tree_per_iteration, *trees.kernel_args()), expected_raw, rtol=1e-9, atol=1e-9
    )


@pytest.mark.native
@settings(max_examples=25)
@given(
    n=st.integers(20, 300),
    n_features=st.integers(1, 5),
    n_classes=st.integers(2, 5),
    n_estimators=st.integers(1, 15),
    num_leaves=st.sampled_from([2, 3, 8]),
    seed=st.integers(0, 2**16),
)
def test_native_matches_reference_and_lightgbm(n, n_features, n_classes, n_estimators, num_leaves, seed):
    x, y = _data(n, n_features, n_classes, seed)
    model = _fit_lightgbm(x, y, n_estimators=n_estimators, num_leaves=num_leaves, max_depth=-1)
    trees = tree_arrays(model.booster_)
    args = trees.kernel_args()
    init = lightgbm_init_score(y, trees.num_tree_per_iteration)
    imp_n, raw_n = native().gbt_residual_importance(x, y, init, *args)
    imp_r, raw_r = reference.gbt_residual_importance(x, y, init, *args)
    np.testing.assert_allclose(imp_n, imp_r, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(raw_n, raw_r, rtol=1e-12, atol=1e-12)
    booster_raw = model.booster_.predict(x, raw_score=True).reshape(n, -1)
    np.testing.assert_allclose(raw_n, booster_raw, rtol=1e-12, atol=1e-12)
    x_new = np.random.default_rng(seed + 1).normal(size=(50, n_features)) * 2
    np.testing.assert_allclose(
        native().gbt_raw_scores(x_new, trees.num_tree_per_iteration, *args),
        model.booster_.predict(x_new, raw_score=True).reshape(50, -1),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_importance_and_predictions_of_a_fitted_model(backend):
    x, y = _data(400, 3, 3, seed=5)
    model = _fit_lightgbm(x, y)
    imp, raw = lightgbm_impurity_importance(model, x, y, backend=backend)
    assert imp.sum() == pytest.approx(1.0) and np.all(imp >= 0)
    assert imp[0] > imp[1]  # the informative feature dominates the pure-noise one
    np.testing.assert_array_equal(np.argmax(raw, axis=1), model.predict(x))
    np.testing.assert_allclose(lightgbm_raw_scores(model, x, backend=backend), raw, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_relabelling_features_permutes_importance(backend):
    """The same trees over columns in another order (split features renamed) give the same
    importances, permuted (the kernel has no feature-order bias)."""
    x, y = _data(300, 4, 3, seed=9)
    trees = tree_arrays(_fit_lightgbm(x, y).booster_)
    perm = np.array([2, 0, 3, 1])  # new column j holds old column perm[j]
    inverse = np.argsort(perm)
    renamed = trees.kernel_args()
    renamed = (renamed[0], inverse[renamed[1]].astype(np.int32), *renamed[2:])
    kernel = native() if backend == "native" else reference
    init = lightgbm_init_score(y, 3)
    a, raw_a = kernel.gbt_residual_importance(x, y, init, *trees.kernel_args())
    b, raw_b = kernel.gbt_residual_importance(x[:, perm], y, init, *renamed)
    np.testing.assert_allclose(b, a[perm], rtol=1e-12, atol=0)
    np.testing.assert_array_equal(raw_b, raw_a)


@pytest.mark.native
def test_single_leaf_tree_is_parsed_and_replayed():
    """A tree without splits (LightGBM writes one for a class it cannot split) adds its one
    leaf value to every sample and contributes no importance."""
    x, y = _data(200, 2, 3, seed=1)
    model = _fit_lightgbm(x, y, n_estimators=2)
    text = model.booster_.model_to_string()
    start = text.index("Tree=4\n")
    end = text.index("\n\n\n", start)
    stump = "Tree=4\nnum_leaves=1\nnum_cat=0\nsplit_feature=\nsplit_gain=\nthreshold=\ndecision_type=\n" \
        "left_child=\nright_child=\nleaf_value=0.25\nleaf_weight=\nleaf_count=\ninternal_value=\n" \
        "internal_weight=\ninternal_count=\nis_linear=0\nshrinkage=0.1"
    text = text[:start] + stump + text[end:]
    text = text.replace("tree_sizes=", "tree_sizes_ignored=")
    booster = lightgbm.Booster(model_str=text)
    trees = tree_arrays(booster)
    assert trees.node_offset[5] - trees.node_offset[4] == 0
    assert trees.leaf_offset[5] - trees.leaf_offset[4] == 1
    raw = native().gbt_raw_scores(x, 3, *trees.kernel_args())
    np.testing.assert_allclose(raw, booster.predict(x, raw_score=True), rtol=1e-12, atol=1e-12)
    init = lightgbm_init_score(y, 3)
    imp_n, _ = native().gbt_residual_importance(x, y, init, *trees.kernel_args())
    imp_r, _ = reference.gbt_residual_importance(x, y, init, *trees.kernel_args())
    np.testing.assert_allclose(imp_n, imp_r, rtol=1e-10, atol=1e-12)


@pytest.mark.native
def test_deterministic_across_thread_counts():
    import vaecore

    x, y = _data(9000, 3, 4, seed=3)  # several blocks of samples
    model = _fit_lightgbm(x, y, n_estimators=10)
    trees = tree_arrays(model.booster_)
    init = lightgbm_init_score(y, trees.num_tree_per_iteration)
    before = vaecore.build_info()["num_threads"]
    try:
        out = []
        for threads in (1, 2, 3):
            vaecore.set_num_threads(threads)
            out.append(native().gbt_residual_importance(x, y, init, *trees.kernel_args()))
    finally:
        vaecore.set_num_threads(before)
    for imp, raw in out[1:]:
        np.testing.assert_array_equal(imp, out[0][0])
        np.testing.assert_array_equal(raw, out[0][1])


class _TextModel:
    """Anything with LightGBM's ``model_to_string()``: what :func:`tree_arrays` reads."""

    def __init__(self, text: str) -> None:
        self.text = text

    def model_to_string(self) -> str:
        return self.text


@pytest.mark.parametrize(
    ("decision", "message"),
    [(3, "categorical"), (2 | (1 << 2), "zero-as-missing")],
)
def test_refuses_categorical_and_zero_as_missing(decision, message):
    x, y = _data(200, 2, 2, seed=0)
    text = _fit_lightgbm(x, y, n_estimators=2).booster_.model_to_string()
    assert tree_arrays(_TextModel(text)).n_trees == 2
    line = next(line for line in text.splitlines() if line.startswith("decision_type="))
    values = line.split("=", 1)[1].split()
    bad = "decision_type=" + " ".join([str(decision)] + values[1:])
    with pytest.raises(ValueError, match=message):
        tree_arrays(_TextModel(text.replace(line, bad, 1)))


def test_refuses_malformed_text():
    x, y = _data(200, 2, 2, seed=0)
    text = _fit_lightgbm(x, y, n_estimators=2).booster_.model_to_string()
    line = next(line for line in text.splitlines() if line.startswith("leaf_value="))
    with pytest.raises(ValueError, match="malformed model: .* values of leaf_value"):
        tree_arrays(_TextModel(text.replace(line, line + " 0.5", 1)))
    with pytest.raises(ValueError, match="no trees"):
        tree_arrays(_TextModel(text.partition("\nTree=")[0] + "\nend of trees\n"))


def _valid_args():
    x, y = _data(100, 2, 3, seed=0)
    trees = tree_arrays(_fit_lightgbm(x, y, n_estimators=2).booster_)
    return x, y, trees


@pytest.mark.native
@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda a: a.__setitem__(1, a[1] + 99), "split_feature out of range"),
        (lambda a: a.__setitem__(3, np.full_like(a[3], 0)), "child index"),
        (lambda a: a[0].__setitem__(-1, a[0][-1] + 1), "node_offset must start at 0 and end"),
        (lambda a: a.__setitem__(6, a[6][:-1]), "leaf_offset must start at 0 and end"),
        (lambda a: a.__setitem__(5, a[5][:-1]), "leaf_offset must have one entry more"),
        (lambda a: a.__setitem__(2, a[2][:-1]), "must have the same length"),
    ],
)
def test_kernel_rejects_malformed_trees(mutate, message):
    x, y, trees = _valid_args()
    args = [np.array(a, copy=True) for a in trees.kernel_args()]
    mutate(args)
    with pytest.raises(ValueError, match=message):
        native().gbt_raw_scores(x, 3, *args)
    with pytest.raises(ValueError, match=message):
        native().gbt_residual_importance(x, y, lightgbm_init_score(y, 3), *args)


@pytest.mark.native
def test_kernel_rejects_bad_labels_and_shapes():
    x, y, trees = _valid_args()
    init = lightgbm_init_score(y, 3)
    with pytest.raises(ValueError, match="labels must be in"):
        native().gbt_residual_importance(x, y + 5, init, *trees.kernel_args())
    with pytest.raises(ValueError, match="labels must have one entry per row"):
        native().gbt_residual_importance(x, y[:-1], init, *trees.kernel_args())
    with pytest.raises(ValueError, match="must divide the number of trees"):
        native().gbt_residual_importance(x, y, np.zeros(4), *trees.kernel_args())
    with pytest.raises(ValueError, match="k must divide"):
        native().gbt_raw_scores(x, 4, *trees.kernel_args())


def test_inputs_with_other_columns_than_the_model_are_refused():
    x, y = _data(100, 3, 3, seed=0)
    model = _fit_lightgbm(x, y, n_estimators=2)
    with pytest.raises(ValueError, match=r"dci: x must have shape \(n_samples, 3\).*got \(100, 2\)"):
        lightgbm_raw_scores(model, x[:, :2])
    with pytest.raises(ValueError, match=r"dci: x must have shape \(n_samples, 3\)"):
        lightgbm_impurity_importance(model, x[:, :2], y)
