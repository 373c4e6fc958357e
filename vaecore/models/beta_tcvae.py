"""β-TCVAE (Chen et al. 2018) as in disentanglement_lib: ``recon + KL + (β − 1) · TC``.

The total correlation is estimated on the minibatch by minibatch-weighted sampling, exactly as
disentanglement_lib's ``total_correlation`` (without the log(N·M) constant, which cancels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from vaecore.models.base import diagonal_kl
from vaecore.models.beta_vae import BetaVAE
from vaecore.models.options import ModelOptions, option

__all__ = ["BetaTCVAE", "BetaTCVAEOptions", "gaussian_log_density", "total_correlation"]


@dataclass(frozen=True)
class BetaTCVAEOptions(ModelOptions):
    """Options of β-TCVAE."""

    beta: float = option(1.0, "TC weight β: loss = recon + KL + (β − 1)·TC", ge=0.0)

_LOG_2PI = math.log(2.0 * math.pi)


def gaussian_log_density(x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Elementwise log N(x; μ, exp(logvar))."""
    d = x - mu
    return -0.5 * (d * d * torch.exp(-logvar) + logvar + _LOG_2PI)


def total_correlation(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Minibatch estimate of TC(z) = E[log q(z) − Σ_j log q(z_j)] (disentanglement_lib)."""
    log_q = gaussian_log_density(z.unsqueeze(1), mu.unsqueeze(0), logvar.unsqueeze(0))  # (B, B, k)
    log_q_product = torch.logsumexp(log_q, dim=1).sum(dim=1)
    log_q_joint = torch.logsumexp(log_q.sum(dim=2), dim=1)
    return (log_q_joint - log_q_product).mean()


class BetaTCVAE(BetaVAE):
    """β-TCVAE: ``recon + KL + (β − 1) · TC`` (β = 1 is the VAE)."""

    name = "beta-tcvae"
    names = ("beta-tcvae",)
    Options = BetaTCVAEOptions

    def losses(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        mu, logvar = self.encode(batch)
        z = self.sample(mu, logvar, generator)
        recon = self.reconstruction(batch, self.decoder(z))
        kl = diagonal_kl(mu, logvar)
        tc = total_correlation(z, mu, logvar)
        return {"loss": recon + kl + (self.beta - 1.0) * tc, "recon": recon, "kl": kl, "tc": tc}
