"""VAE (Kingma & Welling 2014), β-VAE (Higgins et al. 2017) and the linear VAE (thesis Theorem 2).

``loss = reconstruction + β · KL`` with the diagonal Gaussian posterior (eq. 2.4–2.6); the VAE is
β = 1; the linear VAE is a β-VAE whose encoder and decoder are single affine maps.
"""

from __future__ import annotations

from typing import Any

import torch

from vaecore.models.base import Decoder, LatentModel, diagonal_kl

__all__ = ["BetaVAE"]


class BetaVAE(LatentModel):
    """β-VAE: ``recon(x, dec(μ + σ ε)) + β · KL(N(μ, σ²) ‖ N(0, I))``."""

    name = "beta-vae"

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
