"""The encoder/decoder a model is built on: :class:`Networks` (architecture, sizes, likelihood,
initialisation), shared by every objective.

Architectures (thesis Table 3.1; SPEC-ch4 §1): "mlp" (hidden sizes and activations as given),
"linear" (no hidden layers: single affine maps, the hidden sizes are ignored) and "conv"
(disentanglement_lib's 64 × 64 conv encoder/decoder with ``conv_kernels`` / ``deconv_kernels``).

Initialisation: "torch" (PyTorch's default) or "glorot" (TF1's default that disentanglement_lib
inherits: Glorot-uniform weights, zero biases; SPEC-ch4 §1), applied to every linear and
(transposed) convolution layer of the whole model, discriminators included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from vaecore.models.base import LIKELIHOODS, Decoder
from vaecore.models.conv import conv_decoder, conv_encoder
from vaecore.models.mlp import ACTIVATIONS, mlp_decoder, mlp_encoder

__all__ = ["ARCHITECTURES", "INITS", "Networks", "glorot_init"]

ARCHITECTURES: tuple[str, ...] = ("mlp", "linear", "conv")
INITS: tuple[str, ...] = ("torch", "glorot")
_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


def glorot_init(model: nn.Module) -> None:
    """Glorot-uniform weights and zero biases for every linear/conv/transposed-conv layer.

    For a conv kernel the fans are ``channels × k × k`` on either side, as TF's
    ``glorot_uniform`` (the bound √(6 / (fan_in + fan_out)) is symmetric in the two fans, so the
    transposed conv's swapped weight layout gives the same bound).
    """
    for layer in model.modules():
        if isinstance(layer, _LAYERS):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


@dataclass(frozen=True)
class Networks:
    """How to build a model's encoder and decoder.

    Attributes
    ----------
    observation_shape, latent_dim
        Input shape ``(C, H, W)`` or ``(D,)``; number of latents.
    architecture
        One of :data:`ARCHITECTURES`.
    encoder_hidden, decoder_hidden, encoder_activation, decoder_activation
        MLP widths (input to output) and hidden non-linearities ("mlp" only).
    likelihood
        "bernoulli" (decoder outputs logits) or "gaussian" (decoder outputs the mean).
    conv_kernels, deconv_kernels
        Kernel sizes of the four (transposed) conv layers ("conv" only).
    init
        One of :data:`INITS`; applied by :func:`vaecore.models.registry.build` to the whole model.
    """

    observation_shape: tuple[int, ...]
    latent_dim: int
    architecture: str = "mlp"
    encoder_hidden: tuple[int, ...] = ()
    decoder_hidden: tuple[int, ...] = ()
    encoder_activation: str = "relu"
    decoder_activation: str = "tanh"
    likelihood: str = "gaussian"
    conv_kernels: tuple[int, ...] = (4, 4, 2, 2)
    deconv_kernels: tuple[int, ...] = (4, 4, 4, 4)
    init: str = "torch"

    def __post_init__(self) -> None:
        for name in ("observation_shape", "encoder_hidden", "decoder_hidden", "conv_kernels", "deconv_kernels"):
            object.__setattr__(self, name, tuple(int(v) for v in getattr(self, name)))
        for name, valid in (
            ("architecture", ARCHITECTURES),
            ("init", INITS),
            ("likelihood", LIKELIHOODS),
            ("encoder_activation", ACTIVATIONS),
            ("decoder_activation", ACTIVATIONS),
        ):
            if getattr(self, name) not in valid:
                raise ValueError(f"Networks: {name} must be one of {valid}; got {getattr(self, name)!r}")
        if isinstance(self.latent_dim, bool) or not isinstance(self.latent_dim, int) or self.latent_dim < 1:
            raise ValueError(f"Networks: latent_dim must be an int >= 1; got {self.latent_dim!r}")

    def encoder(self, n_outputs: int) -> nn.Module:
        """A fresh encoder mapping ``(B, *observation_shape)`` to ``(B, n_outputs)``."""
        if self.architecture == "conv":
            return conv_encoder(self.observation_shape, n_outputs, self.conv_kernels)
        hidden = () if self.architecture == "linear" else self.encoder_hidden
        return mlp_encoder(self.observation_shape, hidden, n_outputs, self.encoder_activation)

    def decoder(self, latent_dim: int | None = None) -> Decoder:
        """A fresh :class:`Decoder` from ``latent_dim`` (default: :attr:`latent_dim`) latents."""
        k = self.latent_dim if latent_dim is None else int(latent_dim)
        if self.architecture == "conv":
            return Decoder(conv_decoder(k, self.observation_shape, self.deconv_kernels), self.likelihood)
        hidden: Sequence[int] = () if self.architecture == "linear" else self.decoder_hidden
        return Decoder(mlp_decoder(k, hidden, self.observation_shape, self.decoder_activation), self.likelihood)
