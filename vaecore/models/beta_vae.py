"""VAE (Kingma & Welling 2014), β-VAE (Higgins et al. 2017) and the linear VAE (thesis Theorem 2).

``loss = reconstruction + β · KL`` with the diagonal Gaussian posterior (eq. 2.4–2.6); the VAE is
β = 1; the linear VAE is a β-VAE whose encoder and decoder are single affine maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from vaecore.models.base import Decoder, LatentModel, diagonal_kl
from vaecore.models.options import ModelOptions, NoOptions, option

__all__ = ["BetaOptions", "BetaVAE", "LinearVAE", "VAE"]


@dataclass(frozen=True)
class BetaOptions(ModelOptions):
    """Options of the β-VAE, the linear VAE, Ada-GVAE and Ada-ML-VAE."""

    beta: float = option(1.0, "KL weight β: loss = recon + β·KL (eq. 2.4)", ge=0.0)


class BetaVAE(LatentModel):
    """β-VAE: ``recon(x, dec(μ + σ ε)) + β · KL(N(μ, σ²) ‖ N(0, I))``."""

    name = "beta-vae"
    names = ("beta-vae",)
    Options = BetaOptions

    def __init__(self, encoder, decoder: Decoder, latent_dim: int, *, beta: float = 1.0) -> None:
        super().__init__(encoder, decoder, latent_dim)
        self.beta = float(beta)

    def sample(
        self, mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None
    ) -> torch.Tensor:
        return mu + torch.exp(0.5 * logvar) * self.sample_noise(mu, generator)

    def losses(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        mu, logvar = self.encode(batch)
        z = self.sample(mu, logvar, generator)
        recon = self.reconstruction(batch, self.decoder(z))
        kl = diagonal_kl(mu, logvar)
        return {"loss": recon + self.beta * kl, "recon": recon, "kl": kl}


class VAE(BetaVAE):
    """The VAE: the β-VAE with β = 1 (no options)."""

    name = "vae"
    names = ("vae",)
    Options = NoOptions

    @classmethod
    def build(cls, name: str, options: ModelOptions, nets: Any) -> LatentModel:
        encoder = nets.encoder(cls.n_encoder_outputs(nets.latent_dim))
        return cls(encoder, nets.decoder(), nets.latent_dim, beta=1.0)


class LinearVAE(BetaVAE):
    """The linear VAE of Synth. Lin. and Theorem 2: a β-VAE on single affine maps."""

    name = "linear-vae"
    names = ("linear-vae",)
    architectures = ("linear",)
