"""DS (thesis §3.3.1, eq. 3.32-3.37): closed forms, properties, tie rules, kernel parity."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import vaecore
from vaecore._native import native
from vaecore.metrics import ds
from vaecore.metrics.ds import split_indices
from vaecore.reference.ds import knn1d_scores as knn1d_reference

BACKENDS = ["native", "reference"]


def _factors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, size=(n, 3))


def _rotate45(z: np.ndarray, a: int = 0, b: int = 1) -> np.ndarray:
    out = z.copy()
    c = np.sqrt(0.5)
    out[:, a], out[:, b] = c * (z[:, a] - z[:, b]), c * (z[:, a] + z[:, b])
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_identity_codes_score_high(backend):
    w = _factors(1500)
    res = ds(w, w, backend=backend)
    assert res.value >= 0.9
    np.testing.assert_array_equal(res.best, [0, 1, 2])
    assert np.all((res.per_factor >= 0) & (res.per_factor <= 1))
    # An independent latent predicts worse than the constant: clipped to exactly 0.
    off = res.matrix[~np.eye(3, dtype=bool)]
    assert off.max() < 0.05


@pytest.mark.parametrize("backend", BACKENDS)
def test_constant_codes_score_zero(backend):
    w = _factors(500)
    res = ds(np.zeros((500, 4)), w, backend=backend)
    assert res.value == pytest.approx(0.0, abs=1e-12)
    assert res.matrix.max() < 0.05


def test_duplicated_latent_zeroes_its_factor():
    w = _factors(1000)
    z = np.c_[w[:, 0], w[:, 0], w[:, 1], w[:, 2]]
    res = ds(z, w)
    assert res.per_factor[0] == 0.0  # identical columns: identical sensitivities
    assert res.per_factor[1] > 0.9 and res.per_factor[2] > 0.9


@pytest.mark.parametrize("backend", BACKENDS)
def test_rotation_lowers_ds(backend):
    w = _factors(1500)
    aligned = ds(w, w, backend=backend).value
    rotated = ds(_rotate45(w), w, backend=backend).value
    assert rotated < aligned - 0.3


def test_latent_permutation_invariance():
    w = _factors(800, seed=3)
    rng = np.random.default_rng(1)
    z = np.c_[w[:, 0] + 0.05 * rng.normal(size=800), np.sin(3 * w[:, 1]), rng.normal(size=800), w[:, 2] ** 2]
    perm = np.array([2, 0, 3, 1])
    a, b = ds(z, w), ds(z[:, perm], w)
    assert a.value == b.value
    np.testing.assert_array_equal(a.matrix[:, perm], b.matrix)
    np.testing.assert_array_equal(perm[b.best], a.best)


def test_categorical_closed_form():
    rng = np.random.default_rng(0)
    n = 1000
    shape = rng.integers(0, 3, n)  # categorical factor, perfectly encoded by latent 0
    z = np.c_[shape + 0.01 * rng.normal(size=n), rng.normal(size=n)]
    res = ds(z, np.c_[shape.astype(float) * 7.0], categorical=["categorical"])
    _, test = split_indices(n, 0)
    acc_const = np.bincount(shape[test]).max() / test.size
    assert res.normalizers[0] == pytest.approx(1 - acc_const)
    assert res.matrix[0, 0] == pytest.approx(1 - acc_const)  # accuracy 1
    assert res.value == pytest.approx(1.0 - res.matrix[0, 1] / res.normalizers[0])
    assert res.matrix[0, 1] < 0.1


def test_regression_closed_form_against_sklearn():
    """A_ij = sqrt(var) - sqrt(mse) with var on the scoring part, as documented."""
    from sklearn.metrics import mean_squared_error
    from sklearn.neighbors import KNeighborsRegressor

    rng = np.random.default_rng(5)
    n = 600
    w = rng.uniform(size=(n, 1))
    z = np.c_[w[:, 0] + 0.1 * rng.normal(size=n), rng.normal(size=n)]
    train, test = split_indices(n, 7)
    pred = KNeighborsRegressor(n_neighbors=5).fit(z[train, :1], w[train, 0]).predict(z[test, :1])
    sd = np.sqrt(np.var(w[test, 0]))
    expected = sd - np.sqrt(mean_squared_error(w[test, 0], pred))
    res = ds(z, w, seed=7)
    assert res.matrix[0, 0] == pytest.approx(expected, rel=1e-12)
    assert res.normalizers[0] == pytest.approx(sd, rel=1e-12)


def test_split_is_80_20_and_seeded():
    train, test = split_indices(101, 3)
    assert test.size == 21 and train.size == 80
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(split_indices(101, 3)[1], test)
    assert not np.array_equal(split_indices(101, 4)[1], test)


@pytest.mark.native
def test_deterministic_and_thread_independent():
    w = _factors(700)
    z = _rotate45(w) + 0.01
    a = ds(z, w, seed=2)
    try:
        vaecore.set_num_threads(1)
        b = ds(z, w, seed=2)
    finally:
        vaecore.set_num_threads(0)
    np.testing.assert_array_equal(a.matrix, b.matrix)
    assert ds(z, w, seed=3).value != a.value


def test_torch_input_and_as_dict():
    w = _factors(200)
    res = ds(torch.from_numpy(w).float(), torch.from_numpy(w))
    d = res.as_dict()
    assert d["value"] == pytest.approx(res.value) and len(d["matrix"]) == 3
    assert float(res) == res.value


@pytest.mark.native
def test_distance_tie_rule_prefers_earlier_training_row():
    core = native()
    y_test = np.zeros((1, 1))
    one = np.ones(1, dtype=np.uint8)
    zero = np.zeros(1, dtype=np.uint8)
    n0 = np.zeros(1, dtype=np.int64)
    # query 1.5 is equidistant from 1 (row 0) and 2 (row 1): row 0 wins.
    mse = core.knn1d_scores(np.array([[1.0], [2.0]]), np.array([[1.5]]), np.array([[10.0], [20.0]]), y_test, zero, n0, 1)
    assert mse[0, 0] == 100.0
    mse = core.knn1d_scores(np.array([[2.0], [1.0]]), np.array([[1.5]]), np.array([[20.0], [10.0]]), y_test, zero, n0, 1)
    assert mse[0, 0] == 400.0
    # Duplicated values: the earliest rows among the tied ones.
    ztr = np.array([[3.0], [0.0], [0.0], [0.0], [0.0]])
    ytr = np.array([[9.0], [1.0], [2.0], [3.0], [4.0]])
    mse = core.knn1d_scores(ztr, np.array([[0.0]]), ytr, y_test, zero, n0, 2)
    assert mse[0, 0] == 1.5**2
    # Vote tie (one neighbour of each class): the smaller label wins.
    acc = core.knn1d_scores(np.array([[0.0], [1.0]]), np.array([[0.4]]), np.array([[1.0], [0.0]]),
                            np.array([[0.0]]), one, np.array([2], dtype=np.int64), 2)
    assert acc[0, 0] == 1.0


def _brute_force(ztr, zte, ytr, yte, is_class, n_classes, k):
    """The documented tie rules by brute force: sort by (distance, training row)."""
    scores = np.empty((ytr.shape[1], ztr.shape[1]))
    rows = np.arange(ztr.shape[0])
    for j in range(ztr.shape[1]):
        loss = np.empty((zte.shape[0], ytr.shape[1]))
        for t, q in enumerate(zte[:, j]):
            nb = np.lexsort((rows, np.abs(ztr[:, j] - q)))[:k]
            for i in range(ytr.shape[1]):
                if is_class[i]:
                    votes = np.bincount(ytr[nb, i].astype(int), minlength=n_classes[i])
                    loss[t, i] = float(np.argmax(votes) == yte[t, i])
                else:
                    loss[t, i] = (yte[t, i] - ytr[nb, i].sum() / k) ** 2
        scores[:, j] = loss.mean(axis=0)
    return scores


@pytest.mark.native
@given(
    n=st.integers(7, 60),
    k=st.integers(1, 6),
    levels=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_kernel_matches_brute_force_with_ties(n, k, levels, seed):
    rng = np.random.default_rng(seed)
    ntr = max(n, k)
    ztr = rng.integers(0, levels, size=(ntr, 2)).astype(float)  # heavy distance ties
    zte = rng.integers(-1, levels + 1, size=(n // 3 + 1, 2)).astype(float) + rng.choice([0, 0.5], size=(n // 3 + 1, 2))
    ytr = np.c_[rng.normal(size=ntr), rng.integers(0, 3, ntr)]
    yte = np.c_[rng.normal(size=zte.shape[0]), rng.integers(0, 3, zte.shape[0])]
    is_class = np.array([0, 1], dtype=np.uint8)
    n_classes = np.array([0, 3], dtype=np.int64)
    got = native().knn1d_scores(ztr, zte, ytr, yte, is_class, n_classes, k)
    want = _brute_force(ztr, zte, ytr, yte, is_class, n_classes, k)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.native
@settings(max_examples=25)
@given(
    n=st.integers(10, 120),
    n_latents=st.integers(2, 4),
    n_classes=st.integers(2, 5),
    seed=st.integers(0, 2**16),
)
def test_native_matches_sklearn_twin_on_tie_free_data(n, n_latents, n_classes, seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, n_latents))  # continuous: no distance ties
    w = np.c_[z[:, 0] + rng.normal(size=n), rng.integers(0, n_classes, n), rng.uniform(size=n)]
    test = split_indices(n, seed % 7)[1]
    w[test[0], 1], w[test[1], 1] = 0, 1  # the categorical factor varies on the scoring part
    kw = dict(categorical=[False, True, False], seed=seed % 7)
    a = ds(z, w, backend="native", **kw)
    b = ds(z, w, backend="reference", **kw)
    np.testing.assert_allclose(a.matrix, b.matrix, rtol=1e-12, atol=1e-12)
    assert a.value == pytest.approx(b.value, abs=1e-12)
    np.testing.assert_array_equal(a.best, b.best)


@pytest.mark.native
def test_kernel_twin_direct_parity():
    rng = np.random.default_rng(11)
    ztr, zte = rng.normal(size=(200, 3)), rng.normal(size=(50, 3))
    ytr = np.c_[rng.normal(size=200), rng.integers(0, 4, 200)]
    yte = np.c_[rng.normal(size=50), rng.integers(0, 4, 50)]
    args = (ztr, zte, ytr, yte, np.array([0, 1], np.uint8), np.array([0, 4], np.int64), 5)
    np.testing.assert_allclose(native().knn1d_scores(*args), knn1d_reference(*args), rtol=1e-12)


def test_errors():
    w = _factors(50)
    with pytest.raises(ValueError, match="ds: categorical must have one entry per factor"):
        ds(w, w, categorical=[True])
    with pytest.raises(TypeError, match="ds: categorical must"):
        ds(w, w, categorical="categorical")
    with pytest.raises(ValueError, match=r"ds: codes must have at least 7 rows for k=5"):
        ds(w[:6], w[:6])
    assert ds(w[:7], w[:7]).n_train == 5
    with pytest.raises(ValueError, match=r"ds: factors must vary on the scoring part.*\[1\]"):
        ds(w, np.c_[w[:, 0], np.ones(50)])
    with pytest.raises(ValueError, match="ds: k must be >= 1"):
        ds(w, w, k=0)
    with pytest.raises(ValueError, match="ds: backend must be one of"):
        ds(w, w, backend="gpu")
