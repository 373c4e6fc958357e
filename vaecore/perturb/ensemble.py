"""The frozen-encoder / trainable-decoder members of the perturbation training (Fig. 4.2).

Each member holds one selected β-VAE's posterior (μ, log σ²) of every data point — its encoder is
frozen and fed the original images, so these are computed once — and a copy of its decoder, which
is trained on the perturbed images x'' with its own Adam. :meth:`Member.loss` is the reconstruction
loss ℓ(x'', G(μ + σ ξ)) averaged over ``latent_samples`` draws ξ per image: "bernoulli" =
sigmoid cross-entropy with the decoder's logits, "l2" = ‖mean − x''‖² (the mean is the sigmoid of
the logits for Bernoulli decoders); both summed over pixels and averaged over images and draws.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["LOSSES", "Member"]

LOSSES = ("bernoulli", "l2")


class Member:
    """One selected model: posterior table, decoder copy and its optimizer."""

    def __init__(self, run: Any, dataset: Any, *, role: str, loss: str, lr: float,
                 betas: tuple[float, float], adam_eps: float, device: str = "cpu") -> None:
        from vaecore.perturb.select import posterior

        self.role = role
        self.loss_kind = loss
        self.likelihood = run.model.decoder.likelihood
        self.label = str(run.dir)
        mu, lv = posterior(run.model, dataset, np.arange(len(dataset), dtype=np.int64))
        self.mu = torch.as_tensor(mu, dtype=torch.float32, device=device)
        self.std = torch.as_tensor(np.exp(0.5 * lv), dtype=torch.float32, device=device)
        self.decoder = copy.deepcopy(run.model.decoder).to(device).train()
        for p in self.decoder.parameters():
            p.requires_grad_(True)
        self.optimizer = torch.optim.Adam(self.decoder.parameters(), lr=lr, betas=betas, eps=adam_eps)

    def codes(self, idx: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """z = μ + σ ξ for ``noise`` ξ of shape (S, B, latent_dim) → (S·B, latent_dim)."""
        return (self.mu[idx][None] + self.std[idx][None] * noise).reshape(-1, self.mu.shape[1])

    def loss(self, target: torch.Tensor, idx: torch.Tensor, noise: torch.Tensor, *, grad_decoder: bool) -> torch.Tensor:
        """ℓ(x'', G(z)) averaged over images and the S draws of ``noise`` (see module docstring)."""
        s = noise.shape[0]
        with torch.set_grad_enabled(grad_decoder and torch.is_grad_enabled()):
            out = self.decoder(self.codes(idx, noise))
        tgt = target.unsqueeze(0).expand(s, *target.shape).reshape(out.shape)
        if self.loss_kind == "bernoulli":
            total = F.binary_cross_entropy_with_logits(out, tgt, reduction="sum")
        else:
            mean = torch.sigmoid(out) if self.likelihood == "bernoulli" else out
            total = (mean - tgt).pow(2).sum()
        return total / out.shape[0]

    def step(self, target: torch.Tensor, idx: torch.Tensor, noise: torch.Tensor) -> float:
        """One Adam step of the decoder on x'' = ``target`` (detached)."""
        self.optimizer.zero_grad(set_to_none=True)
        value = self.loss(target.detach(), idx, noise, grad_decoder=True)
        value.backward()
        self.optimizer.step()
        return float(value.detach())

    def state(self) -> dict[str, Any]:
        return {"decoder": self.decoder.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load(self, state: dict[str, Any]) -> None:
        self.decoder.load_state_dict(state["decoder"])
        self.optimizer.load_state_dict(state["optimizer"])
