"""Distance to orthogonality (thesis §3.2.6): kernel vs twin, closed forms, invariances, errors."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import vaecore
from vaecore import _native
from vaecore.metrics import DtOResult, closest_signed_permutation, dto
from vaecore.reference import orthogonality as ref

needs_native = pytest.mark.native  # skipped by conftest with VAECORE_TEST_REFERENCE_ONLY=1


def random_orthogonal(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def signed_permutation(rng: np.random.Generator, d: int) -> np.ndarray:
    P = np.zeros((d, d))
    P[np.arange(d), rng.permutation(d)] = rng.choice([-1.0, 1.0], size=d)
    return P


def all_signed_permutations(d: int):
    for perm in itertools.permutations(range(d)):
        for signs in itertools.product((-1.0, 1.0), repeat=d):
            P = np.zeros((d, d))
            P[np.arange(d), perm] = signs
            yield P


# --------------------------------------------------------------------------- parity


@needs_native
def test_native_matches_svd_plus_milp_on_500_random_jacobians():
    """C++ (Gram + Jacobi + Hungarian) vs the thesis's recipe (numpy SVD + MILP 3.29)."""
    rng = np.random.default_rng(2026)
    counts = {1: 70, 2: 70, 3: 70, 4: 70, 5: 70, 6: 70, 7: 20, 8: 20, 9: 20, 10: 20}
    checked = 0
    for d, count in counts.items():
        for _ in range(count):
            n = int(rng.integers(d, d + 40))
            scale = rng.uniform(0.1, 3.0, size=d)
            J = rng.standard_normal((1, n, d)) * scale
            want, s_want, _, gap_want, _ = ref.dto(J, method="milp")
            got, s_got, P_got, gap_got, _ = _native.native().dto(J)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)
            np.testing.assert_allclose(s_got, s_want, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(gap_got, gap_want, rtol=0, atol=1e-7)
            assert np.all(np.abs(P_got).sum(axis=1) == 1) and np.all(np.abs(P_got).sum(axis=2) == 1)
            checked += 1
    assert checked >= 500


@needs_native
@given(
    seed=st.integers(0, 2**32 - 1),
    n_samples=st.integers(1, 6),
    d=st.integers(1, 12),
    extra=st.integers(0, 30),
    float32=st.booleans(),
)
def test_native_matches_reference_lap(seed, n_samples, d, extra, float32):
    rng = np.random.default_rng(seed)
    J = rng.standard_normal((n_samples, d + extra, d)) * rng.uniform(0.1, 3.0, size=d)
    if float32:
        J = J.astype(np.float32)
    a = dto(J, backend="native")
    b = dto(J, backend="reference")
    np.testing.assert_allclose(a.per_sample, b.per_sample, atol=1e-7)
    np.testing.assert_allclose(a.singular_values, b.singular_values, rtol=1e-9, atol=1e-9)
    assert a.value == pytest.approx(b.value, abs=1e-7)


@needs_native
def test_native_handles_d_64_and_square_jacobians():
    rng = np.random.default_rng(0)
    for shape in [(3, 100, 64), (4, 16, 16), (2, 5000, 3)]:
        J = rng.standard_normal(shape)
        a = dto(J, backend="native")
        b = dto(J, backend="reference")
        np.testing.assert_allclose(a.per_sample, b.per_sample, atol=1e-7)
        np.testing.assert_allclose(a.singular_values, b.singular_values, rtol=1e-8)


@needs_native
def test_kernel_pieces_match_their_twins():
    rng = np.random.default_rng(1)
    core = _native.native()
    J = rng.standard_normal((7, 40, 9))
    np.testing.assert_allclose(core.gram(J), ref.gram(J), rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(core.gram(J.astype(np.float32)), ref.gram(J.astype(np.float32)), rtol=1e-12)
    w, V = core.sym_eig(ref.gram(J))
    w_ref, V_ref = ref.sym_eig(ref.gram(J))
    np.testing.assert_allclose(w, w_ref, rtol=1e-11)
    np.testing.assert_allclose(V, V_ref, atol=1e-9)  # same sign convention
    W = rng.uniform(size=(20, 6, 6))
    cols = core.max_weight_assignment(W)
    cols_ref = ref.max_weight_assignment(W)
    rows = np.arange(6)
    np.testing.assert_allclose(
        W[np.arange(20)[:, None], rows, cols].sum(1), W[np.arange(20)[:, None], rows, cols_ref].sum(1)
    )


@needs_native
def test_thread_count_does_not_change_results():
    J = np.random.default_rng(3).standard_normal((50, 30, 6))
    full = dto(J, backend="native")
    vaecore.set_num_threads(1)
    try:
        one = dto(J, backend="native")
    finally:
        vaecore.set_num_threads(0)
    np.testing.assert_array_equal(full.per_sample, one.per_sample)


# --------------------------------------------------------------------------- the facts


@pytest.mark.parametrize("backend", ["native", "reference"])
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_brute_force_over_all_signed_permutations(d, backend):
    """Facts 1–2: the assignment is L1- and Frobenius-optimal, ‖V−P‖² = 2d − 2Σ_P|V|."""
    rng = np.random.default_rng(d)
    candidates = np.stack(list(all_signed_permutations(d)))
    for trial in range(4):
        V = random_orthogonal(rng, d)
        if trial == 3:  # a near-tie: V close to a 45° rotation in the first plane
            V = np.eye(d)
            if d >= 2:
                c = np.cos(np.pi / 4 + 1e-9)
                s = np.sin(np.pi / 4 + 1e-9)
                V[:2, :2] = [[c, -s], [s, c]]
        l1 = np.abs(V - candidates).sum(axis=(1, 2))
        fro = np.linalg.norm(V - candidates, axis=(1, 2))
        P = closest_signed_permutation(V, backend=backend)
        assert P.shape == (d, d) and P.dtype == np.int8
        assert np.abs(V - P).sum() == pytest.approx(l1.min(), abs=1e-12)
        assert np.linalg.norm(V - P) == pytest.approx(fro.min(), abs=1e-12)
        chosen = np.abs(V)[P != 0].sum()
        assert np.linalg.norm(V - P) ** 2 == pytest.approx(2 * d - 2 * chosen, abs=1e-12)
        assert np.abs(V - P).sum() == pytest.approx(np.abs(V).sum() + d - 2 * chosen, abs=1e-12)
        P_milp = closest_signed_permutation(V, method="milp")
        assert np.abs(V - P_milp).sum() == pytest.approx(l1.min(), abs=1e-9)


def test_assignment_is_frobenius_closest_for_any_matrix_and_l1_closest_for_entries_in_unit_box():
    rng = np.random.default_rng(7)
    d = 4
    candidates = np.stack(list(all_signed_permutations(d)))
    for _ in range(10):
        A = rng.uniform(-3, 3, size=(d, d))  # not orthogonal
        P = closest_signed_permutation(A)
        assert np.linalg.norm(A - P) == pytest.approx(np.linalg.norm(A - candidates, axis=(1, 2)).min())
        B = rng.uniform(-1, 1, size=(d, d))
        P = closest_signed_permutation(B)
        assert np.abs(B - P).sum() == pytest.approx(np.abs(B - candidates).sum(axis=(1, 2)).min())


def test_milp_equals_assignment_on_near_ties():
    """With tolerances at 1e-10 the MILP reaches the assignment's optimum on near-ties."""
    rng = np.random.default_rng(11)
    c = np.sqrt(0.5)
    R = np.array([[c, -c], [c, c]])
    for _ in range(15):
        Q = random_orthogonal(rng, 4) if _ % 2 else np.eye(4)
        Vq, _r = np.linalg.qr(np.kron(np.eye(2), R) @ (np.eye(4) + 1e-6 * rng.standard_normal((4, 4))))
        V = Vq @ Q if _ % 3 == 0 else Vq
        P_milp, obj = ref.milp_signed_permutation(V)
        P_lap = closest_signed_permutation(V, backend="reference")
        assert obj == pytest.approx(np.abs(V - P_lap).sum(), abs=1e-9)
        assert obj == pytest.approx(np.abs(V - P_milp).sum(), abs=1e-12)


@needs_native
def test_gram_eigenvectors_equal_svd_vectors_up_to_column_signs():
    """Fact 3: V from eigh(JᵀJ) is the SVD's V up to column signs."""
    rng = np.random.default_rng(5)
    J = rng.standard_normal((20, 50, 6)) * np.array([5, 4, 3, 2, 1, 0.5])
    res = dto(J, backend="native")
    for i in range(20):
        _, s, vt = np.linalg.svd(J[i])
        V_svd = vt.T
        signs = np.sign(np.sum(V_svd * res.right_singular_vectors[i], axis=0))
        assert set(np.unique(signs)) <= {-1.0, 1.0}
        np.testing.assert_allclose(res.right_singular_vectors[i], V_svd * signs, atol=1e-9)
        np.testing.assert_allclose(res.singular_values[i] ** 2, s**2, rtol=1e-10)


# --------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_orthogonal_columns_with_distinct_norms_give_zero(backend):
    rng = np.random.default_rng(9)
    Js = []
    for _ in range(10):
        Q = random_orthogonal(rng, 30)[:, :5]
        Js.append(Q @ np.diag([5.0, 4.0, 3.0, 2.0, 1.0]) @ signed_permutation(rng, 5))
    res = dto(np.stack(Js), backend=backend)
    assert res.value < 1e-10
    np.testing.assert_allclose(res.singular_values, np.tile([5.0, 4.0, 3.0, 2.0, 1.0], (10, 1)), rtol=1e-12)
    np.testing.assert_allclose(res.min_relative_gap, 0.2, rtol=1e-12)  # (5 − 4) / 5


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_worked_example_of_section_3_2_4(backend):
    """M1 (x ↦ (4x+y, −3x+y, 5x−y)) against M2 = M1·R45ᵀ: 24.5 e^-C vs 52.4 e^-C."""
    M1 = np.array([[4.0, 1.0], [-3.0, 1.0], [5.0, -1.0]])
    c = np.sqrt(0.5)
    R45 = np.array([[c, -c], [c, c]])
    M2 = M1 @ R45.T
    r2 = np.sqrt(2.0)
    np.testing.assert_allclose(M2, [[3 * r2 / 2, 5 * r2 / 2], [-2 * r2, -r2], [3 * r2, 2 * r2]], atol=1e-14)
    norms1 = (M1**2).sum(axis=0)
    norms2 = (M2**2).sum(axis=0)
    np.testing.assert_allclose(norms1, [50.0, 3.0])
    np.testing.assert_allclose(norms2, [61 / 2, 45 / 2])
    assert 2 * np.sqrt(norms1.prod()) == pytest.approx(24.5, abs=0.05)  # eq. (3.21)
    assert 2 * np.sqrt(norms2.prod()) == pytest.approx(52.4, abs=0.05)  # eq. (3.22)
    # V of a 2-column matrix is a rotation by θ (up to column signs); the closest signed
    # permutation is I when |θ| < 45°, and ‖V − I‖_F = 2√(1 − cos θ).
    theta1 = 0.5 * np.arctan2(8.0, 47.0)  # eigenvectors of M1ᵀM1 = [[50, −4], [−4, 3]]
    res = dto(np.stack([M1, M2]), backend=backend)
    np.testing.assert_allclose(res.per_sample[0], 2 * np.sqrt(1 - np.cos(theta1)), rtol=1e-10)
    np.testing.assert_allclose(res.per_sample[1], 2 * np.sqrt(1 - np.cos(np.pi / 4 - theta1)), rtol=1e-10)
    assert res.per_sample[1] > 5 * res.per_sample[0]
    np.testing.assert_allclose(res.singular_values[0], res.singular_values[1], rtol=1e-12)


# --------------------------------------------------------------------------- invariances


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_invariant_to_signed_latent_permutation_and_output_rotation(backend):
    rng = np.random.default_rng(13)
    J = rng.standard_normal((15, 25, 5)) * np.array([3.0, 2.5, 2.0, 1.0, 0.3])
    base = dto(J, backend=backend)
    P = signed_permutation(rng, 5)
    Q = random_orthogonal(rng, 25)
    for transformed, scale in ((J @ P, 1.0), (Q @ J, 1.0), (3.7 * J, 3.7)):
        res = dto(transformed, backend=backend)
        np.testing.assert_allclose(res.per_sample, base.per_sample, atol=1e-9)
        np.testing.assert_allclose(res.singular_values, scale * base.singular_values, rtol=1e-9)


# --------------------------------------------------------------------------- API


def test_result_fields_and_as_dict():
    rng = np.random.default_rng(17)
    J = rng.standard_normal((8, 12, 3))
    res = dto(J)
    assert isinstance(res, DtOResult)
    assert res.per_sample.shape == (8,)
    assert res.singular_values.shape == (8, 3)
    assert res.permutations.shape == (8, 3, 3) and res.permutations.dtype == np.int8
    assert res.min_relative_gap.shape == (8,)
    assert res.right_singular_vectors.shape == (8, 3, 3)
    assert res.value == pytest.approx(res.per_sample.mean())
    assert float(res) == res.value
    assert np.all(res.per_sample >= 0) and np.all(res.per_sample <= np.sqrt(2 * 3))
    np.testing.assert_allclose(res.per_sample, np.linalg.norm(res.right_singular_vectors - res.permutations, axis=(1, 2)))
    d = json.loads(json.dumps(res.as_dict()))
    assert d["value"] == pytest.approx(res.value) and d["n_samples"] == 8 and d["n_latents"] == 3
    assert len(d["per_sample"]) == 8
    with pytest.raises(AttributeError):
        res.value = 1.0  # frozen


def test_single_matrix_torch_and_float32_inputs():
    rng = np.random.default_rng(19)
    J = rng.standard_normal((20, 4))
    a = dto(J)
    assert a.per_sample.shape == (1,)
    b = dto(torch.from_numpy(J))
    c = dto(J.astype(np.float32))
    e = dto(torch.from_numpy(J).to(torch.bfloat16))
    f = dto((J * 100).astype(np.int64))
    assert b.value == pytest.approx(a.value, abs=1e-12)
    assert c.value == pytest.approx(a.value, abs=1e-4)
    assert np.isfinite(e.value) and np.isfinite(f.value)


def test_milp_method_matches_lap_method():
    J = np.random.default_rng(23).standard_normal((10, 15, 4))
    for backend in ("auto", "reference"):
        a = dto(J, method="lap", backend=backend)
        b = dto(J, method="milp", backend=backend)
        np.testing.assert_allclose(a.per_sample, b.per_sample, atol=1e-9)
        assert b.method == "milp"


@pytest.mark.native
def test_active_mask_restricts_columns_and_passive_latents_flag_degeneracy():
    rng = np.random.default_rng(29)
    J = rng.standard_normal((6, 20, 5))
    J[:, :, [1, 3]] = 0.0  # two passive latents: two zero singular values
    full = dto(J)
    np.testing.assert_array_equal(full.min_relative_gap, 0.0)
    np.testing.assert_allclose(full.singular_values[:, 3:], 0.0, atol=1e-12)
    mask = np.array([True, False, True, False, True])
    res = dto(J, active=mask)
    ref_res = dto(J[:, :, mask])
    np.testing.assert_allclose(res.per_sample, ref_res.per_sample)
    assert np.all(res.min_relative_gap > 0)
    assert res.as_dict()["active"] == mask.tolist()
    np.testing.assert_allclose(dto(J, active=torch.ones(5, dtype=torch.bool)).per_sample, full.per_sample)


def test_relative_gap_closed_form():
    J = np.diag([4.0, 3.0, 2.9, 1.0])[None]
    res = dto(J)
    assert res.min_relative_gap[0] == pytest.approx(0.1 / 3.0)
    assert dto(np.ones((3, 1))).min_relative_gap[0] == 1.0


def test_jacobians_feed_dto():
    torch.manual_seed(0)
    A = torch.linalg.qr(torch.randn(30, 4, dtype=torch.float64))[0] * torch.tensor([4.0, 3.0, 2.0, 1.0], dtype=torch.float64)
    J = vaecore.jacobians(lambda z: z @ A.T, torch.randn(7, 4, dtype=torch.float64))
    assert dto(J).value < 1e-10


# --------------------------------------------------------------------------- bad input


def test_nan_and_inf_name_the_first_bad_sample():
    J = np.random.default_rng(0).standard_normal((6, 10, 3))
    J[3, 2, 1] = np.nan
    J[5, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"dto: jacobians must be finite; got NaN or inf in sample 3 \(entry \(2, 1\)\)"):
        dto(J)
    J[3, 2, 1] = 0.0
    with pytest.raises(ValueError, match="in sample 5"):
        dto(J.astype(np.float32), backend="reference")


def test_huge_finite_values_are_not_mistaken_for_inf():
    J = np.full((2, 4, 2), 3e38, dtype=np.float32)
    J[:, :, 1] = np.arange(4, dtype=np.float32)
    assert np.isfinite(dto(J).value)


@pytest.mark.parametrize(
    ("bad", "exc", "match"),
    [
        (np.zeros(5), ValueError, r"dto: jacobians must have 3 dimensions \(N, n_out, d\) or 2 \(n_out, d\); got shape \(5,\)"),
        (np.zeros((2, 3, 4, 5)), ValueError, "must have 3 dimensions"),
        (np.zeros((2, 3, 5)), ValueError, r"dto: jacobians must have n_out >= d .*; got n_out=3, d=5"),
        (np.zeros((0, 5, 3)), ValueError, r"dto: jacobians must hold at least one sample; got shape \(0, 5, 3\)"),
        (np.zeros((2, 5, 0)), ValueError, "must have at least one latent column"),
        (np.zeros((2, 5, 3), dtype=bool), TypeError, "dto: jacobians must have a real numeric dtype; got dtype bool"),
        (np.zeros((2, 5, 3), dtype=complex), TypeError, "must have a real numeric dtype; got dtype complex128"),
        (np.array([["a", "b"]]), TypeError, "must have a real numeric dtype"),
        ("matrix", TypeError, "dto: jacobians must be an array"),
        (None, TypeError, "dto: jacobians must be an array"),
        (torch.zeros(2, 5, 3, dtype=torch.bool), TypeError, "real numeric dtype; got torch.bool"),
    ],
)
def test_bad_jacobians(bad, exc, match):
    with pytest.raises(exc, match=match):
        dto(bad)


def test_bad_options():
    J = np.random.default_rng(0).standard_normal((2, 5, 3))
    with pytest.raises(ValueError, match=r"dto: method must be one of \('lap', 'milp'\); got 'hungarian'"):
        dto(J, method="hungarian")
    with pytest.raises(ValueError, match=r"dto: backend must be one of \('auto', 'native', 'reference'\); got 'cpp'"):
        dto(J, backend="cpp")
    with pytest.raises(TypeError, match="dto: active must be a boolean mask over latents; got dtype int64"):
        dto(J, active=np.array([1, 0, 1]))
    with pytest.raises(ValueError, match=r"dto: active must have shape \(3,\) \(one flag per latent\); got shape \(2,\)"):
        dto(J, active=np.array([True, False]))
    with pytest.raises(ValueError, match="dto: active must select at least one latent; got all False"):
        dto(J, active=np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="n_out >= d"):
        dto(np.zeros((1, 2, 4)), active=np.array([True, True, True, False]))


def test_closest_signed_permutation_bad_input():
    with pytest.raises(ValueError, match=r"closest_signed_permutation: V must be a non-empty square matrix .*; got shape \(2, 3\)"):
        closest_signed_permutation(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"closest_signed_permutation: V must be finite; got NaN or inf in matrix 0"):
        closest_signed_permutation(np.array([[np.nan, 0.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="closest_signed_permutation: method must be one of"):
        closest_signed_permutation(np.eye(2), method="greedy")
    with pytest.raises(TypeError, match="closest_signed_permutation: V must have a real numeric dtype"):
        closest_signed_permutation(np.eye(2, dtype=bool))
    batch = closest_signed_permutation(np.stack([np.eye(3), -np.eye(3)[::-1]]))
    np.testing.assert_array_equal(batch, np.stack([np.eye(3), -np.eye(3)[::-1]]).astype(np.int8))


@needs_native
def test_float32_overload_gives_the_exact_float64_result():
    """float32 products are exact in float64, so the float32 overload must match bit for bit."""
    J32 = np.random.default_rng(31).standard_normal((9, 50, 6)).astype(np.float32)
    core = _native.native()
    a = core.dto(J32)
    b = core.dto(J32.astype(np.float64))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(core.gram(J32), core.gram(J32.astype(np.float64)))


@needs_native
def test_kernel_contract_checks_raise_value_error():
    core = _native.native()
    with pytest.raises(ValueError, match="dto: jacobians must have 3 dimensions; got 2"):
        core.dto(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="dto: jacobians must have n_out >= d; got n_out=2, d=3"):
        core.dto(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="sym_eig: matrices must be square"):
        core.sym_eig(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="closest_signed_permutation: V must be square"):
        core.closest_signed_permutation(np.zeros((1, 2, 3)))
