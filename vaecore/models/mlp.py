"""Fully connected encoders and decoders (thesis Table 3.1).

Non-linearities only between layers (never after the last one), biases everywhere. With no hidden
layers the network is a single affine map: the linear VAE of Synth. Lin. and Theorem 2.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "activation", "mlp"]

ACTIVATIONS: tuple[str, ...] = ("relu", "tanh", "leaky_relu", "elu", "sigmoid", "softplus")


def activation(name: str) -> nn.Module:
    """Return a fresh activation module by name (one of :data:`ACTIVATIONS`)."""
    table = {
        "relu": nn.ReLU,
        "tanh": nn.Tanh,
        "leaky_relu": nn.LeakyReLU,
        "elu": nn.ELU,
        "sigmoid": nn.Sigmoid,
        "softplus": nn.Softplus,
    }
    if name not in table:
        raise ValueError(f"activation: name must be one of {ACTIVATIONS}; got {name!r}")
    return table[name]()


def mlp(n_in: int, hidden: Sequence[int], n_out: int, act: str) -> nn.Sequential:
    """``n_in → hidden[0] → … → n_out`` with ``act`` after every hidden layer only."""
    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, int(h)), activation(act)]
        width = int(h)
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


class Flatten(nn.Module):
    """Flatten everything but the batch axis (a no-op view for flat inputs)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if x.ndim == 2 else x.flatten(1)


def mlp_encoder(
    observation_shape: Sequence[int], hidden: Sequence[int], n_params: int, act: str
) -> nn.Module:
    """Encoder: flatten the observation, then :func:`mlp` to ``n_params`` outputs."""
    return nn.Sequential(Flatten(), mlp(math.prod(observation_shape), hidden, n_params, act))


class Unflatten(nn.Module):
    """Reshape flat outputs to ``(B, *shape)``; a no-op for 1-D observation shapes."""

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(int(s) for s in shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if len(self.shape) == 1 else x.view(x.shape[0], *self.shape)


def mlp_decoder(
    latent_dim: int, hidden: Sequence[int], observation_shape: Sequence[int], act: str
) -> nn.Module:
    """Decoder: :func:`mlp` from the latents to the flattened observation, reshaped."""
    return nn.Sequential(
        mlp(latent_dim, hidden, math.prod(observation_shape), act), Unflatten(observation_shape)
    )
