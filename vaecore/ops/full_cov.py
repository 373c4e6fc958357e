"""``full_cov_rsample``: the fused reparameterisation + KL of the β-VAE-Σ (thesis §3.2.7).

Dispatch: CPU tensors go to the C++ kernel (``vaecore._core.full_cov_forward/backward``),
CUDA tensors to the CUDA kernel (``vaecore._cuda``, launched on torch's current stream through
raw device pointers), ``backend="reference"`` to the pure-torch twin
:func:`vaecore.reference.full_cov.full_cov_rsample`. Gradients are exact (closed form, see
``csrc/full_cov.cpp``) for ``mu``, ``scale_tril`` (lower triangle; zeros above) and ``eps``.
"""

from __future__ import annotations

import torch

from vaecore import _native
from vaecore._validation import check_option
from vaecore.reference import full_cov as _reference

__all__ = ["full_cov_rsample"]

_FUNC = "full_cov_rsample"


def _cuda_forward(mu: torch.Tensor, L: torch.Tensor, eps: torch.Tensor):
    mod = _native.cuda_module()
    B, k = mu.shape
    z = torch.empty_like(mu)
    kl = torch.empty(B, dtype=mu.dtype, device=mu.device)
    status = torch.zeros(2, dtype=torch.int64, device=mu.device)
    stream = torch.cuda.current_stream(mu.device).cuda_stream
    mod.full_cov_forward(
        mu.data_ptr(), L.data_ptr(), eps.data_ptr(), z.data_ptr(), kl.data_ptr(),
        status.data_ptr(), B, k, mu.dtype == torch.float64, stream,
    )
    code, sample = (int(v) for v in status.cpu())
    if code == 1:
        raise ValueError(
            f"{_FUNC}: scale_tril must have a positive, finite diagonal; got a non-positive or "
            f"non-finite diagonal entry in sample {sample}"
        )
    if code == 2:
        raise ValueError(
            f"{_FUNC}: mu, scale_tril and eps must be finite; got a non-finite value (or overflow) "
            f"in sample {sample}"
        )
    return z, kl


def _cuda_backward(mu, L, eps, gz, gk, need_eps):
    mod = _native.cuda_module()
    B, k = mu.shape
    gmu = torch.empty_like(mu)
    gL = torch.empty_like(L)
    geps = torch.empty_like(eps) if need_eps else None
    stream = torch.cuda.current_stream(mu.device).cuda_stream
    mod.full_cov_backward(
        mu.data_ptr(), L.data_ptr(), eps.data_ptr(), gz.data_ptr(), gk.data_ptr(),
        gmu.data_ptr(), gL.data_ptr(), geps.data_ptr() if need_eps else 0,
        B, k, mu.dtype == torch.float64, stream,
    )
    return gmu, gL, geps


class _FullCovFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, mu, scale_tril, eps):  # type: ignore[override]
        mu = mu.contiguous()
        scale_tril = scale_tril.contiguous()
        eps = eps.contiguous()
        if mu.is_cuda:
            with torch.cuda.device(mu.device):
                z, kl = _cuda_forward(mu, scale_tril, eps)
        else:
            z_np, kl_np = _native.native().full_cov_forward(
                mu.numpy(), scale_tril.numpy(), eps.numpy()
            )
            z, kl = torch.from_numpy(z_np), torch.from_numpy(kl_np)
        ctx.save_for_backward(mu, scale_tril, eps)
        return z, kl

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_z, grad_kl):  # type: ignore[override]
        mu, L, eps = ctx.saved_tensors
        need_eps = bool(ctx.needs_input_grad[2])
        gz = grad_z.contiguous()
        gk = grad_kl.contiguous()
        if mu.is_cuda:
            with torch.cuda.device(mu.device):
                gmu, gL, geps = _cuda_backward(mu, L, eps, gz, gk, need_eps)
        else:
            gmu_np, gL_np, geps_np = _native.native().full_cov_backward(
                mu.numpy(), L.numpy(), eps.numpy(), gz.numpy(), gk.numpy(), need_eps
            )
            gmu, gL = torch.from_numpy(gmu_np), torch.from_numpy(gL_np)
            geps = torch.from_numpy(geps_np) if need_eps else None
        return gmu, gL, geps


def _check(mu: object, scale_tril: object, eps: object) -> None:
    for name, t in (("mu", mu), ("scale_tril", scale_tril), ("eps", eps)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{_FUNC}: {name} must be a torch.Tensor; got {type(t).__name__}")
        if t.dtype not in (torch.float32, torch.float64):
            raise TypeError(f"{_FUNC}: {name} must be float32 or float64; got {t.dtype}")
    assert isinstance(mu, torch.Tensor) and isinstance(scale_tril, torch.Tensor)
    assert isinstance(eps, torch.Tensor)
    if mu.ndim != 2 or mu.shape[1] < 1:
        raise ValueError(f"{_FUNC}: mu must have shape (B, k) with k >= 1; got {tuple(mu.shape)}")
    B, k = mu.shape
    if tuple(scale_tril.shape) != (B, k, k):
        raise ValueError(
            f"{_FUNC}: scale_tril must have shape (B, k, k) = {(B, k, k)}; got {tuple(scale_tril.shape)}"
        )
    if tuple(eps.shape) != (B, k):
        raise ValueError(f"{_FUNC}: eps must have shape (B, k) = {(B, k)}; got {tuple(eps.shape)}")
    if scale_tril.dtype != mu.dtype or eps.dtype != mu.dtype:
        raise TypeError(
            f"{_FUNC}: mu, scale_tril and eps must share one dtype; got "
            f"{mu.dtype}, {scale_tril.dtype}, {eps.dtype}"
        )
    if scale_tril.device != mu.device or eps.device != mu.device:
        raise ValueError(
            f"{_FUNC}: mu, scale_tril and eps must be on one device; got "
            f"{mu.device}, {scale_tril.device}, {eps.device}"
        )


def _check_values_reference(mu: torch.Tensor, scale_tril: torch.Tensor, eps: torch.Tensor) -> None:
    diag = torch.diagonal(scale_tril, dim1=-2, dim2=-1)
    bad = ~(diag > 0) | ~torch.isfinite(diag)
    if bool(bad.any()):
        b, i = (int(v) for v in torch.nonzero(bad)[0])
        raise ValueError(
            f"{_FUNC}: scale_tril must have a positive, finite diagonal; got "
            f"scale_tril[{b}, {i}, {i}] = {float(diag[b, i])}"
        )
    for name, t in (("mu", mu), ("scale_tril", torch.tril(scale_tril)), ("eps", eps)):
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{_FUNC}: {name} must be finite; got NaN or inf")


def _check_outputs_reference(z: torch.Tensor, kl: torch.Tensor) -> None:
    """The twin's outputs must be finite too: finite inputs can overflow in ‖μ‖², tr LLᵀ or
    μ + Lε (the native kernels report the same case with the same message)."""
    with torch.no_grad():
        bad = ~torch.isfinite(kl) | ~torch.isfinite(z).all(dim=-1)
    if bool(bad.any()):
        raise ValueError(
            f"{_FUNC}: mu, scale_tril and eps must be finite; got a non-finite value (or overflow) "
            f"in sample {int(torch.nonzero(bad)[0, 0])}"
        )


def full_cov_rsample(
    mu: torch.Tensor,
    scale_tril: torch.Tensor,
    eps: torch.Tensor,
    *,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fused full-covariance reparameterisation and KL to the standard normal (thesis §3.2.7).

    Computes, per sample b,

    * ``z_b = mu_b + L_b eps_b`` (eq. 3.31, ``L_b`` = the lower triangle of ``scale_tril[b]``),
    * ``kl_b = ½ (‖mu_b‖² + tr L_b L_bᵀ − log det L_b L_bᵀ − k)`` (eq. 3.30),

    with exact gradients for all three inputs.

    Parameters
    ----------
    mu : torch.Tensor, shape (B, k)
        Posterior means.
    scale_tril : torch.Tensor, shape (B, k, k)
        Cholesky factors; only the lower triangle is read (the upper triangle receives zero
        gradient); the diagonal must be positive.
    eps : torch.Tensor, shape (B, k)
        Standard-normal noise.
    backend : {"auto", "native", "reference"}
        "auto"/"native": the C++ kernel for CPU tensors, the CUDA kernel for CUDA tensors;
        "reference": the pure-torch twin. "auto" falls back to the twin when the compiled
        module is missing.

    Returns
    -------
    z : torch.Tensor, shape (B, k)
    kl : torch.Tensor, shape (B,)

    Raises
    ------
    TypeError
        Non-tensors, non-float dtypes, mixed dtypes.
    ValueError
        Wrong shapes, mixed devices, a non-positive diagonal or non-finite values (the native
        kernels check the values they read in the same pass and name the sample).
    """
    check_option(_FUNC, "backend", backend, _native.BACKENDS)
    _check(mu, scale_tril, eps)
    use = _native.resolve_backend(_FUNC, backend)
    if use == "native" and mu.is_cuda and not _native.has_cuda():
        if backend == "native":
            _native.cuda_module()
            raise RuntimeError(f"{_FUNC}: CUDA tensors given but torch sees no CUDA device")
        use = "reference"
    if use == "reference":
        _check_values_reference(mu, scale_tril, eps)
        z, kl = _reference.full_cov_rsample(mu, scale_tril, eps)
        _check_outputs_reference(z, kl)
        return z, kl
    if mu.shape[0] == 0:
        return _reference.full_cov_rsample(mu, scale_tril, eps)
    z, kl = _FullCovFunction.apply(mu, scale_tril, eps)
    return z, kl
