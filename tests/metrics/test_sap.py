"""SAP as disentanglement_lib: closed forms and properties."""

from __future__ import annotations

import numpy as np
import pytest

from vaecore.metrics import sap


def _data(n, seed):
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 2, size=(n, 3))  # binary: a 1-D linear SVM separates them exactly
    return w, w + 0.1 * rng.normal(size=(n, 3)), rng


def _disentanglement_lib_continuous(mus, ys):
    """disentanglement_lib's compute_score_matrix (continuous branch) + avg top-two diff."""
    m = np.zeros([mus.shape[0], ys.shape[0]])
    for i in range(mus.shape[0]):
        for j in range(ys.shape[0]):
            c = np.cov(mus[i, :], ys[j, :], ddof=1)
            m[i, j] = c[0, 1] ** 2 / (c[0, 0] * c[1, 1]) if c[0, 0] > 1e-12 else 0.0
    s = np.sort(m, axis=0)
    return float(np.mean(s[-1, :] - s[-2, :]))


def test_identity_codes_score_high():
    w, z, _ = _data(600, 0)
    wt, zt, _ = _data(300, 1)
    res = sap(z, w, zt, wt)
    np.testing.assert_array_equal(res.best, [0, 1, 2])
    np.testing.assert_array_equal(res.matrix.diagonal(), 1.0)
    # An uninformative latent scores chance (balanced classes: ~0.5), so SAP ~ 0.5 here.
    off = res.matrix[~np.eye(3, dtype=bool)]
    assert np.all(np.abs(off - 0.5) < 0.1)
    assert res.value == pytest.approx(np.mean(1.0 - np.sort(res.matrix, axis=1)[:, -2]))
    assert sap(z, w, zt, wt, continuous=True).value > 0.9


def test_continuous_closed_form_and_verbatim():
    w, z, rng = _data(500, 2)
    w = w + rng.uniform(size=w.shape)
    z = np.c_[z, np.tanh(z[:, 0])]
    res = sap(z, w, z[:10], w[:10], continuous=True)
    assert res.value == pytest.approx(_disentanglement_lib_continuous(z.T, w.T), abs=1e-12)
    exact = sap(w, w, w, w, continuous=True)
    np.testing.assert_allclose(exact.matrix.diagonal(), 1.0, rtol=1e-12)


@pytest.mark.parametrize("continuous", [False, True])
def test_constant_codes_score_zero(continuous):
    w, _, _ = _data(300, 3)
    res = sap(np.ones((300, 3)), w, np.ones((100, 3)), w[:100], continuous=continuous)
    assert res.value == 0.0


def test_duplicated_latent_zeroes_its_factor():
    w, z, _ = _data(400, 4)
    z2 = np.c_[z[:, 0], z[:, 0], z[:, 1:]]
    res = sap(z2, w, z2, w)
    assert res.per_factor[0] == 0.0 and res.per_factor[1] > 0.3


def test_latent_permutation_invariance():
    w, z, _ = _data(400, 5)
    perm = [2, 0, 1]
    a, b = sap(z, w, z, w), sap(z[:, perm], w, z[:, perm], w)
    assert a.value == pytest.approx(b.value, abs=1e-12)
    np.testing.assert_allclose(a.matrix[:, perm], b.matrix)


def test_errors():
    w, z, _ = _data(100, 6)
    with pytest.raises(ValueError, match=r"sap: factors_train must take at least 2 values.*\[1\]"):
        sap(z, np.c_[w[:, 0], np.zeros(100)], z, w[:, :2])
    with pytest.raises(ValueError, match="sap: codes_test must have as many columns as codes_train"):
        sap(z, w, z[:, :2], w)
    with pytest.raises(ValueError, match="sap: factors_train must vary"):
        sap(z, np.c_[w[:, 0], np.zeros(100)], z, w[:, :2], continuous=True)
    with pytest.raises(TypeError, match="sap: continuous must be a bool"):
        sap(z, w, z, w, continuous="yes")
    assert set(sap(z, w, z, w).as_dict()) >= {"value", "per_factor", "matrix", "n_not_converged"}


def _dlib_sap_discrete(z, w, zt, wt):
    """disentanglement_lib's ``sap_score._compute_score_matrix`` (discrete) + ``compute_avg_diff_top_two``."""
    from sklearn import svm

    m = np.zeros((w.shape[1], z.shape[1]))
    for i in range(z.shape[1]):
        for j in range(w.shape[1]):
            clf = svm.LinearSVC(C=0.01, class_weight="balanced")
            clf.fit(z[:, [i]], w[:, j])
            m[j, i] = np.mean(clf.predict(zt[:, [i]]) == wt[:, j])
    s = np.sort(m, axis=1)
    return float(np.mean(s[:, -1] - s[:, -2])), m


def test_ordinary_scale_codes_equal_disentanglement_lib():
    rng = np.random.default_rng(5)
    w = rng.integers(0, 4, size=(400, 2))
    z = np.c_[w[:, 0] * 0.7 + rng.normal(size=400) * 0.6, rng.normal(size=400) * 3, w[:, 1] - 1.5 + rng.normal(size=400)]
    wt = rng.integers(0, 4, size=(200, 2))
    zt = np.c_[wt[:, 0] * 0.7 + rng.normal(size=200) * 0.6, rng.normal(size=200) * 3, wt[:, 1] - 1.5 + rng.normal(size=200)]
    want, matrix = _dlib_sap_discrete(z, w, zt, wt)
    got = sap(z, w, zt, wt)
    np.testing.assert_array_equal(got.matrix, matrix)
    assert got.value == want
