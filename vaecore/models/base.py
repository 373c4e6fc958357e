"""The shared model class: encoder network + decoder + objective (one subclass per paper).

Loss conventions (disentanglement_lib's; β values depend on them):

* reconstruction, ``likelihood="bernoulli"``: binary cross-entropy with logits, **summed over all
  observation entries and averaged over the batch**; the decoder outputs logits.
* reconstruction, ``likelihood="gaussian"``: squared error ‖x̂ − x‖², **summed over all
  observation entries and averaged over the batch** (no ½, no variance: eq. 3.6); the decoder
  outputs the mean.
* KL of a diagonal posterior: ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1), summed over latents, averaged
  over the batch (eq. 2.6).

A batch is a tensor ``x`` of shape ``(B, *observation_shape)``; objectives that need paired
observations (chapter 4's weakly supervised models) receive a tuple and unpack it themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vaecore.models.options import ModelOptions, NoOptions

if TYPE_CHECKING:
    from vaecore.models.networks import Networks

__all__ = ["Decoder", "LatentModel", "diagonal_kl"]

LIKELIHOODS: tuple[str, ...] = ("bernoulli", "gaussian")


class Decoder(nn.Module):
    """Wraps a decoder network and records its likelihood.

    ``likelihood`` = "bernoulli" (the output is logits; the mean is its sigmoid) or "gaussian"
    (the output is the mean). :func:`vaecore.jacobians` reads this attribute.
    """

    def __init__(self, net: nn.Module, likelihood: str) -> None:
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"Decoder: likelihood must be one of {LIKELIHOODS}; got {likelihood!r}")
        self.net = net
        self.likelihood = likelihood

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def diagonal_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) summed over latents, averaged over the batch (eq. 2.6)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0).sum() / mu.shape[0]


class LatentModel(nn.Module):
    """Base class of every vaecore model.

    Parameters
    ----------
    encoder
        Network mapping ``(B, *observation_shape)`` to ``(B, n_params)`` posterior parameters
        (``n_params`` = :meth:`n_encoder_outputs` of the subclass).
    decoder
        A :class:`Decoder` mapping ``(B, latent_dim)`` to ``(B, *observation_shape)``.
    latent_dim
        Number of latents.
    """

    name = "base"
    stochastic = True
    losses: Any  # defined by every objective (see "the objective" below)

    # -- registration (see vaecore.models.registry) ---------------------------------------------
    #: the model names this class is registered under
    names: ClassVar[tuple[str, ...]] = ()
    #: the frozen dataclass of the model's own hyperparameters
    Options: ClassVar[type[ModelOptions]] = NoOptions
    #: architectures the model may be built on (None: any)
    architectures: ClassVar[tuple[str, ...] | None] = None
    #: paired models: the default ``pairing`` kind of their batches ``(x1, x2, label)``
    pairing: ClassVar[str | None] = None

    def __init__(self, encoder: nn.Module, decoder: Decoder, latent_dim: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.latent_dim = int(latent_dim)

    @classmethod
    def n_encoder_outputs(cls, latent_dim: int) -> int:
        return 2 * latent_dim

    @classmethod
    def build(cls, name: str, options: ModelOptions, nets: Networks) -> LatentModel:
        """The model ``name`` (one of :attr:`names`) with ``options`` on ``nets``.

        Default: an encoder with :meth:`n_encoder_outputs` outputs, the decoder, and every option
        passed to the constructor as a keyword argument. Override when the model needs more.
        """
        encoder = nets.encoder(cls.n_encoder_outputs(nets.latent_dim))
        kwargs = {key: getattr(options, key) for key in options.names()}
        return cls(encoder, nets.decoder(), nets.latent_dim, **kwargs)

    @property
    def likelihood(self) -> str:
        return self.decoder.likelihood

    # -- the posterior ------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior means and log-variances, each ``(B, latent_dim)``."""
        h = self.encoder(x)
        return h[:, : self.latent_dim], h[:, self.latent_dim :]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder output: logits (bernoulli) or mean (gaussian), ``(B, *observation_shape)``."""
        return self.decoder(z)

    def sample_noise(self, like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        return torch.randn(like.shape, generator=generator, dtype=like.dtype, device=like.device)

    def reconstruction(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Reconstruction loss, summed over observation entries, averaged over the batch."""
        if self.decoder.likelihood == "bernoulli":
            return F.binary_cross_entropy_with_logits(out, x, reduction="sum") / x.shape[0]
        return (out - x).pow(2).sum() / x.shape[0]

    # -- the objective -------------------------------------------------------------------------
    # Every objective defines ``losses(batch, generator=None) -> dict[str, Tensor]``: the loss
    # terms of one batch, where ``"loss"`` is what the main optimizer minimises and the other
    # entries are logged. ``generator`` drives all sampling, so runs are reproducible.

    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters per optimizer: ``"main"`` always, extra ones for adversarial parts."""
        return {"main": list(self.parameters())}

    def make_optimizer(self, group: str, params: list[nn.Parameter]) -> torch.optim.Optimizer:
        """The optimizer of an extra parameter group (not ``"main"``, which the config sets)."""
        raise NotImplementedError(f"{self.name}: no optimizer for parameter group {group!r}")

    def backward(self, terms: dict[str, torch.Tensor]) -> None:
        """Accumulate gradients of one step (models with several optimizers override this)."""
        terms["loss"].backward()

    # -- using a trained model ------------------------------------------------------------------
    @torch.no_grad()
    def represent(self, x: Any, *, batch_size: int = 4096) -> Any:
        """Posterior means μ(x) in eval mode without gradients.

        Accepts a numpy array (returns numpy float32) or a torch tensor (returns a tensor on the
        input's device), shape ``(N, *observation_shape)`` → ``(N, latent_dim)``.
        """
        as_numpy = isinstance(x, np.ndarray)
        t = torch.as_tensor(np.asarray(x, dtype=np.float32)) if as_numpy else x
        param = next(self.parameters())
        was_training = self.training
        self.eval()
        try:
            outs = [
                self.encode(t[i : i + batch_size].to(param.device, param.dtype))[0]
                for i in range(0, t.shape[0], batch_size)
            ]
        finally:
            self.train(was_training)
        mu = torch.cat(outs) if outs else torch.empty(0, self.latent_dim)
        return mu.cpu().numpy() if as_numpy else mu.to(t.device)
