"""Reference twin of the weak GAN's arithmetic (:mod:`vaecore.models.weak_gan`), numpy float64.

Mirrors google-research ``weak_disentangle`` line by line, in TF's layouts (dense kernels
``(in, out)``):

* ``datasets.make_masks`` + ``match_randn``: masks for ``"s=0,1,…"`` / ``"c=0,1,…"`` and
  ``z2 = z2 * mask + z1 * (1 - mask)``;
* ``tensorsketch`` ``WeightNorm.normalize`` (axis −1, ``scale=False``, eps 1e-3) and
  ``SpectralNorm.normalize`` (one power iteration in training mode);
* ``networks.Discriminator.forward`` (``mask_type="match"``) after the neck:
  ``o = h @ u + Σ h * (one_hot(y) @ wn(K))``;
* ``main.train_gen_step``: ``dis_loss``, ``enc_loss`` (``MultivariateNormalDiag(a,
  softplus(b) + 1e-8).log_prob``), ``gen_loss`` with ``sigmoid_cross_entropy_with_logits``.
"""

from __future__ import annotations

import numpy as np


def make_masks(strategy: str, s_dim: int) -> np.ndarray:
    """``make_masks("s=0,1,..,n-1")`` (share) or ``"c=..."`` (change), ``(s_dim, s_dim)``."""
    masks = np.zeros((s_dim, s_dim), dtype=np.float64)
    for i in range(s_dim):
        masks[i, [i]] = 1
    if strategy == "s":
        masks = 1 - masks
    return masks


def match_randn(z1: np.ndarray, z2: np.ndarray, mask_idx: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The paired second code of ``match_randn`` (n_dim = 0) given its random draws."""
    mask = masks[mask_idx]
    return z2 * mask + z1 * (1 - mask)


def sigmoid_cross_entropy_with_logits(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """TF's elementwise formula ``max(x, 0) − x z + log(1 + exp(−|x|))``."""
    x, z = logits, labels
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


def weight_norm(kernel: np.ndarray, epsilon: float = 1e-3) -> np.ndarray:
    """``WeightNorm.normalize(kernel, g=None, axis=-1, epsilon)``."""
    return kernel / np.sqrt(np.sum(np.square(kernel), axis=-1, keepdims=True) + epsilon)


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    return x / np.sqrt(max(float(np.sum(x * x)), eps))


def spectral_norm(kernel: np.ndarray, u: np.ndarray, v: np.ndarray,
                  training: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``SpectralNorm.normalize``: returns (kernel / σ, u, v) with the updated vectors.
    ``kernel`` in TF layout (..., out); ``u (out, 1)``, ``v (in, 1)``."""
    kernel_mat = kernel.reshape(-1, kernel.shape[-1])
    if training:
        v = l2_normalize(kernel_mat @ u)
        u = l2_normalize(kernel_mat.T @ v)
    sigma = float(((kernel_mat @ u).T @ v).reshape(()))
    return kernel / sigma, u, v


def discriminator_head(h: np.ndarray, u_kernel: np.ndarray, cond_kernel: np.ndarray, y: np.ndarray,
                       y_dim: int, epsilon: float = 1e-3) -> np.ndarray:
    """``o_uncond + o_cond`` of ``Discriminator.forward`` from the neck output ``h (B, n)``;
    ``u_kernel (n, 1)`` (already spectrally normalised), ``cond_kernel (y_dim, n)`` raw."""
    o_uncond = h @ u_kernel
    w = np.eye(y_dim)[y] @ weight_norm(cond_kernel, epsilon)
    o_cond = np.sum(h * w, axis=-1, keepdims=True)
    return o_uncond + o_cond


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def mvn_diag_log_prob(z: np.ndarray, loc: np.ndarray, scale_diag: np.ndarray) -> np.ndarray:
    """``tfd.MultivariateNormalDiag(loc, scale_diag).log_prob(z)``."""
    k = z.shape[-1]
    return (-0.5 * np.sum(((z - loc) / scale_diag) ** 2, axis=-1) - np.sum(np.log(scale_diag), axis=-1)
            - 0.5 * k * np.log(2 * np.pi))


def train_gen_step_losses(logits: np.ndarray, enc_out: np.ndarray, z1: np.ndarray,
                          logits_fake: np.ndarray) -> dict[str, float]:
    """The three losses of ``train_gen_step``: ``logits (2B, 1)`` of D on [real; fake],
    ``enc_out (B, 2 s_dim)`` = E's raw output on x1_fake, ``z1 (B, s_dim)``, ``logits_fake (B,
    1)`` of D on the generator step's fakes."""
    batch_size = z1.shape[0]
    targets = np.concatenate((np.ones((batch_size, 1)), np.zeros((batch_size, 1))), axis=0)
    dis_loss = np.mean(sigmoid_cross_entropy_with_logits(logits, targets))
    a, b = np.split(enc_out, 2, axis=-1)
    enc_loss = -np.mean(mvn_diag_log_prob(z1, a, softplus(b) + 1e-8))
    gen_loss = np.mean(sigmoid_cross_entropy_with_logits(logits_fake, np.ones((batch_size, 1))))
    return {"dis_loss": float(dis_loss), "enc_loss": float(enc_loss), "gen_loss": float(gen_loss)}
