"""The models of the thesis: architectures (MLP, linear, conv) × objectives (one paper per file).

:func:`build_model` assembles a model from plain options; :func:`vaecore.train` calls it with a
:class:`vaecore.TrainConfig`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from vaecore.models.ae import AE
from vaecore.models.base import Decoder, LatentModel, diagonal_kl
from vaecore.models.beta_tcvae import BetaTCVAE
from vaecore.models.beta_vae import BetaVAE
from vaecore.models.beta_vae_sigma import BetaVAESigma
from vaecore.models.conv import conv_decoder, conv_encoder
from vaecore.models.dip_vae import DIPVAE
from vaecore.models.factor_vae import FactorVAE
from vaecore.models.mlp import ACTIVATIONS, mlp_decoder, mlp_encoder

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
    "LatentModel",
    "build_model",
    "n_parameters",
    "diagonal_kl",
]

MODEL_NAMES: tuple[str, ...] = (
    "ae",
    "vae",
    "beta-vae",
    "beta-vae-sigma",
    "beta-tcvae",
    "factor-vae",
    "dip-vae-i",
    "dip-vae-ii",
    "linear-vae",
)
ARCHITECTURES: tuple[str, ...] = ("mlp", "linear", "conv")

_CLASSES: dict[str, type[LatentModel]] = {
    "ae": AE,
    "vae": BetaVAE,
    "beta-vae": BetaVAE,
    "beta-vae-sigma": BetaVAESigma,
    "beta-tcvae": BetaTCVAE,
    "factor-vae": FactorVAE,
    "dip-vae-i": DIPVAE,
    "dip-vae-ii": DIPVAE,
    "linear-vae": BetaVAE,
}


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
    beta: float = 1.0,
    gamma: float = 10.0,
    lambda_od: float = 10.0,
    lambda_d: float = 100.0,
    discriminator_hidden: Sequence[int] = (1000,) * 6,
    backend: str = "auto",
) -> LatentModel:
    """Build model ``name`` (one of :data:`MODEL_NAMES`) on an architecture.

    ``architecture``: "mlp" (hidden sizes and activations as given; Table 3.1), "linear" (no
    hidden layers; the hidden sizes are ignored) or "conv" (disentanglement_lib's 64 × 64 conv
    encoder/decoder with ``conv_kernels`` / ``deconv_kernels``). ``linear-vae`` requires
    "linear"; ``vae`` ignores ``beta`` (β = 1). Module parameters are initialised from torch's
    global RNG: wrap the call in ``torch.random.fork_rng`` + ``torch.manual_seed`` for
    reproducibility (as :func:`vaecore.train` does).
    """
    if name not in _CLASSES:
        raise ValueError(f"build_model: model must be one of {MODEL_NAMES}; got {name!r}")
    if architecture not in ARCHITECTURES:
        raise ValueError(f"build_model: architecture must be one of {ARCHITECTURES}; got {architecture!r}")
    if name == "linear-vae" and architecture != "linear":
        raise ValueError(f"build_model: linear-vae needs architecture 'linear'; got {architecture!r}")
    cls = _CLASSES[name]
    n_params = cls.n_encoder_outputs(latent_dim)
    shape = tuple(int(s) for s in observation_shape)
    if architecture == "conv":
        encoder = conv_encoder(shape, n_params, conv_kernels)
        net = conv_decoder(latent_dim, shape, deconv_kernels)
    else:
        enc_h = () if architecture == "linear" else tuple(encoder_hidden)
        dec_h = () if architecture == "linear" else tuple(decoder_hidden)
        encoder = mlp_encoder(shape, enc_h, n_params, encoder_activation)
        net = mlp_decoder(latent_dim, dec_h, shape, decoder_activation)
    decoder = Decoder(net, likelihood)
    if name == "ae":
        return AE(encoder, decoder, latent_dim)
    if name == "vae":
        model = BetaVAE(encoder, decoder, latent_dim, beta=1.0)
        model.name = "vae"
        return model
    if name in ("beta-vae", "linear-vae"):
        model = BetaVAE(encoder, decoder, latent_dim, beta=beta)
        model.name = name
        return model
    if name == "beta-vae-sigma":
        return BetaVAESigma(encoder, decoder, latent_dim, beta=beta, backend=backend)
    if name == "beta-tcvae":
        return BetaTCVAE(encoder, decoder, latent_dim, beta=beta)
    if name == "factor-vae":
        return FactorVAE(
            encoder, decoder, latent_dim, gamma=gamma, discriminator_hidden=discriminator_hidden
        )
    return DIPVAE(
        encoder, decoder, latent_dim, lambda_od=lambda_od, lambda_d=lambda_d, dip_type=name[len("dip-vae-"):]
    )


def n_parameters(model: LatentModel) -> int:
    """Number of trainable parameters."""
    return sum(math.prod(p.shape) for p in model.parameters() if p.requires_grad)
