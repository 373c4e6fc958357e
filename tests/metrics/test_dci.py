"""DCI as disentanglement_lib: closed forms of the scores, sklearn reference, LightGBM."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.stats

from vaecore.metrics import dci
from vaecore.metrics.dci import dci_scores


def _disentanglement_lib(importance_matrix):
    """disentanglement_lib's disentanglement() and completeness() verbatim (codes x factors)."""
    per_code = 1.0 - scipy.stats.entropy(importance_matrix.T + 1e-11, base=importance_matrix.shape[1])
    per_factor = 1.0 - scipy.stats.entropy(importance_matrix + 1e-11, base=importance_matrix.shape[0])
    m = np.ones_like(importance_matrix) if importance_matrix.sum() == 0.0 else importance_matrix
    d = np.sum(per_code * m.sum(axis=1) / m.sum())
    c = np.sum(per_factor * m.sum(axis=0) / m.sum())
    return d, c


def _data(n, seed, noise=0.05):
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 4, size=(n, 3))
    return np.c_[w + noise * rng.normal(size=(n, 3)), rng.normal(size=n)], w


def _rot(z):
    out, c = z.copy(), np.sqrt(0.5)
    out[:, 0], out[:, 1] = c * (z[:, 0] - z[:, 1]), c * (z[:, 0] + z[:, 1])
    return out


def test_diagonal_importance_scores_one():
    d, c, per_code, per_factor = dci_scores(np.eye(3))
    assert d == pytest.approx(1.0, abs=1e-9) and c == pytest.approx(1.0, abs=1e-9)
    perm = np.eye(4)[[2, 0, 3, 1]] * np.array([1.0, 2.0, 0.5, 3.0])
    assert dci_scores(perm)[0] == pytest.approx(1.0, abs=1e-9)
    d, c, _, _ = dci_scores(np.ones((3, 5)))
    assert d == pytest.approx(0.0, abs=1e-9) and c == pytest.approx(0.0, abs=1e-9)


def test_scores_match_disentanglement_lib_verbatim():
    rng = np.random.default_rng(0)
    for shape in [(3, 5), (4, 4), (2, 7)]:
        r = rng.uniform(size=shape) ** 3
        d, c, _, _ = dci_scores(r)
        dd, cc = _disentanglement_lib(r.T)
        assert d == pytest.approx(dd, abs=1e-14) and c == pytest.approx(cc, abs=1e-14)
    assert dci_scores(np.zeros((3, 4)))[:2] == pytest.approx(_disentanglement_lib(np.zeros((4, 3))))


def test_scores_invariant_to_latent_permutation():
    r = np.random.default_rng(1).uniform(size=(3, 5))
    perm = [4, 2, 0, 1, 3]
    assert dci_scores(r)[:2] == pytest.approx(dci_scores(r[:, perm])[:2], abs=1e-14)


@pytest.fixture(scope="module")
def reference_runs():
    z, w = _data(500, 0)
    zt, wt = _data(200, 1)
    return {
        "aligned": (z, w, zt, wt, dci(z, w, zt, wt, backend="sklearn")),
        "rotated": (_rot(z), w, _rot(zt), wt, dci(_rot(z), w, _rot(zt), wt, backend="sklearn")),
    }


def test_identity_codes_and_rotation(reference_runs):
    aligned = reference_runs["aligned"][-1]
    rotated = reference_runs["rotated"][-1]
    assert aligned.disentanglement > 0.9 and aligned.completeness > 0.85
    assert aligned.informativeness_test > 0.95
    assert np.argmax(aligned.importance, axis=1).tolist() == [0, 1, 2]
    assert rotated.disentanglement < aligned.disentanglement - 0.2
    np.testing.assert_allclose(aligned.importance.sum(axis=1), 1.0)


@pytest.mark.parametrize("case", ["aligned", "rotated"])
def test_lightgbm_within_005_of_sklearn(reference_runs, case):
    z, w, zt, wt, ref = reference_runs[case]
    fast = dci(z, w, zt, wt, backend="lightgbm")
    assert abs(fast.disentanglement - ref.disentanglement) < 0.05
    assert abs(fast.completeness - ref.completeness) < 0.05
    assert abs(fast.informativeness_test - ref.informativeness_test) < 0.05
    assert fast.backend == "lightgbm" and ref.backend == "sklearn"


def test_lightgbm_replayed_predictions_match_predict():
    import lightgbm

    from vaecore.metrics.dci import LIGHTGBM_PARAMS, lightgbm_impurity_importance

    z, w = _data(300, 2, noise=0.5)
    for y in (w[:, 0], (w[:, 1] > 1).astype(np.int64)):  # multiclass and binary
        model = lightgbm.LGBMClassifier(random_state=0, n_jobs=1, **LIGHTGBM_PARAMS).fit(z, y)
        imp, raw = lightgbm_impurity_importance(model, z, y)
        pred = (raw[:, 0] > 0).astype(np.int64) if raw.shape[1] == 1 else np.argmax(raw, axis=1)
        np.testing.assert_array_equal(pred, model.predict(z))
        assert imp.sum() == pytest.approx(1.0) and np.all(imp >= 0)


def test_constant_codes_score_zero():
    z, w = _data(200, 3)
    res = dci(np.zeros((200, 3)), w, np.zeros((50, 3)), w[:50], backend="lightgbm")
    assert res.disentanglement == pytest.approx(0.0, abs=1e-9)
    assert np.all(res.importance == 0.0)


def test_deterministic_given_seed():
    z, w = _data(200, 4, noise=0.5)
    a = dci(z, w, z, w, backend="lightgbm", seed=3)
    b = dci(z, w, z, w, backend="lightgbm", seed=3)
    np.testing.assert_array_equal(a.importance, b.importance)


def test_errors(monkeypatch):
    z, w = _data(100, 5)
    with pytest.raises(ValueError, match=r"dci: backend must be one of \('sklearn', 'lightgbm'\); got 'xgb'"):
        dci(z, w, z, w, backend="xgb")
    with pytest.raises(ValueError, match="dci: factors_train must have at least 2 factors"):
        dci(z, w[:, 0], z, w[:, 0])
    with pytest.raises(ValueError, match=r"dci: factors_train must take at least 2 values.*\[1\]"):
        dci(z, np.c_[w[:, 0], np.ones(100)], z, w[:, :2])
    monkeypatch.setitem(sys.modules, "lightgbm", None)
    with pytest.raises(RuntimeError, match=r"pip install \"vaecore\[fast\]\""):
        dci(z, w, z, w, backend="lightgbm")
