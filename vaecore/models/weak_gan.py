"""The weakly supervised GAN of Shu et al. 2020 (``weak-gan``; SPEC-ch4 §5).

Sources: google-research ``weak_disentangle/main.py`` (``train_gen_step``),
``datasets.py`` (``make_masks``, ``match_randn``), ``networks.py`` and ``configs/gan.gin``.
Three players, each with its own Adam (lr 1e-3, β (0.5, 0.999), ε 1e-8):

* generator G: z ~ N(0, I_n) → x (n = number of factors = ``latent_dim``, no nuisance dims);
* discriminator D(x₁, x₂, y): real pairs of the data with their label y (``pairing``
  ``"share"``: x₂ keeps only factor y of x₁, SPEC-ch4's reading of "full sharing";
  ``"change"``: only factor y is redrawn, ``gan.gin``'s ``c=0,1,2,3,4``) against fake pairs
  (G(z₁), G(z₂), y) whose codes are paired the same way on coordinate y;
* encoder E: q(z | x) = N(a(x), (softplus(b(x)) + 1e-8)²), trained on fakes by −log q(z₁|G(z₁)).

One training iteration (:meth:`WeakGAN.train_step`), as ``train_gen_step``: (1) fresh fake
codes; x̃ = G(z) without gradient; D step on BCE(D(real ∪ fake), [1]*B ∪ [0]*B) and E step on
−mean log q(z₁ | x̃₁), both from the same draw; (2) fresh fake codes; G step on the
non-saturating BCE(D(G(z₁), G(z₂), y), 1) with the updated D. G is called on z₁ and on z₂
separately (two batch-norm batches, as the source). All losses are means over the batch.

Registry and shared loop (``weak-gan``; :mod:`vaecore.models.registry`): options
:class:`WeakGANModelOptions`; on "mlp" E uses the config's ``encoder_hidden``, G its
``decoder_hidden`` and D the option ``discriminator_hidden``. The nets initialise themselves
(Glorot, spectral norm), so the registry skips its ``init = "glorot"`` pass
(``initialises_itself``). The loop hands each pair batch to :meth:`train_step`
(``steps_itself``) with the three optimizers of :meth:`make_optimizer`; the config's
``optimizer`` / ``lr`` do not apply. The real pairs are of kind ``pair_kind`` (the run's
``pairing``), and ``latent_dim`` must be the dataset's number of factors (:meth:`check_dataset`).

Representation for the metrics: the encoder mean a(x) (:meth:`encode` returns
``(a, log σ²)``, σ = softplus(b) + 1e-8; ``represent`` gives a). The generator is not a
likelihood decoder of the encoder's codes, so ``decoder`` is ``None`` and decoder-based
evaluators (DtO) raise ``NotImplementedError`` via :meth:`require_decoder`; use
:meth:`generate` for samples.
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
from vaecore.models import weak_gan_nets as nets
from vaecore.models.base import LatentModel
from vaecore.models.options import ModelOptions, option

__all__ = ["WEAK_GAN_PAIRINGS", "WeakGAN", "WeakGANModelOptions", "WeakGANOptions"]

WEAK_GAN_PAIRINGS: tuple[str, ...] = ("share", "change")
WEAK_GAN_ARCHITECTURES: tuple[str, ...] = ("conv", "mlp")
PLAYERS: tuple[str, ...] = ("discriminator", "encoder", "generator")


def _int_tuple(func: str, name: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{func}: {name} must be a tuple of ints; got {type(value).__name__}")
    return tuple(check_int(func, name, v, minimum=1) for v in value)


@dataclass(frozen=True)
class WeakGANOptions:
    """Options of :class:`WeakGAN` (validated on construction; defaults = ``gan.gin``).

    architecture : "conv" (observations (C, 64, 64); the source's nets) or "mlp" (vectors).
    pairing : "share" (default, SPEC-ch4 §5) or "change".
    discriminator_width : D's width multiplier (gan.gin 2), >= 1.
    encoder_width : E's width multiplier (gan.gin 1), >= 1.
    generator_hidden, discriminator_hidden, encoder_hidden : MLP widths (mlp only), >= 1 each.
    batch_norm : batch norm after the generator's activations (gan.gin True).
    lr : Adam learning rate of all three players (> 0; ``dec_lr`` 1e-3, ``enc_lr_mul`` 1).
    betas : Adam (β₁, β₂), each in [0, 1).
    adam_eps : Adam ε (> 0).
    """

    architecture: str = "conv"
    pairing: str = "share"
    discriminator_width: int = 2
    encoder_width: int = 1
    generator_hidden: tuple[int, ...] = (128, 256)
    discriminator_hidden: tuple[int, ...] = (256, 256)
    encoder_hidden: tuple[int, ...] = (128, 128)
    batch_norm: bool = True
    lr: float = 1e-3
    betas: tuple[float, float] = (0.5, 0.999)
    adam_eps: float = 1e-8

    def __post_init__(self) -> None:
        func = "WeakGANOptions"
        check_option(func, "architecture", self.architecture, WEAK_GAN_ARCHITECTURES)
        check_option(func, "pairing", self.pairing, WEAK_GAN_PAIRINGS)
        check_int(func, "discriminator_width", self.discriminator_width, minimum=1)
        check_int(func, "encoder_width", self.encoder_width, minimum=1)
        for name in ("generator_hidden", "discriminator_hidden", "encoder_hidden"):
            object.__setattr__(self, name, _int_tuple(func, name, getattr(self, name)))
        if not isinstance(self.batch_norm, bool):
            raise TypeError(f"{func}: batch_norm must be a bool; got {type(self.batch_norm).__name__}")
        check_float(func, "lr", self.lr, minimum=0.0, strict=True)
        check_float(func, "adam_eps", self.adam_eps, minimum=0.0, strict=True)
        if not isinstance(self.betas, (tuple, list)) or len(self.betas) != 2:
            raise ValueError(f"{func}: betas must be a pair (beta1, beta2); got {self.betas!r}")
        for b in self.betas:
            if check_float(func, "betas", b, minimum=0.0) >= 1.0:
                raise ValueError(f"{func}: betas must lie in [0, 1); got {self.betas!r}")
        object.__setattr__(self, "betas", (float(self.betas[0]), float(self.betas[1])))


@dataclass(frozen=True)
class WeakGANModelOptions(ModelOptions):
    """The weak GAN's options in a training config (defaults = ``gan.gin``; SPEC-ch4 §5).

    Named apart from the config's shared keys (``pairing``, ``lr``, ``encoder_hidden``), which
    mean something else there; the mlp E / G widths are the config's ``encoder_hidden`` /
    ``decoder_hidden``."""

    pair_kind: str = option("share", "pairs of D and of the fake codes: 'share' (x2 keeps only factor y) "
                            "or 'change' (only factor y redrawn); the run's pairing",
                            kind="choice", choices=WEAK_GAN_PAIRINGS)
    discriminator_width: int = option(2, "D's width multiplier (conv)", kind="int", ge=1)
    encoder_width: int = option(1, "E's width multiplier (conv)", kind="int", ge=1)
    discriminator_hidden: tuple[int, ...] = option((256, 256), "D's MLP widths (mlp)", kind="ints")
    batch_norm: bool = option(True, "batch norm after G's activations", kind="choice", choices=(True, False))
    adam_lr: float = option(1e-3, "Adam learning rate of G, D and E", gt=0.0)
    adam_beta1: float = option(0.5, "Adam β₁ of G, D and E (< 1)", ge=0.0, le=0.999999)
    adam_beta2: float = option(0.999, "Adam β₂ of G, D and E (< 1)", ge=0.0, le=0.999999)
    adam_eps: float = option(1e-8, "Adam ε of G, D and E", gt=0.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "batch_norm", bool(self.batch_norm))

    def to_plain(self, architecture: str, encoder_hidden: Sequence[int],
                 generator_hidden: Sequence[int]) -> WeakGANOptions:
        """The model's own :class:`WeakGANOptions` for ``architecture`` and the mlp widths."""
        return WeakGANOptions(
            architecture=architecture, pairing=self.pair_kind, discriminator_width=self.discriminator_width,
            encoder_width=self.encoder_width, generator_hidden=tuple(generator_hidden),
            discriminator_hidden=self.discriminator_hidden, encoder_hidden=tuple(encoder_hidden),
            batch_norm=self.batch_norm, lr=self.adam_lr, betas=(self.adam_beta1, self.adam_beta2),
            adam_eps=self.adam_eps)


def sigmoid_bce(logits: torch.Tensor, target: float | torch.Tensor) -> torch.Tensor:
    """``mean(sigmoid_cross_entropy_with_logits)``; ``target`` a scalar or a tensor like logits."""
    t = torch.full_like(logits, float(target)) if not torch.is_tensor(target) else target.to(logits)
    return F.binary_cross_entropy_with_logits(logits, t)


def gaussian_log_prob(z: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """log N(z; mean, diag scale²) summed over the last axis (``MultivariateNormalDiag``)."""
    return (-0.5 * ((z - mean) / scale).pow(2) - scale.log() - 0.5 * math.log(2 * math.pi)).sum(-1)


class WeakGAN(LatentModel):
    """Generator ``generator``, discriminator ``discriminator``, encoder ``encoder``."""

    name = "weak-gan"
    names = ("weak-gan",)
    Options = WeakGANModelOptions
    pairing = "share"  # the default; the options' pair_kind decides
    architectures = WEAK_GAN_ARCHITECTURES
    initialises_itself = True  # Glorot + spectral norm in its nets: no registry glorot pass
    steps_itself = True  # the shared loop calls train_step (three players), not losses
    # Its encoder is Gaussian but fitted to fakes, not against a prior: no polarized-regime monitor.
    stochastic = False
    has_decoder = False

    def __init__(self, generator: nn.Module, discriminator: nn.Module, encoder: nn.Module,
                 latent_dim: int, options: WeakGANOptions | None = None) -> None:
        nn.Module.__init__(self)
        self.options = options or WeakGANOptions()
        self.generator = generator
        self.discriminator = discriminator
        self.encoder = encoder
        self.decoder = None  # type: ignore[assignment]
        self.latent_dim = check_int("WeakGAN", "latent_dim", latent_dim, minimum=1)

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> WeakGAN:  # type: ignore[override]
        """Two call forms: the registry's ``build(name, options, nets)`` (``options`` a
        :class:`WeakGANModelOptions`) and ``build(observation_shape, latent_dim, options=None)``
        (:meth:`make`)."""
        if args and isinstance(args[0], str):
            _, options, nets_ = args
            plain = options.to_plain(nets_.architecture, nets_.encoder_hidden, nets_.decoder_hidden)
            return cls.make(nets_.observation_shape, nets_.latent_dim, plain)
        return cls.make(*args, **kwargs)

    @classmethod
    def make(cls, observation_shape: Sequence[int], latent_dim: int,
             options: WeakGANOptions | None = None) -> WeakGAN:
        """The three nets for ``observation_shape``; ``latent_dim`` = number of factors (the
        label y ranges over it). Parameters come from torch's global RNG (seed around it)."""
        options = options or WeakGANOptions()
        if not isinstance(options, WeakGANOptions):
            raise TypeError(f"WeakGAN.build: options must be a WeakGANOptions; got {type(options).__name__}")
        d = check_int("WeakGAN.build", "latent_dim", latent_dim, minimum=1)
        shape, arch = tuple(int(s) for s in observation_shape), options.architecture
        g = nets.generator(shape, d, arch, options.generator_hidden, options.batch_norm)
        dis = nets.Discriminator(shape, d, arch, options.discriminator_hidden, options.discriminator_width)
        e = nets.encoder(shape, d, arch, options.encoder_hidden, options.encoder_width)
        return cls(g, dis, e, d, options)

    def check_dataset(self, ds: Any) -> None:
        """``ValueError`` unless ``latent_dim`` is ``ds``'s number of factors (y indexes them)."""
        n = getattr(ds, "n_factors", None)
        if n is not None and n != self.latent_dim:
            raise ValueError(f"weak-gan: latent_dim must equal the number of factors of the dataset "
                             f"({n}: {', '.join(ds.factor_names)}); got latent_dim={self.latent_dim}")

    # -- representation -----------------------------------------------------------------------
    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """E's Gaussian: mean a and scale softplus(b) + 1e-8, each ``(B, latent_dim)``."""
        a, b = self.encoder(x).chunk(2, dim=-1)
        return a, F.softplus(b) + 1e-8

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, scale = self.posterior(x)
        return mean, 2.0 * scale.log()

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)

    def require_decoder(self, purpose: str = "this evaluator") -> None:
        raise NotImplementedError(f"not applicable: weak-gan has no likelihood decoder; {purpose} needs one")

    @property
    def likelihood(self) -> str:  # type: ignore[override]
        self.require_decoder("a likelihood")
        return ""

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        self.require_decoder("decode (use generate)")
        return z

    # -- the three players' losses --------------------------------------------------------------
    def fake_codes(self, n: int, generator: torch.Generator | None = None,
                   device: Any = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``match_randn``: z₁, z₂ ~ N(0, I); y ~ U{0..n−1}; share: z₂ takes z₁'s coordinate y
        (mask = 1 − e_y on the fresh z₂); change: z₂ = z₁ except coordinate y."""
        d = self.latent_dim
        at = generator.device if generator is not None else device  # draw where the generator lives
        z1 = torch.randn(n, d, generator=generator, device=at).to(device)
        z2 = torch.randn(n, d, generator=generator, device=at).to(device)
        y = torch.randint(0, d, (n,), generator=generator, device=at).to(device)
        onehot = F.one_hot(y, d).to(z1)
        mask = 1.0 - onehot if self.options.pairing == "share" else onehot
        return z1, z2 * mask + z1 * (1.0 - mask), y

    def discriminator_loss(self, x1: torch.Tensor, x2: torch.Tensor, y: torch.Tensor,
                           x1_fake: torch.Tensor, x2_fake: torch.Tensor,
                           y_fake: torch.Tensor) -> torch.Tensor:
        """Mean BCE of D on ``[real; fake]`` against ``[1]*B; [0]*B`` (one D call, as the source)."""
        logits = self.discriminator(torch.cat([x1, x1_fake]), torch.cat([x2, x2_fake]),
                                    torch.cat([y, y_fake]))
        target = torch.cat([torch.ones(x1.shape[0], 1), torch.zeros(x1_fake.shape[0], 1)])
        return sigmoid_bce(logits, target)

    def encoder_loss(self, x1_fake: torch.Tensor, z1: torch.Tensor) -> torch.Tensor:
        """−mean log q(z₁ | G(z₁))."""
        mean, scale = self.posterior(x1_fake)
        return -gaussian_log_prob(z1, mean, scale).mean()

    def generator_loss(self, x1_fake: torch.Tensor, x2_fake: torch.Tensor,
                       y_fake: torch.Tensor) -> torch.Tensor:
        """Non-saturating: mean BCE(D(G(z₁), G(z₂), y), 1)."""
        return sigmoid_bce(self.discriminator(x1_fake, x2_fake, y_fake), 1.0)

    def losses(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        raise NotImplementedError("WeakGAN.losses: the weak GAN alternates three players; train it "
                                  "with WeakGAN.train_step(batch, optimizers, generator)")

    # -- training -----------------------------------------------------------------------------
    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"discriminator": list(self.discriminator.parameters()),
                "encoder": list(self.encoder.parameters()),
                "generator": list(self.generator.parameters())}

    def make_optimizer(self, group: str, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        """Adam with the options' lr, betas and eps (the source's, the same for every player)."""
        if group not in PLAYERS:
            raise ValueError(f"WeakGAN.make_optimizer: group must be one of {PLAYERS}; got {group!r}")
        o = self.options
        return torch.optim.Adam(params, lr=o.lr, betas=o.betas, eps=o.adam_eps)

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One Adam per player (:meth:`make_optimizer`)."""
        return {k: self.make_optimizer(k, p) for k, p in self.optimizer_groups().items()}

    def train_step(self, batch: Any, optimizers: dict[str, torch.optim.Optimizer],
                   generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """One iteration of ``train_gen_step`` on a real pair batch ``(x1, x2, y)``; returns the
        detached ``dis_loss``, ``enc_loss``, ``gen_loss``."""
        x1, x2, y = tuple(batch)[:3]
        missing = [k for k in PLAYERS if k not in optimizers]
        if missing:
            raise ValueError(f"WeakGAN.train_step: optimizers must hold {PLAYERS}; missing {missing}")
        n, dev = x1.shape[0], x1.device
        z1, z2, y_fake = self.fake_codes(n, generator, dev)
        with torch.no_grad():
            x1_fake, x2_fake = self.generator(z1), self.generator(z2)
        dis_loss = self.discriminator_loss(x1, x2, y.to(dev), x1_fake, x2_fake, y_fake)
        enc_loss = self.encoder_loss(x1_fake, z1)
        for k in ("discriminator", "encoder"):
            optimizers[k].zero_grad(set_to_none=True)
        (dis_loss + enc_loss).backward()  # disjoint parameters: each gets its own gradient
        optimizers["discriminator"].step()
        optimizers["encoder"].step()

        z1, z2, y_fake = self.fake_codes(n, generator, dev)
        gen_loss = self.generator_loss(self.generator(z1), self.generator(z2), y_fake)
        gen_params = [p for p in self.generator.parameters() if p.requires_grad]
        grads = torch.autograd.grad(gen_loss, gen_params)
        optimizers["generator"].zero_grad(set_to_none=True)
        for p, g in zip(gen_params, grads):
            p.grad = g
        optimizers["generator"].step()
        return {"loss": (dis_loss + gen_loss).detach(), "dis_loss": dis_loss.detach(),
                "enc_loss": enc_loss.detach(), "gen_loss": gen_loss.detach()}
