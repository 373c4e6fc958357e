"""FactorVAE score (Kim & Mnih 2018), as disentanglement_lib's ``factor_vae``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vaecore._validation import check_float, check_int
from vaecore.metrics._arrays import pow2_scale
from vaecore.metrics._result import MetricResult
from vaecore.metrics.sampling import (
    Represent,
    check_sampling_args,
    encode,
    progress_bar,
)

_FUNC = "factor_vae_score"

#: disentanglement_lib's defaults and the ``fast=True`` preset.
DEFAULTS = {"num_train": 10_000, "num_eval": 5_000, "num_variance_estimate": 10_000}
FAST = {"num_train": 1_000, "num_eval": 500, "num_variance_estimate": 2_000}


@dataclass(frozen=True)
class FactorVAEResult(MetricResult):
    """Result of :func:`factor_vae_score`.

    Attributes
    ----------
    value : float
        Evaluation accuracy of the majority-vote classifier.
    train_accuracy, eval_accuracy : float
    per_factor : ndarray (n_factors,)
        Evaluation accuracy among the points whose fixed factor is i (NaN-free: 0 when a
        factor was never drawn).
    num_active_dims : int
        Latents with sqrt(global variance) >= prune_threshold.
    votes : ndarray (n_factors, n_latents) int
        Training votes: how often fixing factor i gave latent j the smallest normalised
        variance.
    """

    value: float
    train_accuracy: float
    eval_accuracy: float
    per_factor: np.ndarray
    num_active_dims: int
    votes: np.ndarray


def _votes(
    dataset: Any,
    represent: Represent,
    rng: np.random.Generator,
    *,
    n_factors: int,
    batch_size: int,
    num_points: int,
    global_std: np.ndarray,
    exponents: np.ndarray,
    active: np.ndarray,
    points_per_call: int,
    progress: bool,
    desc: str,
) -> np.ndarray:
    """Votes (n_factors, n_latents): per point, one factor is fixed across a batch and the
    active latent with the smallest variance relative to its global variance gets the vote.
    Factors are drawn point by point (the random stream does not depend on chunking);
    rendering and encoding run ``points_per_call`` points at a time."""
    n_latents = global_std.shape[0]
    votes = np.zeros((n_factors, n_latents), dtype=np.int64)
    active_idx = np.flatnonzero(active)
    variances = global_std[active] ** 2
    with progress_bar(num_points, desc, progress) as bar:
        for start in range(0, num_points, points_per_call):
            m = min(points_per_call, num_points - start)
            fixed = np.empty(m, dtype=np.int64)
            blocks = []
            for p in range(m):
                k = int(rng.integers(n_factors))
                f = np.array(dataset.sample_factors(batch_size, rng), copy=True)
                f[:, k] = f[0, k]
                fixed[p] = k
                blocks.append(f)
            obs = np.asarray(dataset.observations(np.concatenate(blocks, axis=0)))
            codes = encode(_FUNC, represent, obs, batch_size * points_per_call)
            codes = np.ldexp(codes.reshape(m, batch_size, n_latents), -exponents)
            local = np.var(codes, axis=1, ddof=1)[:, active]
            winner = active_idx[np.argmin(local / variances, axis=1)]
            np.add.at(votes, (fixed, winner), 1)
            bar.update(m)
    return votes


def factor_vae_score(
    dataset: Any,
    represent: Represent,
    *,
    seed: int = 0,
    batch_size: int = 64,
    num_train: int | None = None,
    num_eval: int | None = None,
    num_variance_estimate: int | None = None,
    prune_threshold: float = 0.05,
    fast: bool = False,
    points_per_call: int = 16,
    progress: bool = True,
) -> FactorVAEResult:
    """FactorVAE score (Kim & Mnih 2018) with disentanglement_lib's definition and defaults.

    1. Global variances of the codes of ``num_variance_estimate`` random observations
       (ddof=1); latents with sqrt(variance) < ``prune_threshold`` are inactive.
    2. A training point: draw a factor k uniformly, sample a batch of ``batch_size`` factor
       vectors with factor k fixed to one value, encode them; the active latent with the
       smallest variance divided by its global variance votes for k.
    3. The classifier maps each latent to the factor with most training votes (majority
       vote); the score is its accuracy on ``num_eval`` fresh points.

    disentanglement_lib indexes votes by position among the *active* latents; here they are
    indexed by the latent itself, which relabels columns one-to-one and changes no accuracy.
    With no active latent the scores are 0 (as disentanglement_lib).

    Parameters
    ----------
    dataset : GroundTruthDataset
        ``sample_factors(n, rng)``, ``observations(factors)``, ``n_factors``.
    represent : callable
        ``represent(x: float32 batch) -> codes (B, n_latents)``, e.g. the posterior mean.
    seed : int
        Seed of the single ``np.random.default_rng`` stream (deterministic results).
    batch_size : int
        Observations per point (64).
    num_train, num_eval, num_variance_estimate : int, optional
        Defaults 10,000 / 5,000 / 10,000; ``fast=True``: 1,000 / 500 / 2,000.
    prune_threshold : float
        Minimum global standard deviation of an active latent (0.05).
    fast : bool
        Use the fast preset for the sizes not given explicitly.
    points_per_call : int
        Points whose batches are rendered and encoded together (speed only; results do not
        depend on it).
    progress : bool
        Show tqdm progress bars.

    Returns
    -------
    FactorVAEResult
    """
    preset = FAST if fast else DEFAULTS
    n_factors, seed, batch_size, num_train, num_eval = check_sampling_args(
        _FUNC, dataset, represent, seed=seed, batch_size=batch_size, min_batch=2,
        num_train=num_train, min_train=1, num_eval=num_eval, preset=preset,
    )
    num_var = preset["num_variance_estimate"] if num_variance_estimate is None else num_variance_estimate
    num_var = check_int(_FUNC, "num_variance_estimate", num_var, minimum=2)
    prune_threshold = check_float(_FUNC, "prune_threshold", prune_threshold, minimum=0.0)
    points_per_call = check_int(_FUNC, "points_per_call", points_per_call, minimum=1)
    rng = np.random.default_rng(seed)
    factors = np.asarray(dataset.sample_factors(num_var, rng))
    chunk = batch_size * points_per_call
    codes = np.concatenate(
        [
            encode(_FUNC, represent, np.asarray(dataset.observations(factors[s : s + chunk])), chunk)
            for s in range(0, num_var, chunk)
        ]
    )
    # Per-latent power-of-two scaling (exact): the votes compare variance *ratios*, and no
    # variance of 1e200-sized codes can overflow; the threshold applies in the codes' units.
    scaled, exponents = pow2_scale(codes)
    scaled_std = np.sqrt(np.var(scaled, axis=0, ddof=1))
    active = np.ldexp(scaled_std, exponents) >= prune_threshold
    n_latents = codes.shape[1]
    if not active.any():
        return FactorVAEResult(0.0, 0.0, 0.0, np.zeros(n_factors), 0, np.zeros((n_factors, n_latents), np.int64))
    kw = dict(
        n_factors=n_factors,
        batch_size=batch_size,
        global_std=scaled_std,
        exponents=exponents,
        active=active,
        points_per_call=points_per_call,
        progress=progress,
    )
    train_votes = _votes(dataset, represent, rng, num_points=num_train, desc="FactorVAE train", **kw)
    eval_votes = _votes(dataset, represent, rng, num_points=num_eval, desc="FactorVAE eval", **kw)
    classifier = np.argmax(train_votes, axis=0)  # latent -> factor
    cols = np.arange(n_latents)
    train_acc = train_votes[classifier, cols].sum() / train_votes.sum()
    eval_acc = eval_votes[classifier, cols].sum() / eval_votes.sum()
    per_factor = np.zeros(n_factors)
    for k in range(n_factors):
        total = eval_votes[k].sum()
        if total:
            per_factor[k] = eval_votes[k, classifier == k].sum() / total
    return FactorVAEResult(
        value=float(eval_acc),
        train_accuracy=float(train_acc),
        eval_accuracy=float(eval_acc),
        per_factor=per_factor,
        num_active_dims=int(active.sum()),
        votes=train_votes,
    )
