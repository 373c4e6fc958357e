"""Ada-GVAE and Ada-ML-VAE (Locatello et al. 2020, "Weakly-Supervised Disentanglement Without
Compromises") as in disentanglement_lib ``methods/weak/weak_vae.py`` (SPEC-ch4 §5).

A batch is a pair ``(x₁, x₂, label)`` (``"dlib-k"`` pairs: a few factors resampled; the label is
not used, the shared factors are found adaptively). The same encoder sees both images. Per
latent j, δ_j = σ₁²/σ₂² + (μ₂−μ₁)²/σ₂² − 1 + log σ₂² − log σ₁² (twice KL(q₁‖q₂));
the latents with δ_j in the upper of two equal-width bins over [min δ, max δ] of the pair
(``tf.histogram_fixed_width_bins``; all δ equal: none) keep their own posteriors, the others are
replaced in both posteriors by an aggregate:

* ``ada-gvae`` (group VAE averaging): μ̄ = (μ₁+μ₂)/2, σ̄² = (σ₁²+σ₂²)/2;
* ``ada-ml-vae`` (ML-VAE): σ̄² = 2σ₁²σ₂²/(σ₁²+σ₂²), μ̄ = (μ₁/σ₁² + μ₂/σ₂²)·σ̄²/2 (the mean of the
  product of the two Gaussians; the variance is twice the product's, as in the source).

L = ½(R₁ + R₂) + β·½(KL(q̃₁) + KL(q̃₂)), averaged over the pairs. Representation for the
metrics: the posterior mean of a single image.
"""

from __future__ import annotations

from typing import Any

import torch

from vaecore.models.base import diagonal_kl
from vaecore.models.beta_vae import BetaOptions, BetaVAE

__all__ = ["AGGREGATIONS", "AdaGVAE", "adaptive_mask", "aggregate", "pair_divergence"]

AGGREGATIONS: dict[str, str] = {"ada-gvae": "gvae", "ada-ml-vae": "ml-vae"}


def pair_divergence(mu1: torch.Tensor, mu2: torch.Tensor, lv1: torch.Tensor, lv2: torch.Tensor) -> torch.Tensor:
    """δ = σ₁²/σ₂² + (μ₂−μ₁)²/σ₂² − 1 + log σ₂² − log σ₁² per latent (dlib's ``compute_kl``)."""
    v1, v2 = lv1.exp(), lv2.exp()
    return v1 / v2 + (mu2 - mu1).pow(2) / v2 - 1.0 + lv2 - lv1


def adaptive_mask(delta: torch.Tensor) -> torch.Tensor:
    """True for the latents of a pair (a row of ``delta``) in the upper of two equal-width bins
    over [min, max] of the row: ``floor(2·(δ − min)/(max − min))`` clipped to {0, 1} equals 1 (dlib's
    ``discretize_in_bins``); a row whose values are all equal has none."""
    lo = delta.min(dim=1, keepdim=True).values
    hi = delta.max(dim=1, keepdim=True).values
    width = hi - lo
    index = torch.floor(2.0 * (delta - lo) / torch.where(width > 0, width, torch.ones_like(width)))
    return (index.clamp(0.0, 1.0) == 1.0) & (width > 0)


def aggregate(
    mu1: torch.Tensor, mu2: torch.Tensor, lv1: torch.Tensor, lv2: torch.Tensor, kind: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """The aggregate posterior (mean, log-variance) of a pair: ``kind`` "gvae" or "ml-vae"."""
    v1, v2 = lv1.exp(), lv2.exp()
    if kind == "gvae":
        return 0.5 * mu1 + 0.5 * mu2, torch.log(0.5 * v1 + 0.5 * v2)
    if kind == "ml-vae":
        var = 2.0 * v1 * v2 / (v1 + v2)
        return (mu1 / v1 + mu2 / v2) * var * 0.5, torch.log(var)
    raise ValueError(f"aggregate: kind must be one of ('gvae', 'ml-vae'); got {kind!r}")


class AdaGVAE(BetaVAE):
    """Ada-GVAE / Ada-ML-VAE on pairs ``(x₁, x₂, label)``; ``aggregation`` from the name."""

    name = "ada-gvae"
    names = tuple(AGGREGATIONS)
    Options = BetaOptions
    pairing = "dlib-k"
    aggregation = "gvae"

    @classmethod
    def build(cls, name: str, options: BetaOptions, nets: Any) -> AdaGVAE:  # type: ignore[override]
        model = cls(nets.encoder(cls.n_encoder_outputs(nets.latent_dim)), nets.decoder(), nets.latent_dim,
                    beta=options.beta)
        model.aggregation = AGGREGATIONS[name]
        return model

    def posteriors(self, x1: torch.Tensor, x2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The pair's posteriors after aggregation, stacked ``[q̃₁; q̃₂]`` (means, log-variances),
        and the mask of latents that keep their own posterior ``(n, latent_dim)``."""
        n = x1.shape[0]
        mu, lv = self.encode(torch.cat([x1, x2]))
        mu1, mu2, lv1, lv2 = mu[:n], mu[n:], lv[:n], lv[n:]
        mask = adaptive_mask(pair_divergence(mu1, mu2, lv1, lv2))
        new_mu, new_lv = aggregate(mu1, mu2, lv1, lv2, self.aggregation)
        means = torch.cat([torch.where(mask, mu1, new_mu), torch.where(mask, mu2, new_mu)])
        logvars = torch.cat([torch.where(mask, lv1, new_lv), torch.where(mask, lv2, new_lv)])
        return means, logvars, mask

    def losses(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        x1, x2, _ = batch
        means, logvars, mask = self.posteriors(x1, x2)
        out = self.decoder(self.sample(means, logvars, generator))
        recon = self.reconstruction(torch.cat([x1, x2]), out)
        kl = diagonal_kl(means, logvars)
        return {"loss": recon + self.beta * kl, "recon": recon, "kl": kl, "n_own": mask.sum(1).float().mean()}
