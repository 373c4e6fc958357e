"""DS kernel (csrc/knn1d.cpp) after the radix-sort rewrite (issue 15.4): the order-preserving
sort keys, the galloping search over sorted queries and both majority-vote paths, checked
against the documented tie rules by brute force (`_brute_force` of test_ds.py)."""

from __future__ import annotations

import numpy as np
import pytest

from vaecore._native import native

from .test_ds import _brute_force

pytestmark = pytest.mark.native


def _scores(ztr, zte, ytr, yte, is_class, n_classes, k, threads=None):
    core = native()
    if threads is not None:
        core.set_num_threads(threads)
    try:
        return core.knn1d_scores(ztr, zte, ytr, yte, is_class, n_classes, k)
    finally:
        if threads is not None:
            core.set_num_threads(0)


def test_sort_keys_order_negatives_zeros_and_extremes():
    """Signed zeros are one value (distance ties go to the earlier row), and the key order is
    numeric order across signs, subnormals and the largest magnitudes whose differences stay finite.
    The query -1e300 is 1e300 away from every small value (rounding): that tie among different
    values still goes to the earliest training row (a fix of the tie path)."""
    specials = np.array([-0.0, 0.0, -1e-310, 1e-310, -8e307, 8e307, -1.0, 1.0, -2.5, 3e-5, 0.0, -0.0])
    rng = np.random.default_rng(0)
    ztr = np.c_[specials, rng.permutation(specials)]
    zte = np.c_[np.array([0.0, -0.0, 1e-320, -1e300, 2.0]), np.array([-0.0, 8e307, -1e-310, 0.5, -3.0])]
    ytr = np.c_[np.arange(12.0), rng.integers(0, 3, 12)]
    yte = np.c_[np.arange(5.0), rng.integers(0, 3, 5)]
    is_class, n_classes = np.array([0, 1], np.uint8), np.array([0, 3], np.int64)
    for k in (1, 2, 3, 5):
        got = _scores(ztr, zte, ytr, yte, is_class, n_classes, k)
        want = _brute_force(ztr, zte, ytr, yte, is_class, n_classes, k)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_gallop_over_clustered_queries_and_large_gaps(threads):
    """Queries far apart (the search gallops over thousands of training values) and in
    dense clusters with duplicates; the result does not depend on the thread count."""
    rng = np.random.default_rng(1)
    ztr = np.r_[rng.normal(size=1500), rng.integers(0, 4, 500).astype(float)][:, None] * [1.0, -1.0, 1e-200]
    zte = np.r_[np.array([-50.0, 50.0]), rng.normal(size=60) * 3, np.full(10, 2.0)][:, None] * [1.0, -1.0, 1e-200]
    ytr = np.c_[rng.normal(size=2000), rng.integers(0, 5, 2000)]
    yte = np.c_[rng.normal(size=72), rng.integers(0, 5, 72)]
    is_class, n_classes = np.array([0, 1], np.uint8), np.array([0, 5], np.int64)
    got = _scores(ztr, zte, ytr, yte, is_class, n_classes, 7, threads)
    want = _brute_force(ztr, zte, ytr, yte, is_class, n_classes, 7)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k", [3, 24, 25, 40])
def test_majority_vote_paths_agree_with_bincount(k):
    """k ≤ 24 counts votes by pairs, larger k with a table: same labels, ties to the smaller."""
    rng = np.random.default_rng(k)
    ztr = rng.integers(0, 30, size=(300, 2)).astype(float)  # many distance ties too
    zte = rng.integers(0, 30, size=(40, 2)) + rng.choice([0.0, 0.5], size=(40, 2))
    ytr = np.c_[rng.integers(0, 4, 300), rng.integers(0, 60, 300)].astype(float)
    yte = np.c_[rng.integers(0, 4, 40), rng.integers(0, 60, 40)].astype(float)
    is_class, n_classes = np.array([1, 1], np.uint8), np.array([4, 60], np.int64)
    got = _scores(ztr, zte, ytr, yte, is_class, n_classes, k)
    want = _brute_force(ztr, zte, ytr, yte, is_class, n_classes, k)
    np.testing.assert_array_equal(got, want)
