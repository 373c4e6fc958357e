"""Every disentanglement metric from a dataset and a representation function.

The entry point for trained models (and for ``vaecore evaluate``): given a ground-truth
dataset (the :mod:`vaecore.datasets` contract) and ``represent(x: float32 batch) ->
(B, n_latents)`` (e.g. ``run.model.represent``), :func:`score_representation` samples the
points each metric needs with disentanglement_lib's sizes and returns its result object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from vaecore._validation import check_int, check_option
from vaecore.metrics.beta_vae import beta_vae_score
from vaecore.metrics.dci import dci
from vaecore.metrics.ds import ds
from vaecore.metrics.factor_vae import factor_vae_score
from vaecore.metrics.irs import irs
from vaecore.metrics.mig import mig
from vaecore.metrics.modularity_explicitness import modularity_explicitness
from vaecore.metrics.sampling import Represent, sample_codes
from vaecore.metrics.sap import sap

_FUNC = "score_representation"

#: Points sampled for the array metrics: disentanglement_lib's sizes, and ``fast=True``.
SIZES = {
    False: {"num_train": 10_000, "num_test": 5_000},
    True: {"num_train": 2_000, "num_test": 1_000},
}


def _categorical(dataset: Any) -> list[bool] | None:
    kinds = getattr(dataset, "factor_kinds", None)
    return None if kinds is None else [k == "categorical" for k in kinds]


def _train_test(dataset: Any, represent: Represent, seed: int, fast: bool, progress: bool, test: bool):
    sizes = SIZES[bool(fast)]
    n = sizes["num_train"] + (sizes["num_test"] if test else 0)
    codes, factors = sample_codes(dataset, represent, n, seed=seed, progress=progress)
    k = sizes["num_train"]
    return codes[:k], factors[:k], codes[k:], factors[k:]


def _ds(dataset, represent, *, seed, fast, progress, **options):
    z, w, _, _ = _train_test(dataset, represent, seed, fast, progress, test=False)
    options.setdefault("categorical", _categorical(dataset))
    return ds(z, w, seed=seed, **options)


def _mig(dataset, represent, *, seed, fast, progress, **options):
    z, w, _, _ = _train_test(dataset, represent, seed, fast, progress, test=False)
    options.setdefault("drop_constant", True)
    return mig(z, w, **options)


def _sap(dataset, represent, *, seed, fast, progress, **options):
    return sap(*_train_test(dataset, represent, seed, fast, progress, test=True), seed=seed, **options)


def _dci(dataset, represent, *, seed, fast, progress, estimator="sklearn", **options):
    # the tree estimator is chosen explicitly (default sklearn), never by what is installed
    check_option(_FUNC, "estimator", estimator, ("sklearn", "lightgbm"))
    return dci(*_train_test(dataset, represent, seed, fast, progress, test=True), seed=seed,
               backend=estimator, **options)


def _factor_vae(dataset, represent, *, seed, fast, progress, **options):
    return factor_vae_score(dataset, represent, seed=seed, fast=fast, progress=progress, **options)


def _beta_vae(dataset, represent, *, seed, fast, progress, **options):
    return beta_vae_score(dataset, represent, seed=seed, fast=fast, progress=progress, **options)


def _modularity_explicitness(dataset, represent, *, seed, fast, progress, **options):
    return modularity_explicitness(*_train_test(dataset, represent, seed, fast, progress, test=True), **options)


def _irs(dataset, represent, *, seed, fast, progress, **options):
    z, w, _, _ = _train_test(dataset, represent, seed, fast, progress, test=False)
    return irs(z, w, **options)


#: name -> fn(dataset, represent, *, seed, fast, progress, **options) -> result object
REPRESENTATION_METRICS: dict[str, Callable[..., Any]] = {
    "ds": _ds,
    "mig": _mig,
    "sap": _sap,
    "dci": _dci,
    "factor_vae": _factor_vae,
    "beta_vae": _beta_vae,
    "modularity_explicitness": _modularity_explicitness,
    "irs": _irs,
}


def score_representation(
    metric: str,
    dataset: Any,
    represent: Represent,
    *,
    seed: int = 0,
    fast: bool = False,
    progress: bool = False,
    **options: Any,
) -> Any:
    """Compute one metric of a representation on a ground-truth dataset.

    Parameters
    ----------
    metric : {"ds", "mig", "sap", "dci", "factor_vae", "beta_vae"}
    dataset : GroundTruthDataset
        ``sample_factors(n, rng)``, ``observations(factors)``, ``n_factors``
        (``factor_kinds`` marks categorical factors for DS).
    represent : callable
        ``represent(x: float32 batch) -> (B, n_latents)``, e.g. ``run.model.represent``.
    seed : int
        Seed of the sampling and of the metric.
    fast : bool
        Smaller samples: array metrics 2,000 train / 1,000 test points instead of
        disentanglement_lib's 10,000 / 5,000; FactorVAE and BetaVAE their fast presets.
    progress : bool
        Show tqdm bars while encoding.
    **options
        Passed to the metric (e.g. ``estimator="sklearn"|"lightgbm"`` for DCI, default
        "sklearn" whatever is installed; MIG drops constant factors by default).

    Returns
    -------
    The metric's result object (``.value``, ``.as_dict()``).

    Examples
    --------
    >>> res = score_representation("mig", dataset, run.model.represent, seed=0)  # doctest: +SKIP
    >>> res.as_dict()["value"]  # doctest: +SKIP
    """
    check_option(_FUNC, "metric", metric, tuple(REPRESENTATION_METRICS))
    seed = check_int(_FUNC, "seed", seed, minimum=0)
    if not isinstance(fast, (bool, np.bool_)):
        raise TypeError(f"{_FUNC}: fast must be a bool; got {type(fast).__name__}")
    return REPRESENTATION_METRICS[metric](
        dataset, represent, seed=seed, fast=bool(fast), progress=progress, **options
    )
