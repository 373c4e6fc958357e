"""The manipulation network m_ψ(w) and the reflected perturbation x'' (thesis §4.2.4, §4.3.1;
SPEC-ch4 §6.2–6.3).

m_ψ: w̃ (the factor encoding) → dense 1 (linear, the one-neuron bottleneck: **decision**, no
activation) → disentanglement_lib's ``deconv_decoder`` with latent dimension 1 → tanh, so
‖m‖∞ ≤ 1. The decoder's last layer is zero-initialised, so m ≡ 0 and the data are unchanged at
step 0; the other layers get TF1's defaults (Glorot-uniform kernels, zero biases). Parameters:
379,017 for dSprites (w̃ of 7), 380,045 for Shapes3D (9). Observations that are not 64 × 64 images
use an MLP body (``architecture="mlp"``, e.g. the tiny images of the tests).

x' = x + ε m(w); x'' = x' − 2 ReLU(x' − 1) + 2 ReLU(−x') (the reflection of §4.3.1, which the thesis
prints on x and without ε — typos). Then x'' ∈ [0, 1] and ‖x'' − x‖∞ ≤ ε.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["Manipulator", "ManipulatorSpec", "perturb_array", "reflect"]

ARCHITECTURES = ("conv", "mlp")


@dataclass(frozen=True)
class ManipulatorSpec:
    """What a manipulator is built from (stored in ``perturbation.json``).

    Attributes
    ----------
    encoding_dim : width of w̃.
    observation_shape : (C, H, W) of the images.
    architecture : "conv" (64 × 64 images, dlib's deconv decoder) or "mlp".
    hidden : hidden widths of the MLP body (ignored by "conv").
    """

    encoding_dim: int
    observation_shape: tuple[int, ...]
    architecture: str = "conv"
    hidden: tuple[int, ...] = (256, 256)

    def __post_init__(self) -> None:
        f = "ManipulatorSpec"
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"{f}: architecture must be one of {ARCHITECTURES}; got {self.architecture!r}")
        if int(self.encoding_dim) < 1:
            raise ValueError(f"{f}: encoding_dim must be >= 1; got {self.encoding_dim}")
        shape = tuple(int(s) for s in self.observation_shape)
        if self.architecture == "conv" and (len(shape) != 3 or shape[1:] != (64, 64)):
            raise ValueError(f"{f}: architecture 'conv' needs observations of shape (C, 64, 64); got "
                             f"{shape}; use architecture='mlp'")
        object.__setattr__(self, "observation_shape", shape)
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))

    @classmethod
    def default(cls, encoding_dim: int, observation_shape: Any) -> ManipulatorSpec:
        """"conv" for (C, 64, 64) images, "mlp" otherwise."""
        shape = tuple(int(s) for s in observation_shape)
        arch = "conv" if len(shape) == 3 and shape[1:] == (64, 64) else "mlp"
        return cls(int(encoding_dim), shape, arch)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ManipulatorSpec:
        return cls(int(d["encoding_dim"]), tuple(d["observation_shape"]), str(d["architecture"]),
                   tuple(d.get("hidden", (256, 256))))


class Manipulator(nn.Module):
    """m_ψ(w̃) ∈ [−1, 1]^{C×H×W}; see the module docstring. Build with a seed for reproducibility."""

    def __init__(self, spec: ManipulatorSpec, *, seed: int = 0) -> None:
        super().__init__()
        from vaecore.models.conv import conv_decoder
        from vaecore.models.mlp import mlp_decoder

        self.spec = spec
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            self.bottleneck = nn.Linear(spec.encoding_dim, 1)
            if spec.architecture == "conv":
                self.body = conv_decoder(1, spec.observation_shape)
            else:
                self.body = mlp_decoder(1, spec.hidden, spec.observation_shape, "relu")
            layers = [m for m in self.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
            for m in layers:
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        last = layers[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def scalar(self, w: torch.Tensor) -> torch.Tensor:
        """The one-neuron code s(w̃), ``(B, 1)``."""
        return self.bottleneck(w)

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.body(self.bottleneck(w)))


def reflect(x: torch.Tensor, m: torch.Tensor, eps: float) -> torch.Tensor:
    """x'' = x' − 2 ReLU(x' − 1) + 2 ReLU(−x') with x' = x + ε m (differentiable; training)."""
    xp = x + eps * m
    return xp - 2.0 * torch.relu(xp - 1.0) + 2.0 * torch.relu(-xp)


def perturb_array(x: np.ndarray, m: np.ndarray, eps: float) -> np.ndarray:
    """x'' of images ``x`` ∈ [0, 1] (float32) and manipulations ``m`` ∈ [−1, 1], as float32.

    Evaluated in float64 — x'' = min(|x'|, 2 − |x'|), the reflection of §4.3.1 for x' ∈ [−1, 2] —
    and rounded to float32 such that both guarantees hold exactly for the returned numbers:
    x'' ∈ [0, 1] and |x'' − x| ≤ ε (a last clip to [x − ε, x + ε] ∩ [0, 1], a no-op in exact
    arithmetic, and one step back towards x where rounding crossed the bound). With m ≡ 0, x''
    equals x bit for bit. Works on blocks of about 64k values, in place, to stay in cache.
    """
    x32 = np.ascontiguousarray(x, np.float32)
    m32 = np.ascontiguousarray(m, np.float32)
    out = np.empty(x32.shape, np.float32)
    fx, fm, fo = x32.reshape(-1), m32.reshape(-1), out.reshape(-1)
    eps = float(eps)
    for a in range(0, fx.size, 65536):
        xc = fx[a : a + 65536].astype(np.float64)
        y = np.clip(fm[a : a + 65536], -1.0, 1.0).astype(np.float64)
        y *= eps
        y += xc
        np.abs(y, out=y)
        np.minimum(y, 2.0 - y, out=y)
        lo = xc - eps
        np.maximum(lo, 0.0, out=lo)
        xc += eps
        np.minimum(xc, 1.0, out=xc)
        np.clip(y, lo, xc, out=y)
        o = y.astype(np.float32)
        xs = fx[a : a + 65536]
        over = np.abs(o.astype(np.float64) - xs) > eps
        if over.any():
            o[over] = np.nextafter(o[over], xs[over])
        fo[a : a + 65536] = o
    return out


def n_parameters(module: nn.Module) -> int:
    """Trainable parameters (379,017 dSprites / 380,045 Shapes3D for the conv manipulator)."""
    return sum(math.prod(p.shape) for p in module.parameters() if p.requires_grad)
