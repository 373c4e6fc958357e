"""Networks of the weakly supervised GAN of Shu et al. 2020 (google-research
``weak_disentangle/networks.py`` with ``configs/gan.gin``; SPEC-ch4 §5).

Conv versions (observations (C, 64, 64); every conv k4-s2 with TF "same" padding, leaky-ReLU
slope 0.2; the sources' NHWC flatten/reshape order differs from torch's NCHW by a fixed
permutation of dense units, which changes nothing):

* :func:`generator` — dense 128 ReLU, dense 1024 ReLU, reshape 64 × 4 × 4, convT 64, 32, 32
  leaky, convT C sigmoid; batch norm *after* every ReLU / leaky-ReLU (``add_bn`` on the
  activations' out-hook; TF momentum 0.9 = torch 0.1, eps 1e-5).
* :class:`Discriminator` (``width`` 2, ``share_dense``, ``mask_type="match"``) — body conv
  32w, 32w, 64w, 64w, flatten, dense 128w (all leaky); neck dense 128w, 128w (leaky) on
  ``[body(x₁), body(x₂)]``; output ``u(h) + ⟨h, W e_y⟩`` with ``u`` dense 1 without bias and
  ``W e_y`` the y-th row of a (y_dim, 128w) kernel, weight-normalised per row
  (``k / sqrt(Σ k² + 1e-3)``, no scale: ``weight_normalization.add.epsilon = 1e-3, scale =
  False``, axis −1 of the TF (in, out) kernel). Spectral norm on body, neck and ``u``.
* :func:`encoder` (``width`` 1) — conv 32, 32, 64, 64, flatten, dense 128 (leaky), dense 2·z;
  spectral norm on every layer.

MLP versions (``architecture="mlp"``, vector observations, flattened) keep the same norms and
heads with dense layers; the generator's output is linear (vectors need not lie in [0, 1]).

Initialisation (``initializer.method = "keras"``): Glorot-uniform kernels, zero biases, applied
before the spectral-norm parametrisation. Spectral norm = :class:`SpectralNormTF`, the source's
``SpectralNorm.normalize`` as a torch parametrisation: u, v start as normalised Gaussian draws,
every training-mode forward does one power iteration *in the source's order* (v ← K u, then
u ← Kᵀ v for the TF kernel K = Wᵀ; torch's own ``spectral_norm`` updates u first), eval mode
uses the stored vectors, and the kernel is divided by σ = uᵀ W v.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
import torch.nn.functional as F
from torch.nn.utils import parametrize

from vaecore.models.conv import SameConv2d, _check_shape, same_conv_transpose

__all__ = ["Discriminator", "SpectralNormTF", "WeightNormRows", "encoder", "generator", "glorot_"]

SLOPE = 0.2
BN_MOMENTUM = 0.1  # TF's 0.9
WN_EPSILON = 1e-3


def glorot_(module: nn.Module) -> nn.Module:
    """Glorot-uniform weights and zero biases for every Linear / conv / conv-transpose layer."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return module


class SpectralNormTF(nn.Module):
    """Parametrisation ``W ↦ W / σ(W)`` with the source's one-step power iteration (module
    docstring); buffers ``u (out,)`` and ``v (in,)`` (checkpointed with the model)."""

    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        n_out, n_in = weight.shape[0], weight[0].numel()
        self.register_buffer("u", F.normalize(torch.randn(n_out, dtype=weight.dtype), dim=0))
        self.register_buffer("v", F.normalize(torch.randn(n_in, dtype=weight.dtype), dim=0))

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        mat = weight.flatten(1)  # (out, in) = K_tf^T
        if self.training:
            with torch.no_grad():
                v = F.normalize(mat.t() @ self.u, dim=0, eps=1e-12)
                self.v.copy_(v)
                self.u.copy_(F.normalize(mat @ v, dim=0, eps=1e-12))
        sigma = self.u @ (mat @ self.v)
        return weight / sigma


def _sn(module: nn.Module) -> nn.Module:
    """Spectral norm on every affine layer inside ``module`` (after Glorot init)."""
    glorot_(module)
    for m in list(module.modules()):
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            parametrize.register_parametrization(m, "weight", SpectralNormTF(m.weight.detach()))
    return module


def _leaky() -> nn.LeakyReLU:
    return nn.LeakyReLU(SLOPE)


def _conv_stack(c_in: int, channels: Sequence[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for c_out in channels:
        layers += [SameConv2d(c_in, c_out, 4, 2), _leaky()]
        c_in = c_out
    return layers + [nn.Flatten()]


def generator(observation_shape: Sequence[int], z_dim: int, architecture: str,
              hidden: Sequence[int], batch_norm: bool = True) -> nn.Sequential:
    """G: z ``(B, z_dim)`` → observations ``(B, *observation_shape)``."""
    def bn(n: int, two_d: bool = False) -> list[nn.Module]:
        if not batch_norm:
            return []
        return [nn.BatchNorm2d(n, momentum=BN_MOMENTUM) if two_d else nn.BatchNorm1d(n, momentum=BN_MOMENTUM)]

    if architecture == "conv":
        c = _check_shape(observation_shape)[0]
        layers: list[nn.Module] = [nn.Linear(z_dim, 128), nn.ReLU(), *bn(128),
                                   nn.Linear(128, 1024), nn.ReLU(), *bn(1024), nn.Unflatten(1, (64, 4, 4))]
        c_in = 64
        for c_out in (64, 32, 32):
            layers += [same_conv_transpose(c_in, c_out, 4, 2), _leaky(), *bn(c_out, True)]
            c_in = c_out
        layers += [same_conv_transpose(c_in, c, 4, 2), nn.Sigmoid()]
        return glorot_(nn.Sequential(*layers))  # type: ignore[return-value]
    shape = tuple(int(s) for s in observation_shape)
    layers = []
    width = z_dim
    for h in hidden:
        layers += [nn.Linear(width, int(h)), nn.ReLU(), *bn(int(h))]
        width = int(h)
    layers += [nn.Linear(width, math.prod(shape)), nn.Unflatten(1, shape)]
    return glorot_(nn.Sequential(*layers))  # type: ignore[return-value]


def encoder(observation_shape: Sequence[int], z_dim: int, architecture: str,
            hidden: Sequence[int], width: int = 1) -> nn.Sequential:
    """E: observations → ``(B, 2·z_dim)`` = (a, b) of N(a, softplus(b) + 1e-8), spectral norm."""
    if architecture == "conv":
        c = _check_shape(observation_shape)[0]
        layers = _conv_stack(c, [32 * width, 32 * width, 64 * width, 64 * width])
        layers += [nn.Linear(64 * width * 16, 128 * width), _leaky(), nn.Linear(128 * width, 2 * z_dim)]
    else:
        layers, n_in = [nn.Flatten()], math.prod(int(s) for s in observation_shape)
        for h in hidden:
            layers += [nn.Linear(n_in, int(h)), _leaky()]
            n_in = int(h)
        layers.append(nn.Linear(n_in, 2 * z_dim))
    return _sn(nn.Sequential(*layers))  # type: ignore[return-value]


class WeightNormRows(nn.Module):
    """``W e_y`` of a weight-normalised dense layer without bias applied to one-hot y: row y of
    the (y_dim, n_out) kernel divided by ``sqrt(Σ row² + eps)`` (the source's WeightNorm with
    ``scale=False``, axis −1)."""

    def __init__(self, y_dim: int, n_out: int, eps: float = WN_EPSILON) -> None:
        super().__init__()
        self.kernel = nn.Parameter(torch.empty(y_dim, n_out))
        self.eps = float(eps)
        bound = math.sqrt(6.0 / (y_dim + n_out))
        nn.init.uniform_(self.kernel, -bound, bound)

    def normalized(self) -> torch.Tensor:
        k = self.kernel
        return k * torch.rsqrt(k.pow(2).sum(dim=-1, keepdim=True) + self.eps)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.normalized()[y]


class Discriminator(nn.Module):
    """D(x₁, x₂, y) → logits ``(B, 1)``; see the module docstring."""

    def __init__(self, observation_shape: Sequence[int], y_dim: int, architecture: str,
                 hidden: Sequence[int], width: int = 2) -> None:
        super().__init__()
        if architecture == "conv":
            c = _check_shape(observation_shape)[0]
            body = _conv_stack(c, [32 * width, 32 * width, 64 * width, 64 * width])
            n = 128 * width
            body += [nn.Linear(64 * width * 16, n), _leaky()]
        else:
            body, n_in = [nn.Flatten()], math.prod(int(s) for s in observation_shape)
            for h in hidden:
                body += [nn.Linear(n_in, int(h)), _leaky()]
                n_in = int(h)
            n = n_in
        self.y_dim = int(y_dim)
        self.body = _sn(nn.Sequential(*body))
        self.neck = _sn(nn.Sequential(nn.Linear(2 * n, n), _leaky(), nn.Linear(n, n), _leaky()))
        self.head_uncond = _sn(nn.Linear(n, 1, bias=False))
        self.head_cond = WeightNormRows(self.y_dim, n)

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.body(torch.cat([x1, x2]))
        h1, h2 = h.chunk(2)
        h = self.neck(torch.cat([h1, h2], dim=-1))
        return self.head_uncond(h) + (h * self.head_cond(y)).sum(dim=-1, keepdim=True)
