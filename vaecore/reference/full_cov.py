"""Pure-torch twin of the fused full-covariance op (thesis §3.2.7, eq. 3.30-3.31).

Mirrors ``csrc/full_cov.cpp`` and ``csrc/cuda/full_cov.cu`` literally, with torch autograd
providing the gradients: only the lower triangle of ``scale_tril`` is read.
"""

from __future__ import annotations

import torch

__all__ = ["full_cov_rsample"]


def full_cov_rsample(
    mu: torch.Tensor, scale_tril: torch.Tensor, eps: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """z = μ + L ε and KL(N(μ, LLᵀ) ‖ N(0, I)) = ½(‖μ‖² + tr LLᵀ − log det LLᵀ − k) per sample.

    Parameters
    ----------
    mu : (B, k)
    scale_tril : (B, k, k), lower triangle used, diagonal > 0
    eps : (B, k)

    Returns
    -------
    z : (B, k)
    kl : (B,)
    """
    L = torch.tril(scale_tril)
    z = mu + torch.matmul(L, eps.unsqueeze(-1)).squeeze(-1)
    diag = torch.diagonal(L, dim1=-2, dim2=-1)
    k = mu.shape[-1]
    kl = 0.5 * (
        mu.pow(2).sum(-1) + L.pow(2).sum((-2, -1)) - 2.0 * torch.log(diag).sum(-1) - k
    )
    return z, kl
