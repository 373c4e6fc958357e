"""BetaVAE score (Higgins et al. 2017), as disentanglement_lib's ``beta_vae_sklearn``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaecore._validation import check_int
from vaecore.metrics._result import MetricResult
from vaecore.metrics.sampling import (
    Represent,
    check_sampling_args,
    encode,
    progress_bar,
)

_FUNC = "beta_vae_score"

#: disentanglement_lib's defaults and the ``fast=True`` preset.
DEFAULTS = {"num_train": 10_000, "num_eval": 5_000}
FAST = {"num_train": 1_000, "num_eval": 500}


@dataclass(frozen=True)
class BetaVAEResult(MetricResult):
    """Result of :func:`beta_vae_score`.

    Attributes
    ----------
    value : float
        Evaluation accuracy of the logistic regression.
    train_accuracy, eval_accuracy : float
    per_factor : ndarray (n_factors,)
        Evaluation accuracy among the points whose fixed factor is i (0 if never drawn).
    converged : bool
        False when sklearn's LogisticRegression hit its iteration limit (its
        ConvergenceWarning, recorded here instead of printed).
    """

    value: float
    train_accuracy: float
    eval_accuracy: float
    per_factor: np.ndarray
    converged: bool


def _points(
    dataset: Any,
    represent: Represent,
    rng: np.random.Generator,
    *,
    n_factors: int,
    batch_size: int,
    num_points: int,
    points_per_call: int,
    progress: bool,
    desc: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Feature vectors mean_b |z(x1_b) - z(x2_b)| with one factor shared by each pair,
    and that factor as the label. Factors are drawn point by point (the random stream does
    not depend on chunking); rendering and encoding run ``points_per_call`` points at once."""
    labels = np.empty(num_points, dtype=np.int64)
    features = []
    with progress_bar(num_points, desc, progress) as bar:
        for start in range(0, num_points, points_per_call):
            m = min(points_per_call, num_points - start)
            first, second = [], []
            for p in range(m):
                k = int(rng.integers(n_factors))
                f1 = np.array(dataset.sample_factors(batch_size, rng), copy=True)
                f2 = np.array(dataset.sample_factors(batch_size, rng), copy=True)
                f2[:, k] = f1[:, k]
                labels[start + p] = k
                first.append(f1)
                second.append(f2)
            obs = np.asarray(dataset.observations(np.concatenate(first + second, axis=0)))
            codes = encode(_FUNC, represent, obs, 2 * batch_size * points_per_call)
            z1 = codes[: m * batch_size].reshape(m, batch_size, -1)
            z2 = codes[m * batch_size :].reshape(m, batch_size, -1)
            with np.errstate(over="ignore", invalid="ignore"):
                feat = np.mean(np.abs(z1 - z2), axis=1)
            if not np.isfinite(feat).all():
                raise ValueError(
                    f"{_FUNC}: represent must return codes whose differences and means are finite "
                    f"in float64; got an overflow (codes beyond ~1e307)"
                )
            features.append(feat)
            bar.update(m)
    return np.concatenate(features, axis=0), labels


def beta_vae_score(
    dataset: Any,
    represent: Represent,
    *,
    seed: int = 0,
    batch_size: int = 64,
    num_train: int | None = None,
    num_eval: int | None = None,
    fast: bool = False,
    points_per_call: int = 16,
    progress: bool = True,
) -> BetaVAEResult:
    """BetaVAE score (Higgins et al. 2017) with disentanglement_lib's definition and defaults.

    A point: draw a factor k uniformly, two batches of ``batch_size`` factor vectors that
    share the value of factor k pairwise, encode both; the feature is the mean absolute
    difference of the codes, the label is k. A ``LogisticRegression(random_state=seed)``
    (sklearn defaults) is fit on ``num_train`` points; the score is its accuracy on
    ``num_eval`` fresh points.

    Parameters
    ----------
    dataset : GroundTruthDataset
        ``sample_factors(n, rng)``, ``observations(factors)``, ``n_factors``.
    represent : callable
        ``represent(x: float32 batch) -> codes (B, n_latents)``.
    seed : int
        Seed of the single ``np.random.default_rng`` stream and of the classifier.
    batch_size : int
        Pairs per point (64).
    num_train, num_eval : int, optional
        Defaults 10,000 / 5,000; ``fast=True``: 1,000 / 500.
    fast : bool
        Use the fast preset for the sizes not given explicitly.
    points_per_call : int
        Points rendered and encoded together (speed only; results do not depend on it).
    progress : bool
        Show tqdm progress bars.

    Returns
    -------
    BetaVAEResult
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    n_factors, seed, batch_size, num_train, num_eval = check_sampling_args(
        _FUNC, dataset, represent, seed=seed, batch_size=batch_size, min_batch=1,
        num_train=num_train, min_train=2, num_eval=num_eval, preset=FAST if fast else DEFAULTS,
    )
    points_per_call = check_int(_FUNC, "points_per_call", points_per_call, minimum=1)
    rng = np.random.default_rng(seed)
    kw = dict(n_factors=n_factors, batch_size=batch_size, points_per_call=points_per_call, progress=progress)
    x_train, y_train = _points(dataset, represent, rng, num_points=num_train, desc="BetaVAE train", **kw)
    x_eval, y_eval = _points(dataset, represent, rng, num_points=num_eval, desc="BetaVAE eval", **kw)
    if np.unique(y_train).size < 2:
        raise ValueError(
            f"{_FUNC}: num_train must be large enough to draw at least 2 distinct factors; got "
            f"{num_train} points all fixing factor {int(y_train[0])}"
        )
    model = LogisticRegression(random_state=seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(x_train, y_train)
    converged = not any(issubclass(c.category, ConvergenceWarning) for c in caught)
    for c in caught:
        if not issubclass(c.category, ConvergenceWarning):
            warnings.warn_explicit(c.message, c.category, c.filename, c.lineno)
    train_acc = float(model.score(x_train, y_train))
    pred = model.predict(x_eval)
    eval_acc = float(np.mean(pred == y_eval))
    per_factor = np.array(
        [float(np.mean(pred[y_eval == k] == k)) if np.any(y_eval == k) else 0.0 for k in range(n_factors)]
    )
    return BetaVAEResult(
        value=eval_acc,
        train_accuracy=train_acc,
        eval_accuracy=eval_acc,
        per_factor=per_factor,
        converged=converged,
    )
