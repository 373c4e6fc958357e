"""DIP-VAE-I and DIP-VAE-II (Kumar et al. 2018) as in disentanglement_lib.

``loss = recon + KL + λ_od Σ_{i≠j} C_ij² + λ_d Σ_i (C_ii − 1)²`` with C = Cov[μ(x)] (type I) or
C = Cov[μ(x)] + E[diag σ²(x)] (type II), both over the minibatch (population covariance).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from vaecore.models.base import Decoder, LatentModel, diagonal_kl
from vaecore.models.options import ModelOptions, option

__all__ = ["DIPVAE", "DIPVAEOptions"]


@dataclass(frozen=True)
class DIPVAEOptions(ModelOptions):
    """Options of DIP-VAE-I/II (disentanglement_lib's defaults)."""

    lambda_od: float = option(10.0, "weight λ_od of the off-diagonal covariance penalty", ge=0.0)
    lambda_d: float | None = option(
        None, "weight λ_d of the diagonal penalty; None: 10·λ_od (DIP-VAE-I) or λ_od (DIP-VAE-II), "
        "disentanglement_lib's lambda_d_factor", ge=0.0, optional=True,
    )

    def resolved_lambda_d(self, dip_type: str) -> float:
        """λ_d: the set value, else 10·λ_od (type "i") or λ_od (type "ii")."""
        if self.lambda_d is not None:
            return float(self.lambda_d)
        return self.lambda_od * (10.0 if dip_type == "i" else 1.0)


class DIPVAE(LatentModel):
    """DIP-VAE; ``dip_type`` = "i" or "ii"."""

    name = "dip-vae"
    names = ("dip-vae-i", "dip-vae-ii")
    Options = DIPVAEOptions

    def __init__(
        self,
        encoder,
        decoder: Decoder,
        latent_dim: int,
        *,
        lambda_od: float,
        lambda_d: float,
        dip_type: str,
    ) -> None:
        super().__init__(encoder, decoder, latent_dim)
        if dip_type not in ("i", "ii"):
            raise ValueError(f"DIPVAE: dip_type must be one of ('i', 'ii'); got {dip_type!r}")
        self.lambda_od = float(lambda_od)
        self.lambda_d = float(lambda_d)
        self.dip_type = dip_type
        self.name = f"dip-vae-{dip_type}"

    @classmethod
    def build(cls, name: str, options: DIPVAEOptions, nets: Any) -> DIPVAE:  # type: ignore[override]
        dip_type = name[len("dip-vae-") :]
        encoder = nets.encoder(cls.n_encoder_outputs(nets.latent_dim))
        return cls(
            encoder, nets.decoder(), nets.latent_dim, lambda_od=options.lambda_od,
            lambda_d=options.resolved_lambda_d(dip_type), dip_type=dip_type,
        )

    def regularizer(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        centered = mu - mu.mean(0, keepdim=True)
        cov = centered.T @ centered / mu.shape[0]
        if self.dip_type == "ii":
            cov = cov + torch.diag(logvar.exp().mean(0))
        diag = torch.diagonal(cov)
        off = cov - torch.diag(diag)
        return self.lambda_od * off.pow(2).sum() + self.lambda_d * (diag - 1.0).pow(2).sum()

    def losses(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        mu, logvar = self.encode(batch)
        z = mu + torch.exp(0.5 * logvar) * self.sample_noise(mu, generator)
        recon = self.reconstruction(batch, self.decoder(z))
        kl = diagonal_kl(mu, logvar)
        dip = self.regularizer(mu, logvar)
        return {"loss": recon + kl + dip, "recon": recon, "kl": kl, "dip": dip}
