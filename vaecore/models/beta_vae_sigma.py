"""β-VAE-Σ: the β-VAE with a full-covariance Gaussian posterior (thesis §3.2.7, eq. 3.30-3.31).

Parametrisation. The thesis fixes the posterior (any Gaussian N(μ, Σ), with the KL of eq. 3.30)
and the reparameterisation through the Cholesky factor L of Σ (eq. 3.31: z = μ + Lε), not how
the encoder produces Σ. This control must not prefer any latent basis: "the objective becomes
rotationally symmetric [...] no specific alignment is prioritized" (§3.3.3). So the encoder emits
μ (k values) and an unconstrained k × k matrix B (row-major), Σ = AAᵀ with A = I + B, and L is
read off the QR decomposition Aᵀ = QR as L = Rᵀ with its diagonal made positive (LLᵀ = RᵀR =
AAᵀ; QR is stabler than factoring AAᵀ, whose condition number is squared). Rotating the latent
space by an orthogonal R maps (μ, B) to (Rμ, RBRᵀ), a linear change of the encoder's output
layer, so the model class is closed under rotations, and at initialisation (B ≈ 0, Σ ≈ I) it
starts from the same state as the diagonal β-VAE.

Not used: the encoder emitting L's k(k+1)/2 lower-triangle entries directly (diagonal through
``exp``). That parametrisation is not symmetric: latent 0's variance is the single entry L₀₀²,
latent j's the sum of j + 1 entries. At the dSprites quick scale (AdaGrad 2·10⁻², 3,000 steps,
seeds 0-2) it put the leading direction of the codes on latent 0 on every seed (posterior variance
0.05-0.12 there, 0.6-1.9 on the other latents; √var μ₀ 1.7-2.3), an alignment the control exists
to exclude; with A = I + B the codes lie oblique (√var μ_j 1.0-2.7 on every latent, seeds 0-2).

Sampling and KL go through the fused op :func:`vaecore.ops.full_cov_rsample`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from vaecore.models.base import Decoder, LatentModel
from vaecore.models.options import ModelOptions, option
from vaecore.ops import full_cov_rsample

__all__ = ["BetaVAESigma", "BetaVAESigmaOptions"]


@dataclass(frozen=True)
class BetaVAESigmaOptions(ModelOptions):
    """Options of β-VAE-Σ."""

    beta: float = option(1.0, "KL weight β: loss = recon + β·KL (eq. 3.30)", ge=0.0)
    backend: str = option(
        "auto", "backend of the fused sampling/KL op", kind="choice", choices=("auto", "native", "reference")
    )


class BetaVAESigma(LatentModel):
    """β-VAE-Σ: ``recon(x, dec(μ + Lε)) + β · ½(‖μ‖² + tr LLᵀ − log det LLᵀ − k)``, LLᵀ = AAᵀ."""

    name = "beta-vae-sigma"
    names = ("beta-vae-sigma",)
    Options = BetaVAESigmaOptions

    def __init__(
        self, encoder, decoder: Decoder, latent_dim: int, *, beta: float = 1.0, backend: str = "auto"
    ) -> None:
        super().__init__(encoder, decoder, latent_dim)
        self.beta = float(beta)
        self.backend = backend

    @classmethod
    def n_encoder_outputs(cls, latent_dim: int) -> int:
        return latent_dim + latent_dim * latent_dim

    def encode_full(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean ``(B, k)`` and the Cholesky factor ``(B, k, k)`` of Σ = AAᵀ."""
        h = self.encoder(x)
        k = self.latent_dim
        mu = h[:, :k]
        A = h[:, k:].reshape(-1, k, k) + torch.eye(k, dtype=h.dtype, device=h.device)
        _, R = torch.linalg.qr(A.transpose(1, 2))
        sign = torch.where(torch.diagonal(R, dim1=1, dim2=2) < 0, -1.0, 1.0).to(R.dtype)
        return mu, R.transpose(1, 2) * sign.unsqueeze(1)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """μ and the log of the diagonal of Σ (the marginal posterior variances)."""
        mu, L = self.encode_full(x)
        return mu, torch.log(L.pow(2).sum(-1))

    def losses(self, batch: Any, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        mu, L = self.encode_full(batch)
        z, kl_per = full_cov_rsample(mu, L, self.sample_noise(mu, generator), backend=self.backend)
        recon = self.reconstruction(batch, self.decoder(z))
        kl = kl_per.mean()
        return {"loss": recon + self.beta * kl, "recon": recon, "kl": kl}
