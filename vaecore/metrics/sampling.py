"""Sampling from a ground-truth dataset and encoding with a representation function.

The sampling metrics (FactorVAE, BetaVAE) and :func:`sample_codes` talk to a dataset
only through the ground-truth contract of :mod:`vaecore.datasets`:
``dataset.sample_factors(n, rng) -> (n, n_factors)``, ``dataset.observations(factors)
-> float32 (n, *observation_shape)`` and ``dataset.n_factors`` (or ``factor_sizes``).
A representation function maps a float32 batch of observations to codes
``(B, n_latents)`` (numpy or torch), e.g. ``run.model.represent``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from vaecore._validation import check_int, to_numpy

Represent = Callable[[np.ndarray], Any]


def n_factors_of(func: str, dataset: Any) -> int:
    """Number of factors of a ground-truth dataset (``n_factors`` or ``len(factor_sizes)``)."""
    for attr in ("sample_factors", "observations"):
        if not callable(getattr(dataset, attr, None)):
            raise TypeError(
                f"{func}: dataset must provide sample_factors(n, rng) and observations(factors) "
                f"(a vaecore.datasets GroundTruthDataset); got {type(dataset).__name__} without "
                f"{attr}()"
            )
    n = getattr(dataset, "n_factors", None)
    if n is None and getattr(dataset, "factor_sizes", None) is not None:
        n = len(dataset.factor_sizes)
    if n is None or int(n) < 1:
        raise TypeError(
            f"{func}: dataset must have n_factors or factor_sizes; got {type(dataset).__name__}"
        )
    return int(n)


def check_represent(func: str, represent: Any) -> Represent:
    if not callable(represent):
        raise TypeError(
            f"{func}: represent must be a callable mapping a float32 batch of observations to "
            f"codes (B, n_latents); got {type(represent).__name__}"
        )
    return represent


def check_sampling_args(
    func: str,
    dataset: Any,
    represent: Any,
    *,
    seed: Any,
    batch_size: Any,
    min_batch: int,
    num_train: Any,
    min_train: int,
    num_eval: Any,
    preset: dict[str, int],
) -> tuple[int, int, int, int, int]:
    """Validate the arguments the FactorVAE and BetaVAE scores share; ``None`` sizes take
    ``preset``'s. Returns ``(n_factors, seed, batch_size, num_train, num_eval)``."""
    n_factors = n_factors_of(func, dataset)
    check_represent(func, represent)
    seed = check_int(func, "seed", seed, minimum=0)
    batch_size = check_int(func, "batch_size", batch_size, minimum=min_batch)
    num_train = check_int(func, "num_train", preset["num_train"] if num_train is None else num_train, minimum=min_train)
    num_eval = check_int(func, "num_eval", preset["num_eval"] if num_eval is None else num_eval, minimum=1)
    return n_factors, seed, batch_size, num_train, num_eval


def encode(
    func: str, represent: Represent, observations: np.ndarray, batch_size: int
) -> np.ndarray:
    """``represent`` over ``observations`` in batches of ``batch_size``; float64 ``(n, L)``.

    The codes are checked: one row per observation, 2-D, finite.
    """
    out = []
    for start in range(0, observations.shape[0], batch_size):
        x = np.ascontiguousarray(observations[start : start + batch_size], dtype=np.float32)
        z = to_numpy(func, "represent(x)", represent(x))
        if z.ndim != 2 or z.shape[0] != x.shape[0]:
            raise ValueError(
                f"{func}: represent must return codes of shape (B, n_latents) for a batch of "
                f"B={x.shape[0]} observations; got shape {tuple(z.shape)}"
            )
        if z.dtype == object or z.dtype.kind not in "iuf":
            raise TypeError(f"{func}: represent must return real numeric codes; got dtype {z.dtype}")
        with np.errstate(over="ignore"):
            z = np.asarray(z, dtype=np.float64)  # checked after the cast (float128 overflow)
        if not np.isfinite(z).all():
            raise ValueError(f"{func}: represent must return finite codes; got NaN or inf")
        out.append(z)
    return np.concatenate(out, axis=0)


def progress_bar(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False)


def sample_codes(
    dataset: Any,
    represent: Represent,
    n: int,
    *,
    seed: int = 0,
    batch_size: int = 256,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``n`` factor vectors, render them and encode them: the input of the array
    metrics (disentanglement_lib's ``generate_batch_factor_code``).

    Parameters
    ----------
    dataset : GroundTruthDataset
        Anything with ``sample_factors(n, rng)`` and ``observations(factors)``.
    represent : callable
        ``represent(x: float32 (B, *observation_shape)) -> (B, n_latents)``.
    n : int
        Number of points.
    seed : int
        Seed of ``np.random.default_rng`` used for ``sample_factors``.
    batch_size : int
        Observations rendered and encoded per call.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    codes : ndarray (n, n_latents) float64
    factors : ndarray (n, n_factors), as returned by ``dataset.sample_factors``
    """
    func = "sample_codes"
    n_factors_of(func, dataset)
    check_represent(func, represent)
    n = check_int(func, "n", n, minimum=1)
    seed = check_int(func, "seed", seed, minimum=0)
    batch_size = check_int(func, "batch_size", batch_size, minimum=1)
    rng = np.random.default_rng(seed)
    factors = np.asarray(dataset.sample_factors(n, rng))
    codes = []
    with progress_bar(n, "sample_codes", progress) as bar:
        for start in range(0, n, batch_size):
            obs = np.asarray(dataset.observations(factors[start : start + batch_size]))
            codes.append(encode(func, represent, obs, batch_size))
            bar.update(obs.shape[0])
    return np.concatenate(codes, axis=0), factors
