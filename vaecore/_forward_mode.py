"""Layer-wise forward-mode Jacobians of sequential decoders (the fast path of :func:`vaecore.jacobians`).

For a decoder built of ``nn.Sequential`` containers, affine layers (``Linear``, ``Conv2d``,
``ConvTranspose2d``), element-wise activations and reshapes, the Jacobian at a batch of points is
pushed through the network alongside the activations: for every point the ``d`` tangent vectors
``T`` (one per latent direction) go through the *linear part* of each affine layer (no bias) and
are multiplied by the activation's derivative, evaluated from the primal values already computed.
That is exactly forward-mode autodiff (the same rules ``torch.func.jvp`` applies) with the tangent
batch laid out as ``(B · d, ...)`` so every layer runs as one ordinary batched call, without
``vmap``'s per-operator batching rules; its cost is one forward pass for the primal plus ``d``
bias-free, activation-free passes for the tangents, i.e. at the ``(d + 1)``-forward-pass floor.

A decoder with any other module (or a plain callable) is not handled here: :func:`layerwise_plan`
returns ``None`` and :func:`vaecore.jacobians` falls back to ``vmap(jacfwd)``, which also serves
as the oracle this path is tested against.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["layerwise_jacobian", "layerwise_plan"]

Step = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


class _Unsupported(Exception):
    """A module this path cannot push tangents through (the caller falls back to jacfwd)."""


def _affine(module: nn.Module) -> Step:
    if isinstance(module, nn.Linear):
        return lambda h, t: (module(h), F.linear(t, module.weight))
    if isinstance(module, nn.Conv2d) and module.padding_mode == "zeros":
        return lambda h, t: (module(h), F.conv2d(t, module.weight, None, module.stride,
                                                 module.padding, module.dilation, module.groups))
    if isinstance(module, nn.ConvTranspose2d) and module.padding_mode == "zeros":
        return lambda h, t: (module(h), F.conv_transpose2d(
            t, module.weight, None, module.stride, module.padding, module.output_padding,
            module.groups, module.dilation))
    raise _Unsupported


def _derivative(module: nn.Module) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """d act / dx from the input ``x`` and output ``y``, with torch's conventions at kinks."""
    if isinstance(module, nn.ReLU):
        return lambda x, y: (y > 0).to(y.dtype)
    if isinstance(module, nn.Tanh):
        return lambda x, y: 1 - y * y
    if isinstance(module, nn.Sigmoid):
        return lambda x, y: y * (1 - y)
    if isinstance(module, nn.LeakyReLU):
        slope = module.negative_slope
        return lambda x, y: torch.where(x > 0, 1.0, slope).to(y.dtype)
    if isinstance(module, nn.ELU):
        alpha = module.alpha
        return lambda x, y: torch.where(x > 0, torch.ones_like(y), y + alpha)
    if isinstance(module, nn.Softplus):
        beta, threshold = module.beta, module.threshold
        return lambda x, y: torch.where(x * beta > threshold, torch.ones_like(y),
                                        torch.sigmoid(x * beta))
    raise _Unsupported


def _elementwise(module: nn.Module) -> Step:
    deriv = _derivative(module)
    if isinstance(module, nn.ReLU | nn.LeakyReLU | nn.ELU) and module.inplace:
        raise _Unsupported  # the input is needed after the call

    def step(h: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = module(h)
        g = deriv(h, y)
        d = t.shape[0] // h.shape[0]
        return y, (t.view(h.shape[0], d, *h.shape[1:]) * g.unsqueeze(1)).view(t.shape)

    return step


def _reshape(module: nn.Module) -> Step:
    # Modules whose forward is a pure reshape of the non-batch axes apply unchanged to tangents:
    # the tangent batch (B·d, ...) has the same per-row layout as the primal batch (B, ...).
    return lambda h, t: (module(h), module(t))


def _vaecore_reshapes() -> tuple[type, ...]:
    from vaecore.models import mlp

    return tuple(getattr(mlp, name) for name in ("Flatten", "Unflatten") if hasattr(mlp, name))


def _leaf_step(module: nn.Module) -> Step:
    if isinstance(module, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
        return _affine(module)
    if isinstance(module, nn.ReLU | nn.Tanh | nn.Sigmoid | nn.LeakyReLU | nn.ELU | nn.Softplus):
        return _elementwise(module)
    if isinstance(module, (nn.Flatten, nn.Unflatten, nn.Identity, *_vaecore_reshapes())):
        if isinstance(module, nn.Flatten) and module.start_dim != 1:
            raise _Unsupported
        if isinstance(module, nn.Unflatten) and not (module.dim == 1 or module.dim < 0):
            raise _Unsupported
        return _reshape(module)
    raise _Unsupported


def layerwise_plan(decoder: object) -> list[Step] | None:
    """The per-layer steps of ``decoder``, or ``None`` when some part is not supported."""
    from vaecore.models.base import Decoder

    if not isinstance(decoder, nn.Module):
        return None
    steps: list[Step] = []

    def walk(module: nn.Module) -> None:
        if type(module) is Decoder:
            walk(module.net)
        elif type(module) is nn.Sequential:
            for child in module:
                walk(child)
        else:
            steps.append(_leaf_step(module))

    try:
        walk(decoder)
    except _Unsupported:
        return None
    return steps


def layerwise_jacobian(steps: list[Step], z: torch.Tensor, squash: bool) -> torch.Tensor:
    """Jacobians ``(B, n_out, d)`` of the plan ``steps`` at the rows of ``z`` (no grad).

    ``squash``: also apply the sigmoid's derivative at the end (the Bernoulli mean).
    """
    B, d = z.shape
    h = z
    t = torch.eye(d, dtype=z.dtype, device=z.device).repeat(B, 1)  # row b·d + j = e_j
    for step in steps:
        h, t = step(h, t)
    if squash:
        s = torch.sigmoid(h)
        t = (t.view(B, d, *h.shape[1:]) * (s * (1 - s)).unsqueeze(1)).view(t.shape)
    return t.reshape(B, d, -1).transpose(1, 2)
