"""Theorem 2 (thesis §4.1, proof in §5.2): a linear VAE performs PCA.

The experiment draws data with distinct variances along random orthonormal
directions, ``X = S diag(scales) Rᵀ`` (``S`` standard normal, ``R`` an
``data_dim × latent_dim`` matrix with orthonormal columns), trains a linear VAE
on it (linear encoder mean, a data-independent diagonal posterior variance
as in the linear VAE of Lucas et al. 2019, linear decoder ``x̂ = W z + c``,
squared-error reconstruction summed over dimensions plus β·KL), and compares
the decoder with PCA:

* ``pca_distance`` — the DtO-style distance between the two bases: with
  ``C = Ŵᵀ V_pca`` (``Ŵ`` the decoder columns normalised to unit length,
  ``V_pca`` the principal directions of ``X``), ``‖C − P(C)‖_F`` for ``P`` the
  closest signed permutation (max-weight assignment on ``|C|``, signs of the
  chosen entries, as for DtO, SPEC §2). 0 means the decoder columns are the
  principal directions up to a signed permutation — the theorem's claim.
* ``dto`` — the DtO of the decoder itself (its Jacobian is ``W``):
  ``‖V − P(V)‖_F`` for ``W = U Σ Vᵀ``; Theorem 2 says ``V`` is a signed permutation.
* ``random_distance`` — the same distance for a random orthonormal basis
  (what "no alignment" looks like, for scale).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

THEOREM2_KEYS: tuple[str, ...] = (
    "beta",
    "batch_size",
    "data_dim",
    "data_seed",
    "lr",
    "n_samples",
    "scales",
    "steps",
)

_DEFAULTS: dict[str, Any] = {
    "n_samples": 4096,
    "data_dim": 6,
    "scales": [3.0, 2.0, 1.0],
    "beta": 1.0,
    "lr": 2e-2,
    "steps": 4000,
    "batch_size": 256,
    "data_seed": 0,
}


def signed_permutation_distance(c: np.ndarray) -> float:
    """``‖C − P(C)‖_F`` for the signed permutation ``P`` maximising ``Σ_(i,j)∈P |C_ij|``."""
    from scipy.optimize import linear_sum_assignment

    c = np.asarray(c, dtype=np.float64)
    rows, cols = linear_sum_assignment(-np.abs(c))
    p = np.zeros_like(c)
    p[rows, cols] = np.where(c[rows, cols] < 0, -1.0, 1.0)
    return float(np.linalg.norm(c - p))


def make_data(
    *, n_samples: int, data_dim: int, scales: Sequence[float], data_seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``X = S diag(scales) Rᵀ`` and the true directions ``R`` (data_dim × k)."""
    rng = np.random.default_rng(data_seed)
    k = len(scales)
    r, _ = np.linalg.qr(rng.standard_normal((data_dim, k)))
    s = rng.standard_normal((n_samples, k))
    return (s * np.asarray(scales, dtype=np.float64)) @ r.T, r


def pca_directions(x: np.ndarray, k: int) -> np.ndarray:
    """Top-``k`` principal directions (columns) of the centred data."""
    xc = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    return vt[:k].T


def train_linear_vae(x: np.ndarray, k: int, *, beta: float, lr: float, steps: int,
                     batch_size: int, seed: int) -> np.ndarray:
    """Train the linear VAE; return the decoder matrix ``W`` (data_dim × k)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a 6 x 3 model: threads only add overhead
    try:
        return _train(torch, x, k, beta=beta, lr=lr, steps=steps, batch_size=batch_size, seed=seed)
    finally:
        torch.set_num_threads(threads)


def _train(torch, x, k, *, beta, lr, steps, batch_size, seed) -> np.ndarray:
    gen = torch.Generator().manual_seed(int(seed))
    data = torch.as_tensor(x, dtype=torch.float32)
    m = data.shape[1]
    torch.manual_seed(int(seed))
    enc = torch.nn.Linear(m, k)
    dec = torch.nn.Linear(k, m)
    logvar = torch.nn.Parameter(torch.zeros(k))
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters(), logvar], lr=lr)
    n = data.shape[0]
    for _ in range(int(steps)):
        idx = torch.randint(0, n, (batch_size,), generator=gen)
        xb = data[idx]
        mu = enc(xb)
        eps = torch.randn(mu.shape, generator=gen)
        z = mu + torch.exp(0.5 * logvar) * eps
        recon = ((dec(z) - xb) ** 2).sum(dim=1).mean()
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1).mean()
        loss = recon + beta * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return dec.weight.detach().numpy().astype(np.float64)


def theorem2_run(
    params: Mapping[str, Any],
    *,
    seed: int,
    out: str | Path | None = None,
) -> dict:
    """The ``theorem2`` run function: train a linear VAE, compare its decoder with PCA."""
    p = {**_DEFAULTS, **dict(params)}
    unknown = set(p) - set(THEOREM2_KEYS)
    if unknown:
        raise ValueError(
            f"theorem2_run: unknown key {sorted(unknown)[0]!r}; valid keys are: "
            f"{', '.join(THEOREM2_KEYS)}"
        )
    scales = [float(s) for s in p["scales"]]
    if len(set(scales)) != len(scales):
        raise ValueError(f"theorem2_run: scales must be distinct (Theorem 2); got {scales}")
    k = len(scales)
    x, _ = make_data(n_samples=int(p["n_samples"]), data_dim=int(p["data_dim"]),
                     scales=scales, data_seed=int(p["data_seed"]))
    w = train_linear_vae(x, k, beta=float(p["beta"]), lr=float(p["lr"]), steps=int(p["steps"]),
                         batch_size=int(p["batch_size"]), seed=int(seed))
    v_pca = pca_directions(x, k)
    w_hat = w / np.linalg.norm(w, axis=0, keepdims=True)
    _, _, vt = np.linalg.svd(w, full_matrices=False)
    rng = np.random.default_rng(int(seed) + 7919)
    q, _ = np.linalg.qr(rng.standard_normal((x.shape[1], k)))
    result = {
        "pca_distance": signed_permutation_distance(w_hat.T @ v_pca),
        "dto": signed_permutation_distance(vt.T),
        "random_distance": signed_permutation_distance(q.T @ v_pca),
    }
    for key, value in result.items():
        if not math.isfinite(value):
            raise RuntimeError(f"theorem2_run: {key} is not finite ({value})")
    if out is not None:
        from vaecore._io import atomic_write

        atomic_write(Path(out) / "decoder.npy", lambda fh: np.save(fh, w))
    return result
