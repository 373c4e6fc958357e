"""SlowVAE (Klindt et al. 2021) as in the authors' code (SPEC-ch4 §3; bethgelab/slow_disentanglement
``scripts/solver.py``, ``main.py``).

A batch is a pair of frames ``(x_a, x_b, label)`` (``"laplace"`` pairs, natural transitions); the
encoder q(z|x) = N(μ, σ²) sees both. Per pair:

    L = R(x_a) + R(x_b) + β·½[KL_N(a) + KL_N(b)] + γ·[C(μ_a−μ_b, σ_a) + C(μ_b−μ_a, σ_b) − ½(H_a + H_b)]

with R the reconstruction loss (summed over pixels), KL_N the KL to N(0, I), H = Σ_j ½(log σ_j² +
log 2πe) the posterior entropy and C(m, s) = E_{z~N(m, s²)}[−log Lap(z; 0, 1/λ)]
(:func:`laplace_cross_entropy`): each frame's posterior against a Laplace prior of rate λ
(``rate_prior``) centred at the other frame's mean, with gradients through both means. The loss is
averaged over the pairs of the batch (the source averages R, KL and H over its 64 images, C over
its 32 pairs, and doubles R: the same number). Representation for the metrics: the posterior mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from vaecore.models.base import diagonal_kl
from vaecore.models.beta_vae import BetaVAE
from vaecore.models.options import ModelOptions, option

__all__ = ["SlowVAE", "SlowVAEOptions", "laplace_cross_entropy", "slow_vae_loss"]

_LOG_2PI_E = math.log(2.0 * math.pi * math.e)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@dataclass(frozen=True)
class SlowVAEOptions(ModelOptions):
    """Options of SlowVAE; defaults from the authors' ``main.py`` ("best params found by UDR")."""

    beta: float = option(1.0, "weight β of the KL to the normal prior", ge=0.0)
    gamma: float = option(10.0, "weight γ of the KL to the Laplace transition prior", ge=0.0)
    rate_prior: float = option(6.0, "rate λ of the Laplace transition prior", gt=0.0)


def laplace_cross_entropy(m: torch.Tensor, logvar: torch.Tensor, rate: float) -> torch.Tensor:
    """C(m, s) = E_{z~N(m, s²)}[−log Lap(z; 0, 1/λ)] elementwise, s² = exp(logvar), λ = ``rate``.

    C(m, s) = −log(λ/2) + λ·E|z| with E|z| = s·√(2/π)·exp(−m²/2s²) + m·(1 − 2Φ(−m/s)), the mean of
    the folded normal (SPEC-ch4 §3; ``solver.py``'s ``compute_cross_ent_laplace``).
    """
    s = torch.exp(0.5 * logvar)
    folded_mean = s * _SQRT_2_OVER_PI * torch.exp(-m.pow(2) / (2.0 * s.pow(2))) + m * (
        1.0 - 2.0 * torch.special.ndtr(-m / s)
    )
    return -math.log(rate / 2.0) + rate * folded_mean


def slow_vae_loss(
    x: torch.Tensor,
    out: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    *,
    beta: float,
    gamma: float,
    rate_prior: float,
    reconstruction: Any,
) -> dict[str, torch.Tensor]:
    """SlowVAE's loss terms for ``n`` pairs stacked as ``[frames a; frames b]`` (``2n`` rows).

    ``reconstruction(x, out)`` is the per-image reconstruction loss averaged over the ``2n``
    images. Returns ``loss`` (averaged over pairs), ``recon`` (per image), ``kl`` (KL to N(0, I),
    per image) and ``kl_laplace`` (per pair: C_a + C_b − ½(H_a + H_b)).
    """
    n = mu.shape[0] // 2
    recon = reconstruction(x, out)
    kl = diagonal_kl(mu, logvar)
    entropy = (0.5 * (logvar + _LOG_2PI_E)).sum(1).mean()
    mu_a, mu_b, lv_a, lv_b = mu[:n], mu[n:], logvar[:n], logvar[n:]
    cross = laplace_cross_entropy(mu_a - mu_b, lv_a, rate_prior) + laplace_cross_entropy(mu_b - mu_a, lv_b, rate_prior)
    kl_laplace = cross.sum(1).mean() - entropy
    loss = 2.0 * recon + beta * kl + gamma * kl_laplace
    return {"loss": loss, "recon": recon, "kl": kl, "kl_laplace": kl_laplace}


class SlowVAE(BetaVAE):
    """SlowVAE on pairs ``(x_a, x_b, label)`` of ``"laplace"`` transitions (label unused)."""

    name = "slow-vae"
    names = ("slow-vae",)
    Options = SlowVAEOptions
    pairing = "laplace"

    def __init__(
        self, encoder, decoder, latent_dim: int, *, beta: float = 1.0, gamma: float = 10.0, rate_prior: float = 6.0
    ) -> None:
        super().__init__(encoder, decoder, latent_dim, beta=beta)
        self.gamma = float(gamma)
        self.rate_prior = float(rate_prior)

    def losses(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        x_a, x_b, _ = batch
        x = torch.cat([x_a, x_b])
        mu, logvar = self.encode(x)
        out = self.decoder(self.sample(mu, logvar, generator))
        return slow_vae_loss(
            x, out, mu, logvar, beta=self.beta, gamma=self.gamma, rate_prior=self.rate_prior,
            reconstruction=self.reconstruction,
        )
