"""DtO at every finite scale and conditioning (issue 17.1), the fused finiteness check
(issue 15.3) and the guarded solver loops: regression tests for every reported case.

DtO depends only on V of J = U Σ Vᵀ, so it is invariant to the scale of J; the native
kernel must return the reference value at any finite scale, never 0 and never hang. For
ill-conditioned J the truth is the exact V of the stored float64 matrix, computed here
with mpmath at 80 digits; the float64 SVD twin carries errors of about eps · cond / gap
itself, so the native path is compared with the truth, and with the twin within the
twin's own error.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment

import vaecore
from vaecore import _native
from vaecore.metrics import dto
from vaecore.reference import orthogonality as ref

pytestmark = pytest.mark.native  # skipped by conftest with VAECORE_TEST_REFERENCE_ONLY=1

ISSUE_J = np.random.default_rng(1).normal(size=(1, 8, 3))  # the issue's example
ISSUE_VALUE = 1.1287202190734  # its DtO (reference backend)


def within(seconds: float, fn, *args, **kwargs):
    """fn(*args) in a daemon thread; fail (instead of hanging the suite) after `seconds`."""
    out: dict = {}

    def target():
        try:
            out["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            out["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{getattr(fn, '__name__', fn)} did not return within {seconds} s"
    if "error" in out:
        raise out["error"]
    return out["value"]


def jacobians_with_singular_values(rng, s, n: int, count: int) -> np.ndarray:
    """count Jacobians U diag(s) Wᵀ with random orthonormal U (n × d) and W (d × d)."""
    d = len(s)
    out = np.empty((count, n, d))
    for i in range(count):
        U, _ = np.linalg.qr(rng.standard_normal((n, d)))
        W, _ = np.linalg.qr(rng.standard_normal((d, d)))
        out[i] = (U * np.asarray(s)) @ W.T
    return out


def exact_dto(J: np.ndarray) -> float:
    """DtO of one stored float64 Jacobian from V computed with mpmath at 80 digits."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(80):
        A = mpmath.matrix(J.tolist())
        E, Q = mpmath.eigsy(A.T * A)
        idx = sorted(range(len(E)), key=lambda i: -E[i])
        V = np.array([[float(Q[r, i]) for i in idx] for r in range(J.shape[1])])
    rows, cols = linear_sum_assignment(np.abs(V), maximize=True)
    P = np.zeros_like(V)
    P[rows, cols] = np.sign(V[rows, cols])
    return float(np.linalg.norm(V - P))


# --------------------------------------------------------------------------- scale


def test_issue_example_at_the_reported_scales():
    assert dto(ISSUE_J, backend="reference").value == pytest.approx(ISSUE_VALUE, abs=1e-12)
    for scale in (1e77, 1e100, 1e154, 1e160, 1e-162, 1e-200, 1e300, 1e-300):
        res = within(10, dto, ISSUE_J * scale)
        assert res.value == pytest.approx(ISSUE_VALUE, abs=1e-12), scale


def test_1e160_returns_within_a_time_limit():
    assert within(10, dto, ISSUE_J * 1e160).value == pytest.approx(ISSUE_VALUE, abs=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scale_sweep_is_exact_and_singular_values_scale(dtype):
    """Every power of ten the dtype holds (1e-300..1e300 for float64): same DtO, s ∝ scale."""
    rng = np.random.default_rng(3)
    J = rng.standard_normal((4, 12, 5)) * np.linspace(2.0, 0.5, 5)
    base = dto(J)
    lo, hi = (-300, 300) if dtype == np.float64 else (-37, 37)
    for e in range(lo, hi + 1):
        Js = (J * 10.0**e).astype(dtype)
        res = within(10, dto, Js)
        np.testing.assert_allclose(res.per_sample, base.per_sample, rtol=0, atol=1e-6 if dtype == np.float32 else 1e-12, err_msg=f"1e{e}")
        np.testing.assert_allclose(res.min_relative_gap, base.min_relative_gap, rtol=0, atol=1e-5 if dtype == np.float32 else 1e-12)
        if dtype == np.float64:
            np.testing.assert_allclose(res.singular_values, base.singular_values * 10.0**e, rtol=1e-12)


def test_mixed_scales_in_one_batch_and_subnormal_entries():
    J = np.concatenate([ISSUE_J * 1e-200, ISSUE_J, ISSUE_J * 1e200, ISSUE_J * 1e-310])
    res = within(10, dto, J)
    np.testing.assert_allclose(res.per_sample[:3], ISSUE_VALUE, atol=1e-12)
    assert res.per_sample[3] == pytest.approx(ISSUE_VALUE, abs=1e-6)  # subnormals: ~1e-14 relative spacing lost
    tiny = np.full((1, 4, 2), 5e-324)  # rank one, equal columns: V = [[1, 1], [1, -1]] / √2
    assert dto(tiny).value == pytest.approx(np.sqrt(2 * (1 - 2**-0.5) ** 2 + 1), abs=1e-12)
    assert dto(np.zeros((2, 4, 3))).value == 0.0


def test_largest_finite_values():
    big = np.full((1, 4, 2), np.finfo(np.float64).max)
    big[0, :, 1] = np.finfo(np.float64).max * np.array([1.0, -1.0, 0.5, -0.5])
    res = within(10, dto, big)
    assert np.isfinite(res.value)
    assert res.value == pytest.approx(dto(big / 2.0**1000).value, abs=1e-12)


# --------------------------------------------------------------------------- conditioning


def test_issue_case_equals_the_svd_twin():
    """Singular values (1e4, 5e3, 1e-4, 5e-5): native was 1.32, the twin 0.90."""
    J = jacobians_with_singular_values(np.random.default_rng(0), (1e4, 5e3, 1e-4, 5e-5), 8, 40)
    got = dto(J).per_sample
    want = ref.dto(J, method="lap")[0]
    assert np.abs(got - want).max() < 1e-7  # the twin's own error here is ~eps·cond ≈ 4e-8
    assert abs(got.mean() - want.mean()) < 1e-8


@pytest.mark.parametrize("cond", [1e3, 1e4, 1e6])
def test_matches_svd_twin_to_1e8_up_to_cond_1e6(cond):
    rng = np.random.default_rng(int(np.log10(cond)))
    s = (1.0, 0.5, 2.0 / cond, 1.0 / cond)
    for n in (4, 9, 200):
        J = jacobians_with_singular_values(rng, s, n, 60)
        got = dto(J).per_sample
        want = ref.dto(J, method="lap")[0]
        assert np.abs(got - want).max() < 1e-8, (n, cond)


@pytest.mark.parametrize("cond", [2e6, 2e8, 2e10, 2e12])
def test_matches_exact_dto_up_to_cond_1e12(cond):
    """Against V of the stored matrix in 80-digit arithmetic: ≤ 1e-8 per sample up to 2e8,
    ≤ 1e-7 at 2e12, and at least as close as the float64 SVD twin."""
    rng = np.random.default_rng(int(np.log10(cond)))
    J = jacobians_with_singular_values(rng, (1e4, 5e3, 2e4 / cond, 1e4 / cond), 8, 6)
    truth = np.array([exact_dto(j) for j in J])
    got = dto(J).per_sample
    twin = ref.dto(J, method="lap")[0]
    err, twin_err = np.abs(got - truth).max(), np.abs(twin - truth).max()
    assert err < (1e-8 if cond <= 2e8 else 1e-7), err
    assert err <= max(twin_err, 1e-12), (err, twin_err)


def test_well_conditioned_batch_still_matches_twin_tightly():
    J = np.random.default_rng(5).standard_normal((50, 30, 6)) * np.linspace(3, 0.3, 6)
    np.testing.assert_allclose(dto(J).per_sample, ref.dto(J, method="lap")[0], atol=1e-10)


def test_rank_deficient_jacobian_is_handled():
    J = jacobians_with_singular_values(np.random.default_rng(6), (3.0, 1.0, 0.0), 10, 5)
    res = dto(J)
    assert np.all(np.isfinite(res.per_sample))
    assert np.all(res.singular_values[:, 2] < 1e-14)
    # the first two right singular vectors are well defined: DtO restricted to them agrees
    np.testing.assert_allclose(np.abs(res.right_singular_vectors[:, :, :2]),
                               np.abs(ref.dto(J, method="lap")[4][:, :, :2]), atol=1e-12)


# --------------------------------------------------------------------------- finiteness, loops


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_first_bad_sample_is_named_whatever_the_thread_count(threads):
    J = np.random.default_rng(7).standard_normal((1000, 16, 3)).astype(np.float32)
    J[999, 0, 2] = np.inf
    J[700, 5, 1] = np.nan
    J[433, 3, 0] = np.nan
    old = vaecore.build_info().get("num_threads")
    _native.native().set_num_threads(threads)
    try:
        with pytest.raises(ValueError, match=r"got NaN or inf in sample 433 \(entry \(3, 0\)\)"):
            dto(J)
    finally:
        _native.native().set_num_threads(0 if old is None else int(old))


def test_nan_next_to_huge_finite_values():
    J = ISSUE_J.repeat(3, axis=0) * 1e300
    J[2, 7, 2] = -np.inf
    with pytest.raises(ValueError, match=r"sample 2 \(entry \(7, 2\)\)"):
        dto(J)


def test_layouts_and_torch_inputs_give_identical_answers():
    rng = np.random.default_rng(8)
    J = rng.standard_normal((12, 20, 4)) * np.array([1e120, 1.0, 1e-3, 3.0])
    base = dto(J)
    variants = [
        np.asfortranarray(J),
        np.ascontiguousarray(np.concatenate([J, J], axis=2))[:, :, :4],
        rng.standard_normal((24, 20, 4))[::2] * 0 + J,
        torch.from_numpy(J),
        torch.from_numpy(np.asfortranarray(J)),
    ]
    for v in variants:
        res = dto(v)
        np.testing.assert_array_equal(res.per_sample, base.per_sample)
        np.testing.assert_array_equal(res.right_singular_vectors, base.right_singular_vectors)


def test_kernels_reject_non_finite_weights_instead_of_looping():
    core = _native.native()
    bad = np.full((1, 3, 3), np.nan)
    with pytest.raises(ValueError, match="max_weight_assignment: weights must be finite"):
        within(10, core.max_weight_assignment, bad)
    with pytest.raises(ValueError, match="sym_eig: matrices must be finite"):
        within(10, core.sym_eig, bad)
    with pytest.raises(ValueError, match="closest_signed_permutation: V must be finite"):
        within(10, core.closest_signed_permutation, bad)
    inf = np.where(np.eye(3, dtype=bool), np.inf, 0.0)[None]
    with pytest.raises(ValueError, match="weights must be finite"):
        within(10, core.max_weight_assignment, inf)
