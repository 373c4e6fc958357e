"""Permutation-contrastive learning, PCL (Hyvärinen & Morioka 2017; SPEC-ch4 §4).

PCL learns a feature extractor h by logistic regression: real consecutive pairs (x, x')
(laplace pairs, label 1) against pairs (x, x*) whose second element is drawn independently
(label 0). The regression function is the reference's (simonbing/CRLSanityCheck
``crc/baselines/PCL/pcl/pcl.py``, "the official implementation"), per component i:

    r(x, x') = −Σ_i |w₁ᵢ hᵢ(x) + w₂ᵢ hᵢ(x') + bᵢ| + a·Σ_i hᵢ(x)² + m,

initialised w₁ = 1, w₂ = −1, b = 0, a = 1, m = 0, with ``a`` clamped at ≥ 0 after every
optimizer step (:meth:`PCL.after_step`). h = a feature net followed by ``BatchNorm1d`` — the
disentanglement_lib conv encoder with one head of ``latent_dim`` outputs for 64 × 64 images,
an MLP for vectors. Loss: ``BCEWithLogits`` averaged over the B real and B contrast pairs.
As in the reference, the batch norm sees the 4B rows ``[h(x), h(x'), h(x), h(x*)]`` of one
step together (x enters twice), so its batch statistics are the reference's exactly; the
feature net runs once per distinct image.

Negatives (``PCLOptions.negatives``): ``"grid"`` (default, SPEC-ch4 §4) — x* uniform on the
dataset grid, supplied by the caller (:meth:`PCL.draw` uses the pair sampler's
``sample_grid``); ``"batch"`` — x* = the first image of another pair of the same batch (a
uniformly random cyclic permutation, never the pair's own x), i.e. an independent draw from the
first images' distribution, as the reference's random time index; it costs no rendering.

Registry and shared loop (``pcl``; :mod:`vaecore.models.registry`): options
:class:`PCLModelOptions` (``bn_momentum``, ``negatives``); the feature net is the run's encoder
(:meth:`vaecore.models.Networks.encoder` with ``latent_dim`` outputs: the conv net with the
config's ``conv_kernels``, or the MLP of its ``encoder_hidden`` / ``encoder_activation``). The
loop draws each step's data with :meth:`PCL.draw` from the pair sampler (so grid negatives are
resumed with it), minimises ``loss`` with the config's optimizer and calls :meth:`after_step`.

Representation for the metrics: h(x) with the batch norm in eval mode (running statistics).
:meth:`encode` returns ``(h, zeros)`` so posterior-reading code keeps working; the zeros are a
placeholder, not a variance. PCL has **no decoder**: ``decoder`` is ``None``, ``has_decoder`` is
False, and :meth:`decode`, :attr:`likelihood` and :meth:`require_decoder` raise
``NotImplementedError("not applicable: pcl has no decoder; DtO needs one")``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vaecore._validation import check_float, check_int, check_option
from vaecore.models.base import LatentModel
from vaecore.models.conv import conv_encoder
from vaecore.models.mlp import ACTIVATIONS, mlp_encoder
from vaecore.models.options import ModelOptions, option

__all__ = ["PCL", "PCLBatch", "PCLModelOptions", "PCLOptions", "PCL_ARCHITECTURES", "PCL_NEGATIVES"]

PCL_ARCHITECTURES: tuple[str, ...] = ("conv", "mlp")
PCL_NEGATIVES: tuple[str, ...] = ("grid", "batch")
_NO_DECODER = "not applicable: pcl has no decoder; {} needs one"


@dataclass(frozen=True)
class PCLOptions:
    """Options of :class:`PCL` (validated on construction).

    architecture : "conv" (disentanglement_lib's conv encoder, observations (C, 64, 64)) or
        "mlp" (any observation shape, flattened).
    hidden : MLP hidden widths (mlp only), each >= 1.
    activation : MLP activation, one of :data:`vaecore.models.mlp.ACTIVATIONS` (mlp only).
    conv_kernels : the conv encoder's four kernel sizes (conv only; dlib (4, 4, 2, 2)).
    bn_momentum : BatchNorm1d momentum in (0, 1] (torch's convention; 0.1 = TF's 0.9).
    negatives : "grid" or "batch" (module docstring).
    """

    architecture: str = "conv"
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "leaky_relu"
    conv_kernels: tuple[int, ...] = (4, 4, 2, 2)
    bn_momentum: float = 0.1
    negatives: str = "grid"

    def __post_init__(self) -> None:
        func = "PCLOptions"
        check_option(func, "architecture", self.architecture, PCL_ARCHITECTURES)
        check_option(func, "activation", self.activation, ACTIVATIONS)
        check_option(func, "negatives", self.negatives, PCL_NEGATIVES)
        for name in ("hidden", "conv_kernels"):
            value = getattr(self, name)
            if not isinstance(value, (tuple, list)):
                raise TypeError(f"{func}: {name} must be a tuple of ints; got {type(value).__name__}")
            for v in value:
                check_int(func, name, v, minimum=1)
            object.__setattr__(self, name, tuple(int(v) for v in value))
        if len(self.conv_kernels) != 4:
            raise ValueError(f"{func}: conv_kernels must have 4 entries; got {self.conv_kernels}")
        m = check_float(func, "bn_momentum", self.bn_momentum, minimum=0.0, strict=True)
        if m > 1.0:
            raise ValueError(f"{func}: bn_momentum must be in (0, 1]; got {self.bn_momentum!r}")


@dataclass(frozen=True)
class PCLModelOptions(ModelOptions):
    """PCL's options in a training config (the registry's; the feature net's architecture and
    sizes are the config's own keys, see the module docstring)."""

    bn_momentum: float = option(0.1, "BatchNorm1d momentum of h (torch's convention; 0.1 = TF's 0.9)",
                                gt=0.0, le=1.0)
    negatives: str = option("grid", "contrast images x*: 'grid' (uniform on the dataset grid, "
                            "SPEC-ch4 §4) or 'batch' (other pairs' first images)",
                            kind="choice", choices=PCL_NEGATIVES)


@dataclass(frozen=True)
class PCLBatch:
    """One PCL step's data: real pairs ``(x1, x2)`` and contrast images ``x_star`` (or None
    for ``negatives="batch"``), float32 ``(B, *observation_shape)``."""

    x1: torch.Tensor
    x2: torch.Tensor
    x_star: torch.Tensor | None = None


def _cyclic_permutation(n: int, generator: torch.Generator | None, device: Any) -> torch.Tensor:
    """A uniformly random n-cycle (no fixed point for n >= 2): perm[σ_i] = σ_{i+1}."""
    at = generator.device if generator is not None else device
    sigma = torch.randperm(n, generator=generator, device=at).to(device)
    perm = torch.empty_like(sigma)
    perm[sigma] = sigma.roll(-1)
    return perm


class PCL(LatentModel):
    """PCL: feature net ``encoder`` → BatchNorm1d ``bn`` → h; regression parameters
    ``w1, w2, b`` (per component) and scalars ``a, m`` (module docstring)."""

    name = "pcl"
    names = ("pcl",)
    Options = PCLModelOptions
    pairing = "laplace"
    architectures = PCL_ARCHITECTURES
    stochastic = False
    has_decoder = False

    def __init__(self, encoder: nn.Module, latent_dim: int, options: PCLOptions | None = None) -> None:
        nn.Module.__init__(self)
        self.options = options or PCLOptions()
        self.encoder = encoder
        self.decoder = None  # type: ignore[assignment]
        self.latent_dim = check_int("PCL", "latent_dim", latent_dim, minimum=1)
        self.bn = nn.BatchNorm1d(self.latent_dim, momentum=self.options.bn_momentum)
        self.w1 = nn.Parameter(torch.ones(self.latent_dim))
        self.w2 = nn.Parameter(-torch.ones(self.latent_dim))
        self.b = nn.Parameter(torch.zeros(self.latent_dim))
        self.a = nn.Parameter(torch.ones(1))
        self.m = nn.Parameter(torch.zeros(1))

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> PCL:  # type: ignore[override]
        """Two call forms: the registry's ``build(name, options, nets)`` (``options`` a
        :class:`PCLModelOptions`, the feature net ``nets.encoder(latent_dim)``) and
        ``build(observation_shape, latent_dim, options=None)`` (:meth:`make`)."""
        if args and isinstance(args[0], str):
            return cls._from_registry(*args, **kwargs)
        return cls.make(*args, **kwargs)

    @classmethod
    def _from_registry(cls, name: str, options: PCLModelOptions, nets: Any) -> PCL:
        if nets.architecture not in PCL_ARCHITECTURES:
            raise ValueError(f"PCL.build: architecture must be one of {PCL_ARCHITECTURES}; "
                             f"got {nets.architecture!r}")
        opts = PCLOptions(architecture=nets.architecture, hidden=nets.encoder_hidden,
                          activation=nets.encoder_activation, conv_kernels=nets.conv_kernels,
                          bn_momentum=options.bn_momentum, negatives=options.negatives)
        return cls(nets.encoder(nets.latent_dim), nets.latent_dim, opts)

    @classmethod
    def make(cls, observation_shape: Sequence[int], latent_dim: int,
             options: PCLOptions | None = None) -> PCL:
        """PCL on ``observation_shape`` with ``latent_dim`` components (= number of factors).
        Parameters are drawn from torch's global RNG (seed it around the call)."""
        options = options or PCLOptions()
        if not isinstance(options, PCLOptions):
            raise TypeError(f"PCL.build: options must be a PCLOptions; got {type(options).__name__}")
        d = check_int("PCL.build", "latent_dim", latent_dim, minimum=1)
        shape = tuple(int(s) for s in observation_shape)
        if options.architecture == "conv":
            net = conv_encoder(shape, d, options.conv_kernels)
        else:
            net = mlp_encoder(shape, options.hidden, d, options.activation)
        return cls(net, d, options)

    # -- no decoder ---------------------------------------------------------------------------
    def require_decoder(self, purpose: str = "this evaluator") -> None:
        """Raise the clear error of every decoder-based use (DtO, traversals, reconstructions)."""
        raise NotImplementedError(_NO_DECODER.format(purpose))

    @property
    def likelihood(self) -> str:  # type: ignore[override]
        raise NotImplementedError(_NO_DECODER.format("a likelihood"))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(_NO_DECODER.format("decode"))

    def reconstruction(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(_NO_DECODER.format("a reconstruction loss"))

    # -- the representation -------------------------------------------------------------------
    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature net's output before the batch norm, ``(B, latent_dim)``."""
        return self.encoder(x)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(h(x), zeros)``; h uses the batch norm in its current mode (eval for metrics)."""
        h = self.bn(self.features(x))
        return h, torch.zeros_like(h)

    # -- the objective ------------------------------------------------------------------------
    def regression(self, h: torch.Tensor, h_next: torch.Tensor) -> torch.Tensor:
        """r(x, x') of SPEC-ch4 §4 from h(x), h(x') ``(B, d)`` → logits ``(B,)``."""
        q = (self.w1 * h + self.w2 * h_next + self.b).abs().sum(dim=1)
        return -q + self.a * h.pow(2).sum(dim=1) + self.m

    def loss_terms(self, x1: torch.Tensor, x2: torch.Tensor, generator: torch.Generator | None = None,
                   *, x_star: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """BCE of real pairs (x1, x2) against contrast pairs (x1, x*); see the module docstring.

        Returns ``loss`` (minimised), ``accuracy`` (logit > 0 on the right side, detached),
        ``logit_real`` and ``logit_contrast`` (batch means, detached).
        """
        if x1.shape != x2.shape or x1.shape[0] < 2:
            raise ValueError(f"PCL.loss_terms: x1 and x2 must have the same shape with >= 2 rows; "
                             f"got {tuple(x1.shape)} and {tuple(x2.shape)}")
        n = x1.shape[0]
        if x_star is None:
            if self.options.negatives == "grid":
                raise ValueError("PCL.loss_terms: x_star must be given with negatives='grid' "
                                 "(x* uniform on the grid, e.g. from PCL.draw); got None")
            f = self.features(torch.cat([x1, x2]))
            f1, f2 = f[:n], f[n:]
            fs = f1[_cyclic_permutation(n, generator, f.device)]
        else:
            if x_star.shape != x1.shape:
                raise ValueError(f"PCL.loss_terms: x_star must have x1's shape {tuple(x1.shape)}; "
                                 f"got {tuple(x_star.shape)}")
            f = self.features(torch.cat([x1, x2, x_star]))
            f1, f2, fs = f[:n], f[n:2 * n], f[2 * n:]
        h = self.bn(torch.cat([f1, f2, f1, fs]))
        logits = torch.cat([self.regression(h[:n], h[n:2 * n]),
                            self.regression(h[2 * n:3 * n], h[3 * n:])])
        target = torch.cat([torch.ones(n), torch.zeros(n)]).to(logits)
        loss = F.binary_cross_entropy_with_logits(logits, target)
        with torch.no_grad():
            accuracy = ((logits > 0).to(target) == target).to(target).mean()
        return {"loss": loss, "accuracy": accuracy, "logit_real": logits[:n].detach().mean(),
                "logit_contrast": logits[n:].detach().mean()}

    def losses(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """The shared loop's entry: ``batch`` = a :class:`PCLBatch`, ``(x1, x2, label)`` (a
        pair batch; needs ``negatives="batch"``) or ``(x1, x2, label, x_star)``."""
        if isinstance(batch, PCLBatch):
            return self.loss_terms(batch.x1, batch.x2, generator, x_star=batch.x_star)
        parts = tuple(batch)
        if len(parts) not in (3, 4):
            raise ValueError(f"PCL.losses: batch must be (x1, x2, label) or (x1, x2, label, x_star); "
                             f"got {len(parts)} parts")
        return self.loss_terms(parts[0], parts[1], generator, x_star=parts[3] if len(parts) == 4 else None)

    def draw(self, sampler: Any, n: int, device: Any = None) -> PCLBatch:
        """One step's data from a laplace :class:`vaecore.datasets.PairSampler`: ``n`` pairs
        and, with ``negatives="grid"``, ``n`` grid-uniform contrast images (the sampler's own
        generator, so resuming the sampler resumes these too)."""
        x1, x2, _ = sampler.batch(n, device)
        if self.options.negatives == "batch":
            return PCLBatch(x1, x2, None)
        return PCLBatch(x1, x2, sampler.render(sampler.sample_grid(n), device))

    @torch.no_grad()
    def after_step(self) -> None:
        """Clamp ``a`` at >= 0 (the reference does it after every optimizer step)."""
        self.a.clamp_(min=0.0)

    def train_step(self, batch: Any, optimizers: dict[str, torch.optim.Optimizer],
                   generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """One whole step: losses, backward, ``optimizers["main"].step()``, clamp ``a``."""
        terms = self.losses(batch, generator)
        if not math.isfinite(terms["loss"].detach().item()):
            return terms
        opt = optimizers["main"]
        opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        opt.step()
        self.after_step()
        return terms
