"""FactorVAE (Kim & Mnih 2018) as in disentanglement_lib.

VAE loss ``recon + KL + γ · TC`` with TC ≈ E[D₀(z) − D₁(z)] from a discriminator D (an MLP with
leaky-ReLU hidden layers, 6 × 1000 by default, two logits). D is trained on the same batch to tell
z from z with every latent permuted independently across the batch (``shuffle_codes``), with its
own optimizer (Adam, lr 1e-4, betas (0.5, 0.9) by default): it maximises
½ E log D₀(z) + ½ E log D₁(z_perm). The VAE's gradients never reach D and vice versa.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vaecore.models.base import Decoder, diagonal_kl
from vaecore.models.beta_vae import BetaVAE
from vaecore.models.options import ModelOptions, option

__all__ = ["FactorVAE", "FactorVAEOptions", "shuffle_codes"]


@dataclass(frozen=True)
class FactorVAEOptions(ModelOptions):
    """Options of FactorVAE (disentanglement_lib's defaults)."""

    gamma: float = option(10.0, "TC weight γ: loss = recon + KL + γ·TC", ge=0.0)
    discriminator_hidden: tuple[int, ...] = option(
        (1000,) * 6, "hidden widths of the discriminator MLP (leaky-ReLU 0.2)", kind="ints"
    )
    discriminator_lr: float = option(1e-4, "Adam learning rate of the discriminator (betas 0.5, 0.9)", gt=0.0)


def shuffle_codes(z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Permute each latent column independently across the batch."""
    keys = torch.rand(z.shape, generator=generator, device=z.device)
    return torch.gather(z, 0, keys.argsort(dim=0))


class FactorVAE(BetaVAE):
    """FactorVAE with discriminator ``self.discriminator`` and weight ``gamma``."""

    name = "factor-vae"
    names = ("factor-vae",)
    Options = FactorVAEOptions

    def __init__(
        self,
        encoder,
        decoder: Decoder,
        latent_dim: int,
        *,
        gamma: float = 10.0,
        discriminator_hidden: Sequence[int] = (1000,) * 6,
        discriminator_lr: float = 1e-4,
    ) -> None:
        super().__init__(encoder, decoder, latent_dim, beta=1.0)
        self.gamma = float(gamma)
        self.discriminator_lr = float(discriminator_lr)
        layers: list[nn.Module] = []
        width = latent_dim
        for h in discriminator_hidden:
            layers += [nn.Linear(width, int(h)), nn.LeakyReLU(0.2)]
            width = int(h)
        layers.append(nn.Linear(width, 2))
        self.discriminator = nn.Sequential(*layers)

    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        disc = {id(p) for p in self.discriminator.parameters()}
        main = [p for p in self.parameters() if id(p) not in disc]
        return {"main": main, "discriminator": list(self.discriminator.parameters())}

    def make_optimizer(self, group: str, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        """Adam (lr ``discriminator_lr``, betas (0.5, 0.9), ε 1e-8) for the discriminator."""
        if group != "discriminator":
            return super().make_optimizer(group, params)
        return torch.optim.Adam(params, lr=self.discriminator_lr, betas=(0.5, 0.9), eps=1e-8)

    def losses(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        mu, logvar = self.encode(batch)
        z = self.sample(mu, logvar, generator)
        recon = self.reconstruction(batch, self.decoder(z))
        kl = diagonal_kl(mu, logvar)
        logits = self.discriminator(z)
        tc = (logits[:, 0] - logits[:, 1]).mean()
        z_d = z.detach()
        logits_real = self.discriminator(z_d)
        logits_perm = self.discriminator(shuffle_codes(z_d, generator))
        disc_loss = -0.5 * (
            F.log_softmax(logits_real, dim=1)[:, 0].mean() + F.log_softmax(logits_perm, dim=1)[:, 1].mean()
        )
        return {
            "loss": recon + kl + self.gamma * tc,
            "recon": recon,
            "kl": kl,
            "tc": tc,
            "disc_loss": disc_loss,
        }

    def backward(self, terms: dict[str, torch.Tensor]) -> None:
        groups = self.optimizer_groups()
        main = [p for p in groups["main"] if p.requires_grad]
        grads = torch.autograd.grad(terms["loss"], main, allow_unused=True)
        for p, g in zip(main, grads):
            p.grad = g if p.grad is None or g is None else p.grad + g
        disc = groups["discriminator"]
        dgrads = torch.autograd.grad(terms["disc_loss"], disc)
        for p, g in zip(disc, dgrads):
            p.grad = g if p.grad is None else p.grad + g
