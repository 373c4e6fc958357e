"""The models of the thesis: architectures (MLP, linear, conv) × objectives (one paper per file).

:mod:`vaecore.models.registry` maps model names to classes; each class carries its options
dataclass and builds itself on a :class:`Networks`. :func:`build_model` assembles a model from
plain keyword arguments; :func:`vaecore.train` builds from a :class:`vaecore.TrainConfig`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from vaecore.models.ae import AE
from vaecore.models.base import Decoder, LatentModel, diagonal_kl
from vaecore.models.beta_tcvae import BetaTCVAE
from vaecore.models.beta_vae import BetaVAE
from vaecore.models.beta_vae_sigma import BetaVAESigma
from vaecore.models.dip_vae import DIPVAE
from vaecore.models.factor_vae import FactorVAE
from vaecore.models.mlp import ACTIVATIONS
from vaecore.models.networks import ARCHITECTURES, INITS, Networks
from vaecore.models.options import ModelOptions
from vaecore.models import registry
from vaecore.models.registry import MODEL_NAMES, MODELS

__all__ = [
    "AE",
    "ACTIVATIONS",
    "ARCHITECTURES",
    "DIPVAE",
    "MODEL_NAMES",
    "BetaTCVAE",
    "BetaVAE",
    "BetaVAESigma",
    "Decoder",
    "FactorVAE",
    "INITS",
    "LatentModel",
    "MODELS",
    "ModelOptions",
    "Networks",
    "build_model",
    "n_parameters",
    "diagonal_kl",
]


def build_model(
    name: str,
    *,
    observation_shape: Sequence[int],
    latent_dim: int,
    architecture: str = "mlp",
    encoder_hidden: Sequence[int] = (),
    decoder_hidden: Sequence[int] = (),
    encoder_activation: str = "relu",
    decoder_activation: str = "tanh",
    likelihood: str = "gaussian",
    conv_kernels: Sequence[int] = (4, 4, 2, 2),
    deconv_kernels: Sequence[int] = (4, 4, 4, 4),
    init: str = "torch",
    beta: float = 1.0,
    gamma: float = 10.0,
    lambda_od: float = 10.0,
    lambda_d: float = 100.0,
    discriminator_hidden: Sequence[int] = (1000,) * 6,
    backend: str = "auto",
    **options: Any,
) -> LatentModel:
    """Build model ``name`` (one of :data:`MODEL_NAMES`) from plain keyword arguments.

    The architecture keywords make a :class:`Networks`; ``beta``, ``gamma``, ``lambda_od``,
    ``lambda_d``, ``discriminator_hidden``, ``backend`` and any other keyword are model options
    (:mod:`vaecore.models.registry`): each model takes those it has and ignores the flat ones
    above that it lacks (``vae`` has no β; its β is 1). ``linear-vae`` requires "linear".
    Module parameters are initialised from torch's global RNG: wrap the call in
    ``torch.random.fork_rng`` + ``torch.manual_seed`` for reproducibility (as
    :func:`vaecore.train` does). :func:`vaecore.models.registry.build` is the typed form.
    """
    cls = registry.model_class(name)
    registry.check_architecture(name, architecture)
    nets = Networks(
        observation_shape=tuple(observation_shape), latent_dim=latent_dim, architecture=architecture,
        encoder_hidden=tuple(encoder_hidden), decoder_hidden=tuple(decoder_hidden),
        encoder_activation=encoder_activation, decoder_activation=decoder_activation,
        likelihood=likelihood, conv_kernels=tuple(conv_kernels), deconv_kernels=tuple(deconv_kernels),
        init=init,
    )
    flat = dict(beta=beta, gamma=gamma, lambda_od=lambda_od, lambda_d=lambda_d,
                discriminator_hidden=tuple(discriminator_hidden), backend=backend)
    own = {k: v for k, v in flat.items() if k in cls.Options.names()}
    return registry.build(name, nets, registry.make_options(name, own, legacy=options))


def n_parameters(model: LatentModel) -> int:
    """Number of trainable parameters."""
    return sum(math.prod(p.shape) for p in model.parameters() if p.requires_grad)
