"""Plain autoencoder (the AE column of Table 3.3): deterministic encoder, reconstruction only."""

from __future__ import annotations

from typing import Any

import torch

from vaecore.models.base import LatentModel

__all__ = ["AE"]


class AE(LatentModel):
    """Deterministic autoencoder: ``loss = reconstruction(x, decode(μ(x)))``.

    The encoder emits μ only. :meth:`encode` returns ``(μ, zeros)`` so code written for posteriors
    keeps working; the zeros are a placeholder, not a posterior variance, and the training loop
    does not run the polarized-regime monitor for this model.
    """

    name = "ae"
    names = ("ae",)
    stochastic = False

    @classmethod
    def n_encoder_outputs(cls, latent_dim: int) -> int:
        return latent_dim

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu = self.encoder(x)
        return mu, torch.zeros_like(mu)

    def losses(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        mu = self.encoder(batch)
        recon = self.reconstruction(batch, self.decoder(mu))
        return {"loss": recon, "recon": recon}
