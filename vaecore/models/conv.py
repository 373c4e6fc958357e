"""The 64 × 64 convolutional encoder/decoder of disentanglement_lib (``conv_encoder`` /
``deconv_decoder``), used for the CelebA row of Table 3.1 and for chapter 4.

Encoder: conv 32-k₁-2, 32-k₂-2, 64-k₃-2, 64-k₄-2 (ReLU, TensorFlow "same" padding), dense 256 ReLU,
dense to the posterior parameters; disentanglement_lib's kernels are (4, 4, 2, 2), the thesis's
CelebA row uses (4, 4, 4, 4): ``kernels`` is configurable. Decoder: dense 256 ReLU, dense 1024 ReLU,
reshape to 64 × 4 × 4, transposed convs 64-4-2, 32-4-2, 32-4-2, C-4-2 (ReLU between), "same".
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["conv_decoder", "conv_encoder"]

ENCODER_CHANNELS = (32, 32, 64, 64)
DECODER_CHANNELS = (64, 32, 32)


class SameConv2d(nn.Module):
    """Strided conv with TensorFlow "same" padding (extra padding at the end when odd)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride)
        total = max(kernel - stride, 0)
        self.pad = (total // 2, total - total // 2, total // 2, total - total // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, self.pad) if any(self.pad) else x)


def same_conv_transpose(c_in: int, c_out: int, kernel: int, stride: int) -> nn.ConvTranspose2d:
    """Transposed conv whose output is exactly ``stride`` × the input ("same")."""
    pad = max(0, -(-(kernel - stride) // 2))
    out_pad = stride - kernel + 2 * pad
    return nn.ConvTranspose2d(c_in, c_out, kernel, stride, padding=pad, output_padding=out_pad)


def _check_shape(observation_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in observation_shape)
    if len(shape) != 3 or shape[1:] != (64, 64):
        raise ValueError(
            "conv architecture: observations must have shape (C, 64, 64); got " + str(shape)
        )
    return shape  # type: ignore[return-value]


def conv_encoder(
    observation_shape: Sequence[int], n_params: int, kernels: Sequence[int] = (4, 4, 2, 2)
) -> nn.Module:
    """disentanglement_lib's conv encoder mapping (B, C, 64, 64) → (B, n_params)."""
    c = _check_shape(observation_shape)[0]
    layers: list[nn.Module] = []
    for c_out, k in zip(ENCODER_CHANNELS, kernels):
        layers += [SameConv2d(c, c_out, int(k), 2), nn.ReLU()]
        c = c_out
    layers += [nn.Flatten(), nn.Linear(64 * 4 * 4, 256), nn.ReLU(), nn.Linear(256, n_params)]
    return nn.Sequential(*layers)


def conv_decoder(
    latent_dim: int, observation_shape: Sequence[int], kernels: Sequence[int] = (4, 4, 4, 4)
) -> nn.Module:
    """disentanglement_lib's deconv decoder mapping (B, latent_dim) → (B, C, 64, 64)."""
    c_img = _check_shape(observation_shape)[0]
    layers: list[nn.Module] = [
        nn.Linear(latent_dim, 256),
        nn.ReLU(),
        nn.Linear(256, 1024),
        nn.ReLU(),
        nn.Unflatten(1, (64, 4, 4)),
    ]
    c = 64
    outs = (*DECODER_CHANNELS, c_img)
    for i, (c_out, k) in enumerate(zip(outs, kernels)):
        layers.append(same_conv_transpose(c, c_out, int(k), 2))
        if i < len(outs) - 1:
            layers.append(nn.ReLU())
        c = c_out
    return nn.Sequential(*layers)
