"""Reference twin of PCL's loss (:class:`vaecore.models.pcl.PCL`), in numpy float64.

Mirrors the arithmetic of simonbing/CRLSanityCheck ``crc/baselines/PCL/pcl/pcl.py``
(``Net.forward``) and ``pcl/train.py`` (the batch and the loss) step by step:

* ``x_batch[:, 0] = x_t``, ``x_batch[:, 1]`` = its neighbour; ``xast_batch`` is a copy whose
  ``[:, 1]`` is replaced by independent draws; the network sees
  ``concat([x_batch, xast_batch])`` reshaped to ``[4B, dim]``, so one ``BatchNorm1d`` (training
  mode, biased variance, eps 1e-5) normalises all 4B feature rows together;
* ``q = Σ |Conv1d(h)|`` with kernel 2 and ``groups = latent_dim`` (weight ``w[i, 0, :]`` =
  (w₁ᵢ, w₂ᵢ), bias bᵢ), ``qbar = a · Σ h[:, 0]²``, ``logits = −q + qbar + m``;
* ``BCEWithLogitsLoss`` (mean) against ``[1]*B + [0]*B``.

The twin starts from the feature net's outputs (before the batch norm), since the feature
net itself is an ordinary torch module.
"""

from __future__ import annotations

import numpy as np


def batch_norm_train(f: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """``BatchNorm1d`` in training mode on ``f (N, d)``: biased batch variance."""
    mean = f.mean(axis=0)
    var = ((f - mean) ** 2).mean(axis=0)
    return (f - mean) / np.sqrt(var + eps) * weight + bias


def sigmoid_bce_with_logits(logits: np.ndarray, labels: np.ndarray) -> float:
    """``BCEWithLogitsLoss`` (mean), in its overflow-free form."""
    x, z = logits, labels
    return float(np.mean(np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))))


def pcl_loss(
    f_t: np.ndarray,
    f_next: np.ndarray,
    f_star: np.ndarray,
    bn_weight: np.ndarray,
    bn_bias: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    a: float,
    m: float,
    eps: float = 1e-5,
) -> tuple[float, np.ndarray]:
    """PCL's loss and logits ``(2B,)`` from pre-batch-norm features ``(B, d)`` of x_t, its
    neighbour and the independent draws; ``w`` has the Conv1d layout ``(d, 1, 2)``."""
    B, d = f_t.shape
    x_batch = np.stack([f_t, f_next], axis=1)  # [B, 2, d]
    xast_batch = x_batch.copy()
    xast_batch[:, 1, :] = f_star
    x = np.concatenate([x_batch, xast_batch], axis=0)  # [2B, 2, d]
    h = x.reshape([-1, d])
    h = batch_norm_train(h, bn_weight, bn_bias, eps)
    h = h.reshape([2 * B, -1, d])
    conv = w[None, :, 0, 0] * h[:, 0, :] + w[None, :, 0, 1] * h[:, 1, :] + b[None, :]
    q = np.sum(np.abs(conv), axis=1)
    qbar = a * np.sum(h[:, 0, :] ** 2, axis=1)
    logits = -q + qbar + m
    y = np.concatenate([np.ones(B), np.zeros(B)])
    return sigmoid_bce_with_logits(logits, y), logits
