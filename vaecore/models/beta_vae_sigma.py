"""β-VAE-Σ: the β-VAE with a full-covariance Gaussian posterior (thesis §3.2.7, eq. 3.30-3.31).

The encoder emits μ (k values) and the k(k+1)/2 entries of a lower-triangular factor L (row-major
lower triangle); the diagonal is made positive by ``exp`` (so log det LLᵀ = 2 Σ raw diagonal).
Sampling and KL go through the fused op :func:`vaecore.ops.full_cov_rsample`.
"""

from __future__ import annotations

from typing import Any

import torch

from vaecore.models.base import Decoder, LatentModel
from vaecore.ops import full_cov_rsample

__all__ = ["BetaVAESigma"]


class BetaVAESigma(LatentModel):
    """β-VAE-Σ: ``recon(x, dec(μ + Lε)) + β · ½(‖μ‖² + tr LLᵀ − log det LLᵀ − k)``."""

    name = "beta-vae-sigma"

    def __init__(
        self, encoder, decoder: Decoder, latent_dim: int, *, beta: float = 1.0, backend: str = "auto"
    ) -> None:
        super().__init__(encoder, decoder, latent_dim)
        self.beta = float(beta)
        self.backend = backend
        rows, cols = torch.tril_indices(latent_dim, latent_dim)
        self.register_buffer("_rows", rows, persistent=False)
        self.register_buffer("_cols", cols, persistent=False)
        self.register_buffer("_diag_mask", rows == cols, persistent=False)

    @classmethod
    def n_encoder_outputs(cls, latent_dim: int) -> int:
        return latent_dim + latent_dim * (latent_dim + 1) // 2

    def encode_full(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean ``(B, k)`` and Cholesky factor ``(B, k, k)`` (positive diagonal)."""
        h = self.encoder(x)
        k = self.latent_dim
        mu, raw = h[:, :k], h[:, k:]
        entries = torch.where(self._diag_mask, raw.exp(), raw)
        L = h.new_zeros(h.shape[0], k, k)
        L[:, self._rows, self._cols] = entries
        return mu, L

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """μ and the log of the diagonal of Σ = LLᵀ (the marginal posterior variances)."""
        mu, L = self.encode_full(x)
        return mu, torch.log(L.pow(2).sum(-1))

    def losses(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        mu, L = self.encode_full(batch)
        z, kl_per = full_cov_rsample(mu, L, self.sample_noise(mu, generator), backend=self.backend)
        recon = self.reconstruction(batch, self.decoder(z))
        kl = kl_per.mean()
        return {"loss": recon + self.beta * kl, "recon": recon, "kl": kl}
