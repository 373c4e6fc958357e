"""Vectorised draws of the second image's factor classes for :mod:`vaecore.datasets.pairs`.

Each function takes the first images' classes ``f1`` (int64 ``(n, n_factors)``) and a numpy
``Generator`` and returns ``(f2, label)``. The sequence of generator calls of one function is
fixed for a given ``n`` (every array is drawn for all ``n`` rows, used or not), which is what
makes a restored sampler continue bit for bit. Inverse-CDF sampling: ``v = #{cdf <= u}`` with
``u ~ U[0, 1)`` and every CDF row set to exactly 1 from its last positive-mass entry on, so a
zero-mass value is never drawn whatever the rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LaplaceTable", "dlib_k", "laplace", "laplace_pmf", "laplace_tables", "match",
           "uniform_k"]


def laplace_pmf(size: int, rate: float) -> np.ndarray:
    """``P[c, v] ∝ exp(−|v − c| / b)``, ``b = ln(size) / rate``, rows normalised ``(K, K)``:
    the truncated, discretised Laplace transition of slow_disentanglement's
    ``truncated_laplace`` (scipy ``laplace.pdf`` on the grid, normalised). ``size >= 2``."""
    b = np.log(size) / rate
    v = np.arange(size, dtype=np.float64)
    p = np.exp(-np.abs(v[None, :] - v[:, None]) / b)
    return p / p.sum(axis=1, keepdims=True)


def _cdf(p: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(p, axis=1)
    last = (p.shape[1] - 1) - np.argmax(p[:, ::-1] > 0, axis=1)  # last positive-mass column
    cdf[np.arange(p.shape[1])[None, :] >= last[:, None]] = 1.0
    return cdf


@dataclass(frozen=True)
class LaplaceTable:
    """Per changeable factor: the CDF rows of the transition and of its redraw (v = c
    excluded), indexed by the start class, both ``(K, K)``."""

    cdf: np.ndarray
    cdf_moved: np.ndarray


def laplace_tables(sizes: np.ndarray, rate: float) -> tuple[LaplaceTable, ...]:
    """One :class:`LaplaceTable` per entry of ``sizes`` (each >= 2)."""
    out = []
    for size in sizes:
        p = laplace_pmf(int(size), rate)
        moved = p.copy()
        np.fill_diagonal(moved, 0.0)
        moved /= moved.sum(axis=1, keepdims=True)
        out.append(LaplaceTable(_cdf(p), _cdf(moved)))
    return tuple(out)


def _inverse_cdf(cdf_rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    return (cdf_rows <= u[:, None]).sum(axis=1).astype(np.int64)


def laplace(f1: np.ndarray, changeable: np.ndarray, tables: tuple[LaplaceTable, ...],
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """SlowVAE's natural transitions: independent Laplace moves of the changeable factors,
    then one forced move (uniform factor, v = c excluded) where nothing changed."""
    n, m = f1.shape[0], len(changeable)
    f2 = f1.copy()
    u = rng.random((n, m))
    for col, (j, table) in enumerate(zip(changeable, tables)):
        f2[:, j] = _inverse_cdf(table.cdf[f1[:, j]], u[:, col])
    same = (f2 == f1).all(axis=1)
    pick = rng.integers(0, m, size=n)
    u2 = rng.random(n)
    for col, (j, table) in enumerate(zip(changeable, tables)):
        rows = np.flatnonzero(same & (pick == col))
        if rows.size:
            f2[rows, j] = _inverse_cdf(table.cdf_moved[f1[rows, j]], u2[rows])
    return f2, (f2 != f1).sum(axis=1)


def _random_subsets(n: int, nf: int, counts: np.ndarray,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random subsets of ``counts[r]`` distinct factors per row: a random order of
    the factors (argsort of uniform keys) and the mask of its first ``counts[r]``."""
    order = np.argsort(rng.random((n, nf)), axis=1)
    rank = np.argsort(order, axis=1)
    return order, rank < counts[:, None]


def _counts(n: int, nf: int, k: int, rng: np.random.Generator) -> np.ndarray:
    if k == -1:
        return rng.integers(1, nf, size=n)  # U{1..n-1}, as randint(1, num_factors)
    return np.full(n, k, dtype=np.int64)


def uniform_k(f1: np.ndarray, sizes: np.ndarray, k: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """k distinct factors each move to a uniformly chosen different value (sizes >= 2)."""
    n, nf = f1.shape
    counts = _counts(n, nf, k, rng)
    _, chosen = _random_subsets(n, nf, counts, rng)
    shift = rng.integers(1, sizes, size=(n, nf))  # uniform on 1..K-1 per factor
    f2 = np.where(chosen, (f1 + shift) % sizes, f1)
    return f2, counts


def dlib_k(f1: np.ndarray, sizes: np.ndarray, k: int,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """disentanglement_lib's ``simple_dynamics``: m = choice{1, k_obs} distinct factors
    resampled uniformly (old value possible); label = the last resampled factor."""
    n, nf = f1.shape
    k_obs = _counts(n, nf, k, rng)
    m = np.where(rng.random(n) < 0.5, 1, k_obs)
    order, chosen = _random_subsets(n, nf, m, rng)
    fresh = rng.integers(0, sizes, size=(n, nf))
    f2 = np.where(chosen, fresh, f1)
    return f2, order[np.arange(n), m - 1]


def match(f1: np.ndarray, sizes: np.ndarray, share: bool,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shu et al.'s match pairs: factor i = U{0..n-1}; share keeps only factor i (others
    fresh), change redraws only factor i; label = i."""
    n, nf = f1.shape
    fresh = rng.integers(0, sizes, size=(n, nf))
    i = rng.integers(0, nf, size=n)
    one = np.arange(nf)[None, :] == i[:, None]
    keep = one if share else ~one
    return np.where(keep, f1, fresh), i
