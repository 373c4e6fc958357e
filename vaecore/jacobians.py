"""Decoder Jacobians ``J_i = ∂Dec(z)/∂z`` at many latent points (thesis §3.2.6).

Forward-mode autodiff (``torch.func.jacfwd``) under ``torch.func.vmap``: for a decoder
``R^d → R^{n_out}`` with ``d ≪ n_out`` one forward pass per latent direction costs
about ``d`` forward passes per point, while reverse mode would need one backward pass
per *output* (thousands). Points are processed in chunks of ``chunk_size`` so memory
stays bounded by ``chunk_size · d`` simultaneous forward passes plus the result.
"""

from __future__ import annotations

import functools
import importlib
import warnings
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import torch

from vaecore._forward_mode import layerwise_jacobian, layerwise_plan
from vaecore._validation import check_int, check_option

__all__ = ["jacobians"]

_OF = ("mean", "logits")
_METHODS = ("auto", "layerwise", "jacfwd")


@functools.cache
def _load_forward_ad_decompositions() -> None:
    """Import torch's forward-AD decompositions once, silencing torch's own warning.

    torch.func.jacfwd imports ``torch._decomp.decompositions_for_jvp`` on first use, which
    calls the deprecated ``torch.jit.script`` and emits a DeprecationWarning from inside
    torch (not actionable by vaecore users); import it here with that warning muted.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*", category=DeprecationWarning)
        try:
            importlib.import_module("torch._decomp.decompositions_for_jvp")
        except ImportError:  # pragma: no cover - layout of other torch versions
            pass


def _as_latents(z: Any, decoder: Any) -> torch.Tensor:
    func = "jacobians"
    if isinstance(z, np.ndarray):
        if z.dtype.kind not in "iuf":
            raise TypeError(f"{func}: z must have a numeric dtype; got dtype {z.dtype}")
        z = torch.from_numpy(np.ascontiguousarray(z))
    elif not isinstance(z, torch.Tensor):
        raise TypeError(f"{func}: z must be a numpy array or torch tensor; got {type(z).__name__}")
    if z.dtype == torch.bool or z.is_complex():
        raise TypeError(f"{func}: z must have a real floating or integer dtype; got {z.dtype}")
    if z.ndim != 2:
        raise ValueError(f"{func}: z must have 2 dimensions (N, d); got shape {tuple(z.shape)}")
    if z.shape[0] == 0 or z.shape[1] == 0:
        raise ValueError(f"{func}: z must have at least 1 row and 1 column; got shape {tuple(z.shape)}")
    param = None
    if isinstance(decoder, torch.nn.Module):
        param = next(iter(decoder.parameters()), None)
    if param is not None:
        z = z.to(device=param.device, dtype=param.dtype)
    elif not z.is_floating_point():
        z = z.to(torch.get_default_dtype())
    if not bool(torch.isfinite(z).all()):
        row = int(torch.nonzero(~torch.isfinite(z))[0, 0])
        raise ValueError(f"{func}: z must be finite; got NaN or inf in row {row}")
    return z


def jacobians(
    decoder: torch.nn.Module | Callable[[torch.Tensor], torch.Tensor],
    z: torch.Tensor | np.ndarray,
    *,
    chunk_size: int = 256,
    of: Literal["mean", "logits"] = "mean",
    method: Literal["auto", "layerwise", "jacfwd"] = "auto",
) -> torch.Tensor:
    """Jacobians of a decoder at the rows of ``z``, batched with forward-mode autodiff.

    Parameters
    ----------
    decoder
        ``nn.Module`` or callable mapping a batch ``(B, d)`` to ``(B, ...)``; the output of
        each point is flattened to ``n_out`` values. It must treat batch rows independently
        (put BatchNorm/Dropout layers in eval mode first). Parameters are not differentiated.
    z : array (N, d)
        Latent points (numpy or torch). Cast to the dtype and device of the decoder's first
        parameter when it has one.
    chunk_size
        Points per vectorised batch; peak extra memory grows with ``chunk_size · d``.
    of
        ``"mean"``: the Jacobian of the decoder's mean output — ``sigmoid(logits)`` when
        ``decoder.likelihood == "bernoulli"`` (vaecore decoders carry ``.likelihood``), the raw
        output otherwise. ``"logits"``: the raw output.
    method
        ``"layerwise"``: push the ``d`` tangents through the layers of a sequential decoder
        (``Linear``/``Conv2d``/``ConvTranspose2d``, element-wise activations, reshapes; see
        :mod:`vaecore._forward_mode`), at the cost floor of ``d + 1`` forward passes;
        ``"jacfwd"``: ``vmap(jacfwd)``, any decoder; ``"auto"`` (default): layerwise when the
        decoder is built only of supported modules, else jacfwd. Both are forward-mode autodiff
        and agree to float rounding.

    Returns
    -------
    torch.Tensor, shape (N, n_out, d)
        ``J[i, k, j] = ∂ out_k / ∂ z_j`` at ``z[i]`` (same dtype and device as the decoder).

    Notes
    -----
    Thesis §3.2.6 measures the distance to orthogonality of these Jacobians (eq. 3.25);
    feed the result to :func:`vaecore.metrics.dto`.
    """
    func = "jacobians"
    if not callable(decoder):
        raise TypeError(f"{func}: decoder must be an nn.Module or callable; got {type(decoder).__name__}")
    chunk = check_int(func, "chunk_size", chunk_size, minimum=1)
    check_option(func, "of", of, _OF)
    zt = _as_latents(z, decoder)
    squash = of == "mean" and getattr(decoder, "likelihood", None) == "bernoulli"

    check_option(func, "method", method, _METHODS)
    steps = layerwise_plan(decoder) if method != "jacfwd" else None
    if method == "layerwise" and steps is None:
        raise ValueError(
            f"{func}: method='layerwise' needs a decoder made of nn.Sequential, Linear, Conv2d, "
            "ConvTranspose2d, element-wise activations and reshapes; use method='jacfwd' or 'auto'"
        )
    if steps is not None:
        def jac(points: torch.Tensor) -> torch.Tensor:
            return layerwise_jacobian(steps, points, squash)
    else:
        def single(point: torch.Tensor) -> torch.Tensor:
            out = decoder(point.unsqueeze(0))
            if squash:
                out = torch.sigmoid(out)
            return out.reshape(-1)

        _load_forward_ad_decompositions()
        jac = torch.func.vmap(torch.func.jacfwd(single))
    n = zt.shape[0]
    with torch.no_grad():
        first = jac(zt[:chunk])
        if first.shape[0] == n:
            return first.contiguous()
        # Preallocate once: peak memory = result + one chunk's work, no concatenation copy.
        out = first.new_empty((n, *first.shape[1:]))
        out[: first.shape[0]] = first
        del first
        for start in range(chunk, n, chunk):
            part = jac(zt[start : start + chunk])
            out[start : start + part.shape[0]] = part
    return out
