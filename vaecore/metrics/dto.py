r"""Distance to orthogonality (DtO) of decoder Jacobians — thesis §3.2.6, eq. (3.25)–(3.29).

For Jacobians ``J_i = U_i Σ_i V_iᵀ`` (i = 1…N)

.. math:: \mathrm{DtO} = \frac1N \sum_i \lVert V_i - P(V_i) \rVert_F ,

with ``P(V)`` the signed permutation matrix closest to ``V`` in the entrywise L1 sense,
which the thesis finds with the MILP (3.29). Three facts make this cheap; they are proved
here and checked in ``tests/test_dto.py``.

**Fact 1 (L1 = assignment).** Let ``P`` be a signed permutation with support
``π = {(i, σ(i))}`` and signs ``s_ij``, and let ``|V_ij| ≤ 1`` (true for every orthogonal
``V``). Off the support ``|V_ij − 0| = |V_ij|``; on it
``|V_ij − s_ij| ≥ 1 − |V_ij|``, with equality iff ``s_ij = sign V_ij`` (either sign when
``V_ij = 0``). Hence

.. math:: \sum_{ij} |V_{ij} - P_{ij}| \;\ge\; \sum_{ij}|V_{ij}| + d - 2\sum_{(i,j)\in\pi} |V_{ij}|,

with equality when the signs follow ``V``. The right side depends on ``P`` only through
``S(π) = Σ_{(i,j)∈π} |V_ij|``, so the L1-closest signed permutation is a maximum-weight
perfect assignment on ``|V|`` (Hungarian / Jonker–Volgenant, O(d³)) with the signs of the
chosen entries: the MILP (3.29) and the assignment have the same optimum.

**Fact 2 (Frobenius agrees).** For any real ``V`` and signed permutation ``P``,
``‖V − P‖²_F = ‖V‖²_F + d − 2⟨V, P⟩`` and ``⟨V, P⟩ ≤ S(π)`` with equality for matching
signs; so the Frobenius-closest signed permutation is the same maximiser of ``S``. For
orthogonal ``V`` (``‖V‖²_F = d``): ``‖V − P‖²_F = 2d − 2 S(π)``. Both objectives are
decreasing functions of ``S(π)``, so the L1- and Frobenius-closest agree (ties included).

**Fact 3 (only V is needed).** ``JᵀJ = V Σ² Vᵀ``, so the eigenvectors of the d × d Gram
matrix are the right singular vectors and its eigenvalues the squared singular values.
With distinct singular values each eigenvector is unique up to sign, and DtO does not see
column signs: flipping column j of ``V`` and of ``P`` together keeps ``‖V − P‖_F`` and
keeps ``P`` a signed permutation. With (near-)equal singular values ``V`` is not unique
(§3.3.4, Prop. 1), which :attr:`DtOResult.min_relative_gap` flags.

The native path therefore accumulates ``JᵀJ`` in float64 (one read of each Jacobian),
diagonalises it with Jacobi rotations and solves the assignment, all in C++; the reference
path is the thesis's recipe (numpy SVD + the MILP in HiGHS, ``vaecore.reference``).
DtO does not depend on the scale of J: a Jacobian whose Gram matrix would overflow or
underflow (entries beyond ~1e154 or below ~1e-162) is rescaled by an exact power of two, and
the same pass rejects NaN/inf (naming the first bad sample). Forming ``JᵀJ`` squares the
condition number, so when the Gram eigenvalues say it is unsafe (cond(J) > 1e3, or a
predicted eigenvector error above 1e-9) V comes from Householder QR of J and one-sided
Jacobi of R instead (in double up to cond ~1e6, in x87 extended precision beyond): within 1e-8 of the exact DtO of the stored matrix
for cond(J) up to ~1e8 and ~3e-8 at 2e12, while the float64 SVD twin itself is off by about
eps · cond / gap there (``tests/test_dto_robust.py``).
``‖V − P‖_F`` is evaluated entrywise, not as ``√(2d − 2S)``, which would lose half the
digits when ``V ≈ P``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from vaecore._native import native, resolve_backend
from vaecore._validation import check_option, to_numpy
from vaecore.reference import orthogonality as _ref

__all__ = ["DtOResult", "closest_signed_permutation", "dto"]

METHODS = ("lap", "milp")


@dataclass(frozen=True, eq=False)
class DtOResult:
    """Result of :func:`dto`.

    Attributes
    ----------
    value : float
        Mean DtO over the samples (eq. 3.25); 0 for perfectly orthogonal Jacobians, at most
        ``√(2d)``.
    per_sample : ndarray (N,)
        ``‖V_i − P(V_i)‖_F`` per Jacobian.
    singular_values : ndarray (N, d)
        Singular values of each Jacobian, descending.
    permutations : ndarray of int8 (N, d, d)
        The closest signed permutation ``P(V_i)`` per sample (rows = latents, columns =
        right singular vectors, ordered as ``singular_values``).
    min_relative_gap : ndarray (N,)
        Smallest ``(s_k − s_{k+1}) / s_k`` over consecutive singular values; near 0 means
        ``V_i`` is ill-defined (§3.3.4) and so is its DtO. 1 when d = 1.
    right_singular_vectors : ndarray (N, d, d)
        ``V_i`` (columns), each column's largest-magnitude entry positive.
    method, backend : str
        How ``P`` and ``V`` were computed.
    active : ndarray of bool (d_all,) or None
        The latent mask that was applied, if any.
    """

    value: float
    per_sample: np.ndarray
    singular_values: np.ndarray
    permutations: np.ndarray
    min_relative_gap: np.ndarray
    right_singular_vectors: np.ndarray
    method: str
    backend: str
    active: np.ndarray | None = None

    def __float__(self) -> float:
        return float(self.value)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able summary: the mean, spread, sizes, gap statistics and per-sample values."""
        return {
            "value": float(self.value),
            "std": float(self.per_sample.std()),
            "n_samples": int(self.per_sample.shape[0]),
            "n_latents": int(self.singular_values.shape[1]),
            "method": self.method,
            "backend": self.backend,
            "active": None if self.active is None else [bool(a) for a in self.active],
            "min_relative_gap": float(self.min_relative_gap.min()),
            "median_relative_gap": float(np.median(self.min_relative_gap)),
            "mean_singular_values": [float(s) for s in self.singular_values.mean(axis=0)],
            "per_sample": [float(v) for v in self.per_sample],
        }


def _float_array(func: str, name: str, x: Any) -> np.ndarray:
    """numpy view of ``x`` as float32/float64 (kept) or float64 (other numeric dtypes)."""
    try:
        import torch

        if isinstance(x, torch.Tensor):
            if x.is_complex() or x.dtype == torch.bool:
                raise TypeError(f"{func}: {name} must have a real numeric dtype; got {x.dtype}")
            if x.dtype in (torch.float16, torch.bfloat16):
                x = x.float()
    except ImportError:  # pragma: no cover
        pass
    arr = to_numpy(func, name, x)
    if arr.dtype == object or arr.dtype.kind not in "iuf":
        raise TypeError(f"{func}: {name} must have a real numeric dtype; got dtype {arr.dtype}")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    return np.ascontiguousarray(arr)


def _check_finite(func: str, name: str, arr: np.ndarray, what: str) -> None:
    """Reject NaN/inf naming the first bad sample; one cheap pass (per-sample sums)."""
    if arr.size == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        sums = arr.reshape(arr.shape[0], -1).sum(axis=1)
    for i in np.flatnonzero(~np.isfinite(sums)):  # sums also overflow for huge finite values
        bad = ~np.isfinite(arr[i])
        if bad.any():
            entry = tuple(int(k) for k in np.argwhere(bad)[0])
            raise ValueError(
                f"{func}: {name} must be finite; got NaN or inf in {what} {int(i)} (entry {entry})"
            )


def _check_active(func: str, active: Any, d: int) -> np.ndarray:
    mask = to_numpy(func, "active", active)
    if mask.dtype != np.bool_:
        raise TypeError(f"{func}: active must be a boolean mask over latents; got dtype {mask.dtype}")
    if mask.shape != (d,):
        raise ValueError(
            f"{func}: active must have shape ({d},) (one flag per latent); got shape {mask.shape}"
        )
    if not mask.any():
        raise ValueError(f"{func}: active must select at least one latent; got all False")
    return mask


def dto(
    jacobians: Any,
    *,
    method: Literal["lap", "milp"] = "lap",
    active: Any = None,
    backend: Literal["auto", "native", "reference"] = "auto",
) -> DtOResult:
    """Distance to orthogonality of decoder Jacobians (thesis §3.2.6, eq. 3.25).

    Parameters
    ----------
    jacobians : array (N, n_out, d) or (n_out, d)
        Decoder Jacobians (numpy or torch, any real dtype; float32 is not copied), e.g. from
        :func:`vaecore.jacobians`. Requires ``n_out ≥ d`` (after ``active``).
    method : {"lap", "milp"}
        ``"lap"``: exact maximum-weight assignment on ``|V|`` (Fact 1 in the module docstring:
        same optimum as the MILP). ``"milp"``: the MILP (3.29) in HiGHS, as in the thesis.
    active : bool array (d,), optional
        Keep only these latents (columns of J), e.g. the active units (§3.3.2); passive
        latents have vanishing singular values, which make ``V`` ill-defined.
    backend : {"auto", "native", "reference"}
        How ``V`` (and, for ``method="lap"``, ``P``) is computed: ``"native"`` — C++ Gram
        matrix + Jacobi eigendecomposition + Hungarian assignment; ``"reference"`` — numpy SVD
        + scipy assignment (``"lap"``) or the MILP (``"milp"``). ``"auto"``: native if built.

    Returns
    -------
    DtOResult
        ``.value`` (mean DtO), ``.per_sample``, ``.singular_values``, ``.permutations``,
        ``.min_relative_gap``, ``.right_singular_vectors``; ``.as_dict()``.

    Raises
    ------
    TypeError
        Non-numeric, boolean or complex ``jacobians``; non-boolean ``active``.
    ValueError
        Wrong ndim, empty batch, ``d = 0``, ``d > n_out``, NaN/inf (naming the first bad
        sample), a bad ``active`` mask, an unknown ``method`` or ``backend``.

    Notes
    -----
    Exact at every finite scale of ``jacobians``; singular values beyond the float64 range
    (entries near 1.8e308) are reported as inf. Numpy inputs that are already C-contiguous
    float32/float64 are not copied; other layouts, dtypes and ``active`` masks copy once.

    Examples
    --------
    >>> import numpy as np, vaecore
    >>> J = np.diag([3.0, 2.0, 1.0])[None]          # orthogonal columns, distinct norms
    >>> vaecore.metrics.dto(J).value
    0.0
    """
    func = "dto"
    check_option(func, "method", method, METHODS)
    path = resolve_backend(func, backend)
    J = _float_array(func, "jacobians", jacobians)
    if J.ndim == 2:
        J = J[None]
    if J.ndim != 3:
        raise ValueError(
            f"{func}: jacobians must have 3 dimensions (N, n_out, d) or 2 (n_out, d); "
            f"got shape {tuple(J.shape)}"
        )
    if J.shape[0] == 0:
        raise ValueError(f"{func}: jacobians must hold at least one sample; got shape {tuple(J.shape)}")
    mask = None
    if active is not None:
        mask = _check_active(func, active, J.shape[2])
        if not mask.all():
            J = np.ascontiguousarray(J[:, :, mask])
    n_out, d = J.shape[1], J.shape[2]
    if d == 0:
        raise ValueError(f"{func}: jacobians must have at least one latent column; got shape {tuple(J.shape)}")
    if d > n_out:
        raise ValueError(
            f"{func}: jacobians must have n_out >= d (at least as many outputs as latents); "
            f"got n_out={n_out}, d={d}"
        )
    if path == "native":
        # The kernel checks finiteness inside its Gram pass (same message, first bad sample).
        per_sample, sv, P, gap, V = native().dto(J)
        if method == "milp":
            P, per_sample = _ref.closest_signed_permutation(V)
    else:
        _check_finite(func, "jacobians", J, "sample")
        per_sample, sv, P, gap, V = _ref.dto(J, method=method)
    return DtOResult(
        value=float(per_sample.mean()),
        per_sample=per_sample,
        singular_values=sv,
        permutations=P,
        min_relative_gap=gap,
        right_singular_vectors=V,
        method=method,
        backend=path,
        active=mask,
    )


def closest_signed_permutation(
    V: Any,
    *,
    method: Literal["lap", "milp"] = "lap",
    backend: Literal["auto", "native", "reference"] = "auto",
) -> np.ndarray:
    """The signed permutation matrix closest to ``V`` (thesis §3.2.6, eq. 3.26).

    Parameters
    ----------
    V : array (d, d) or (N, d, d)
        Square matrices, typically orthogonal (right singular vectors).
    method : {"lap", "milp"}
        ``"lap"``: maximum-weight assignment on ``|V|`` with the signs of the chosen entries —
        the Frobenius-closest signed permutation for any real ``V`` and the L1-closest one
        whenever ``|V_ij| ≤ 1`` (Facts 1–2 in the module docstring). ``"milp"``: the MILP (3.29).
    backend : {"auto", "native", "reference"}
        For ``"lap"``: C++ Hungarian or scipy's ``linear_sum_assignment``.

    Returns
    -------
    ndarray of int8, shape like ``V``
        Entries in {-1, 0, 1}, exactly one nonzero per row and per column. Ties are broken
        deterministically (any tie gives the same distance).
    """
    func = "closest_signed_permutation"
    check_option(func, "method", method, METHODS)
    path = resolve_backend(func, backend)
    arr = _float_array(func, "V", V)
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2] or arr.shape[1] == 0:
        raise ValueError(
            f"{func}: V must be a non-empty square matrix (d, d) or a batch (N, d, d); "
            f"got shape {tuple(np.shape(V))}"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{func}: V must hold at least one matrix; got shape {tuple(arr.shape)}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    _check_finite(func, "V", arr, "matrix")
    if method == "milp":
        P, _ = _ref.closest_signed_permutation(arr)
    elif path == "native":
        P, _ = native().closest_signed_permutation(arr)
    else:
        P, _ = _ref._lap_signed_permutation(arr)
    return P[0] if single else P
