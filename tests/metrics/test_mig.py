"""MIG (thesis eq. 2.8) as disentanglement_lib: closed forms, properties, kernel parity."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics
import torch
from hypothesis import given
from hypothesis import strategies as st

from vaecore.metrics import mig

BACKENDS = ["native", "reference"]


def _disentanglement_lib_mig(mus_train: np.ndarray, ys_train: np.ndarray, num_bins: int = 20) -> float:
    """disentanglement_lib's _compute_mig verbatim (its layout: (num_codes, num_points))."""
    discretized = np.zeros_like(mus_train)
    for i in range(mus_train.shape[0]):
        discretized[i, :] = np.digitize(mus_train[i, :], np.histogram(mus_train[i, :], num_bins)[1][:-1])
    m = np.zeros([discretized.shape[0], ys_train.shape[0]])
    for i in range(discretized.shape[0]):
        for j in range(ys_train.shape[0]):
            m[i, j] = sklearn.metrics.mutual_info_score(ys_train[j, :], discretized[i, :])
    h = np.zeros(ys_train.shape[0])
    for j in range(ys_train.shape[0]):
        h[j] = sklearn.metrics.mutual_info_score(ys_train[j, :], ys_train[j, :])
    sorted_m = np.sort(m, axis=0)[::-1]
    return float(np.mean(np.divide(sorted_m[0, :] - sorted_m[1, :], h[:])))


def _data(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 10, size=(n, 3))
    return w, w + 0.2 * rng.normal(size=(n, 3))


@pytest.mark.parametrize("backend", BACKENDS)
def test_identity_codes_score_high(backend):
    w, _ = _data()
    res = mig(w.astype(float), w, backend=backend)
    assert res.value >= 0.9
    np.testing.assert_allclose(res.matrix.diagonal(), res.entropies, rtol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_constant_codes_score_zero(backend):
    w, _ = _data(500)
    res = mig(np.full((500, 3), 2.5), w, backend=backend)
    assert res.value == 0.0
    assert np.all(res.matrix == 0.0)


def test_duplicated_latent_zeroes_its_factor():
    w, z = _data()
    res = mig(np.c_[z[:, 0], z[:, 0], z[:, 1:]], w)
    assert res.per_factor[0] == 0.0
    assert res.per_factor[1] > 0.5


@pytest.mark.parametrize("backend", BACKENDS)
def test_rotation_lowers_mig(backend):
    w, z = _data()
    c = np.sqrt(0.5)
    rot = z.copy()
    rot[:, 0], rot[:, 1] = c * (z[:, 0] - z[:, 1]), c * (z[:, 0] + z[:, 1])
    assert mig(rot, w, backend=backend).value < mig(z, w, backend=backend).value - 0.2


def test_latent_permutation_invariance():
    w, z = _data()
    z = np.c_[z, np.random.default_rng(3).normal(size=len(z))]
    perm = np.array([3, 1, 0, 2])
    a, b = mig(z, w), mig(z[:, perm], w)
    assert a.value == b.value
    np.testing.assert_array_equal(a.matrix[:, perm], b.matrix)


@pytest.mark.native
def test_matches_disentanglement_lib_verbatim():
    w, z = _data(2000, seed=4)
    z = np.c_[z, np.tanh(z[:, 0] + z[:, 2])]
    expected = _disentanglement_lib_mig(z.T, w.T)
    for backend in BACKENDS:
        assert mig(z, w, backend=backend).value == pytest.approx(expected, abs=1e-12)


@pytest.mark.native
@given(
    n=st.integers(2, 300),
    n_latents=st.integers(2, 5),
    n_classes=st.integers(2, 8),
    n_bins=st.integers(2, 30),
    seed=st.integers(0, 2**16),
)
def test_native_matches_sklearn_twin(n, n_latents, n_classes, n_bins, seed):
    rng = np.random.default_rng(seed)
    w = rng.integers(0, n_classes, size=(n, 2))
    w[0, :], w[1, :] = 0, 1  # both factors non-constant
    z = rng.normal(size=(n, n_latents))
    z[:, 0] = np.round(z[:, 0], 1)  # values on bin edges and ties
    a = mig(z, w, n_bins=n_bins, backend="native")
    b = mig(z, w, n_bins=n_bins, backend="reference")
    np.testing.assert_allclose(a.matrix, b.matrix, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.entropies, b.entropies, rtol=0, atol=1e-12)
    assert a.value == pytest.approx(b.value, abs=1e-12)


def test_constant_factor_errors_or_is_dropped():
    w, z = _data(400)
    w = np.c_[w, np.full(400, 3)]
    with pytest.raises(ValueError, match=r"mig: factors must take at least 2 values.*\[3\]"):
        mig(z, w)
    res = mig(z, w, drop_constant=True)
    assert res.factors == (0, 1, 2)
    assert res.value == pytest.approx(mig(z, w[:, :3]).value, abs=1e-15)
    with pytest.raises(ValueError, match="mig: factors must include a non-constant factor"):
        mig(z, np.ones((400, 2)), drop_constant=True)
    with pytest.raises(ValueError, match="mig: n_bins must be >= 2"):
        mig(z, w[:, :3], n_bins=1)


def test_torch_input_and_as_dict():
    w, z = _data(300)
    res = mig(torch.from_numpy(z), torch.from_numpy(w))
    assert res.as_dict()["value"] == pytest.approx(res.value)
    assert len(res.as_dict()["matrix"]) == 3


@given(values=st.lists(st.sampled_from([-3.0, 0.0, 2.0, 2.5, 7.0, 1e6]), min_size=1, max_size=40))
def test_encode_labels_matches_np_unique(values):
    from vaecore.metrics._arrays import encode_labels

    col = np.array(values)
    labels, n_classes = encode_labels(np.c_[col, np.round(col)])
    for i, c in enumerate([col, np.round(col)]):
        uniq, inv = np.unique(c, return_inverse=True)
        np.testing.assert_array_equal(labels[:, i], inv)
        assert n_classes[i] == uniq.size


@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 50),
    scale=st.sampled_from([1e-300, 1e-8, 1.0, 1e8, 1e300]),
    n_bins=st.integers(2, 25),
)
def test_histogram_edges_match_numpy(seed, n, scale, n_bins):
    from vaecore.metrics.mig import histogram_edges

    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3)) * scale
    z[:, 2] = z[0, 2]  # a constant column
    try:
        want = np.stack([np.histogram_bin_edges(z[:, j], n_bins) for j in range(3)])
    except ValueError:  # numpy: "Too many bins for data range"
        with pytest.raises(ValueError, match="mig: codes must span a range"):
            histogram_edges(z, n_bins)
        if n >= 2:  # mig bins power-of-two-rescaled codes: a constant 1e300 latent is fine
            unit = np.ldexp(z, -np.frexp(np.abs(z).max(axis=0))[1])
            got = mig(z, np.arange(n) % 2, n_bins=n_bins, backend="reference")
            assert got.value == mig(unit, np.arange(n) % 2, n_bins=n_bins, backend="reference").value
        return
    np.testing.assert_array_equal(histogram_edges(z, n_bins), want)


@pytest.mark.native
def test_column_ranges_kernel_matches_numpy():
    from vaecore._native import native
    from vaecore.reference.mig import column_ranges

    rng = np.random.default_rng(0)
    for n in (1, 7, 50_000):
        x = rng.normal(size=(n, 4)) * np.array([1.0, 1e-300, 1e300, 0.0])
        np.testing.assert_array_equal(native().column_ranges(x), column_ranges(x))


@pytest.mark.native
def test_non_integer_and_wide_factors_use_dense_ranks():
    rng = np.random.default_rng(2)
    n = 600
    w = np.c_[rng.choice([0.1, 0.25, 0.7], n), rng.choice([0.0, 1e9], n), rng.integers(-5, 5, n)]
    z = np.c_[w[:, 0] + 0.01 * rng.normal(size=n), rng.normal(size=(n, 2))]
    a, b = mig(z, w, backend="native"), mig(z, w, backend="reference")
    np.testing.assert_allclose(a.matrix, b.matrix, rtol=0, atol=1e-12)
    ranks = np.stack([np.unique(c, return_inverse=True)[1] for c in w.T])  # sklearn wants labels
    assert a.value == pytest.approx(_disentanglement_lib_mig(z.T, ranks), abs=1e-12)


def test_as_dict_carries_disentanglement_lib_key_names():
    from vaecore.metrics import sap

    rng = np.random.default_rng(0)
    w = rng.integers(0, 4, (300, 2))
    z = w + rng.normal(size=(300, 2)) * 0.3
    m = mig(z, w).as_dict()
    s = sap(z, w, z, w).as_dict()
    assert m["discrete_mig"] == m["value"] and s["SAP_score"] == s["value"]
