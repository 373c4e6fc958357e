"""Several copies of one fully connected model as a single model with a leading seed axis.

:class:`StackedModel` takes S models of the same shape (built separately, e.g. one per seed, so
each keeps its own initialisation) and holds every parameter once as an ``(S, *shape)`` tensor.
A linear layer becomes one batched matrix product (``torch.baddbmm``) over the S copies; the
activations are elementwise. Its :meth:`StackedModel.losses` takes batches ``(S, B, *obs)`` and
the posterior noise ``(S, B, k)`` drawn outside (so every copy draws from its own generator,
exactly as its separate run does) and returns every loss term as an ``(S,)`` tensor, the same
terms as the copies' own ``losses`` (base.py conventions: sums over entries, means over the
batch). The copies never mix: the gradient of ``terms["loss"].sum()`` with respect to copy s is
the gradient of copy s's own loss, and elementwise optimizers (Adam, AdaGrad, SGD, RMSprop) on
the stacked tensors update each copy as its own optimizer would.

Supported: the models of :data:`STACKABLE_MODELS` on the "mlp" and "linear" architectures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vaecore.models.base import LatentModel
from vaecore.models.mlp import Flatten, Unflatten

__all__ = ["STACKABLE_ARCHITECTURES", "STACKABLE_MODELS", "StackedModel", "stackable"]

#: model name → whether it samples z (β-VAE family) or is deterministic (AE)
STACKABLE_MODELS: dict[str, bool] = {"beta-vae": True, "vae": True, "linear-vae": True, "ae": False}
STACKABLE_ARCHITECTURES: tuple[str, ...] = ("mlp", "linear")
_ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.LeakyReLU, nn.ELU, nn.Sigmoid, nn.Softplus)


def stackable(model: str, architecture: str) -> str | None:
    """None when ``model`` on ``architecture`` can be stacked, else the reason it cannot."""
    if model not in STACKABLE_MODELS:
        return f"model {model!r} is not one of {tuple(STACKABLE_MODELS)}"
    if architecture not in STACKABLE_ARCHITECTURES:
        return f"architecture {architecture!r} is not one of {STACKABLE_ARCHITECTURES}"
    return None


def _leaves(module: nn.Module) -> list[nn.Module]:
    kids = list(module.children())
    if not kids:
        return [module]
    return [leaf for kid in kids for leaf in _leaves(kid)]


class _StackedNet(nn.Module):
    """The layers of S copies of one MLP: ``(S, B, n_in) → (S, B, n_out)``.

    ``params`` are the stacked weights and biases in the copies' layer order."""

    def __init__(self, layers: Sequence[nn.Module], params: list[nn.Parameter]) -> None:
        super().__init__()
        self.ops: list[tuple[str, object]] = []
        it = iter(params)
        for layer in layers:
            if isinstance(layer, nn.Linear):
                self.ops.append(("linear", (next(it), next(it))))
            elif isinstance(layer, _ELEMENTWISE):
                self.ops.append(("act", layer))
            elif not isinstance(layer, (Flatten, Unflatten)):
                raise ValueError(f"StackedModel: cannot stack a {type(layer).__name__} layer")

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        for kind, op in self.ops:
            if kind == "linear":
                w, b = op  # type: ignore[misc]
                h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
            else:
                h = op(h)  # type: ignore[operator]
        return h


class StackedModel(nn.Module):
    """S copies of one model (:data:`STACKABLE_MODELS`) trained as one (module docstring)."""

    def __init__(self, models: Sequence[LatentModel]) -> None:
        super().__init__()
        if not models:
            raise ValueError("StackedModel: models must be a non-empty list")
        first = models[0]
        if first.name not in STACKABLE_MODELS:
            raise ValueError(f"StackedModel: {stackable(first.name, 'mlp')}")
        shapes = [[tuple(p.shape) for p in m.parameters()] for m in models]
        if any(type(m) is not type(first) or s != shapes[0] for m, s in zip(models, shapes)):
            raise ValueError("StackedModel: the models must be of one class with equal parameter shapes")
        self.n = len(models)
        self.latent_dim = first.latent_dim
        self.stochastic = STACKABLE_MODELS[first.name]
        self.beta = float(getattr(first, "beta", 1.0))
        self.likelihood = first.likelihood
        per_model = [list(m.parameters()) for m in models]
        self.stacked = nn.ParameterList(
            [nn.Parameter(torch.stack([p[j].detach() for p in per_model]).contiguous()) for j in range(len(per_model[0]))]
        )
        n_enc = len(list(first.encoder.parameters()))
        params = list(self.stacked)
        self.encoder = _StackedNet(_leaves(first.encoder), params[:n_enc])
        self.decoder = _StackedNet(_leaves(first.decoder), params[n_enc:])

    def params(self) -> list[nn.Parameter]:
        """The stacked parameters, in the order of each copy's ``parameters()``."""
        return list(self.stacked)

    @torch.no_grad()
    def write_back(self, models: Sequence[LatentModel]) -> None:
        """Copy copy s's slice of every stacked parameter into ``models[s]``."""
        for s, model in enumerate(models):
            for p, stacked in zip(model.parameters(), self.stacked):
                p.copy_(stacked[s])

    def reconstruction(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Per-copy reconstruction ``(S,)``: summed over entries, averaged over the batch."""
        if self.likelihood == "bernoulli":
            per = F.binary_cross_entropy_with_logits(out, x, reduction="none")
        else:
            per = (out - x).pow(2)
        return per.flatten(1).sum(1) / x.shape[1]

    def losses(self, x: torch.Tensor, eps: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Loss terms ``(S,)`` of batches ``x`` ``(S, B, *obs)`` with noise ``eps`` ``(S, B, k)``."""
        flat = x.reshape(x.shape[0], x.shape[1], math.prod(x.shape[2:]))
        h = self.encoder(flat)
        if not self.stochastic:
            recon = self.reconstruction(flat, self.decoder(h))
            return {"loss": recon, "recon": recon}
        if eps is None:
            raise ValueError("StackedModel.losses: eps is required for a stochastic model")
        k = self.latent_dim
        mu, logvar = h[..., :k], h[..., k:]
        z = mu + torch.exp(0.5 * logvar) * eps
        recon = self.reconstruction(flat, self.decoder(z))
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum((1, 2)) / x.shape[1]
        return {"loss": recon + self.beta * kl, "recon": recon, "kl": kl}
