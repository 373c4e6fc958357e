"""Run functions: what a worker executes for one :class:`~vaecore.experiments.spec.RunSpec`.

A run function has the signature ``fn(params, *, seed, metrics, out) -> dict``:
it trains / computes what ``params`` describe, writes artifacts under ``out``
(a directory, or ``None`` for none) and returns a flat JSON-able dict of metric
values. Configs name them by a short name registered here, or by an import path
``"package.module:function"`` (how tests and users plug in their own). Workers
resolve the name themselves, so only strings cross process boundaries.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

RunFunction = Callable[..., dict]

RUNNERS: dict[str, str] = {
    "train": "vaecore.experiments.runfns:train_run",
    "theorem2": "vaecore.experiments.theorem2:theorem2_run",
}


def resolve_runner(name: str) -> RunFunction:
    """The run function registered as ``name`` or importable as ``"module:function"``."""
    target = RUNNERS.get(name, name)
    if ":" not in target:
        raise ValueError(
            f"resolve_runner: runner must be one of {', '.join(sorted(RUNNERS))} or "
            f"'module:function'; got {name!r}"
        )
    module, attr = target.split(":", 1)
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"resolve_runner: cannot import {target!r}: {exc}") from None
    if not callable(fn):
        raise ValueError(f"resolve_runner: {target!r} is not callable")
    return fn


# evaluation options of the train runner (not TrainConfig keys): the "dto" evaluator's
# ``points`` and ``latents`` (see vaecore.evaluation._dto)
TRAIN_EVAL_KEYS = ("dto_points", "dto_latents")


def runner_keys(name: str) -> tuple[str, ...] | None:
    """Valid parameter keys of a runner, or ``None`` when it does not declare them."""
    if name == "train":
        try:
            from vaecore import TrainConfig
        except ImportError:  # training not installed in this build
            return None
        return tuple(sorted({f.name for f in dataclasses.fields(TrainConfig)} | {"scale", *TRAIN_EVAL_KEYS}))
    if name == "theorem2":
        from vaecore.experiments.theorem2 import THEOREM2_KEYS

        return THEOREM2_KEYS
    return None


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def train_run(
    params: Mapping[str, Any],
    *,
    seed: int,
    metrics: Sequence[str] = ("dto", "ds"),
    out: str | Path | None = None,
) -> dict:
    """Train one model and evaluate it (the ``train`` runner).

    ``params`` are :class:`vaecore.TrainConfig` keys on top of
    ``TrainConfig.preset(dataset, scale=scale)``; ``steps = 0`` gives the
    random-decoder baseline of Table 3.3 (the untrained model). Returns the
    requested metrics' values plus the polarized-regime summary of Table 3.2
    (``fraction_polarized``) and the number of active latents.

    Two keys are evaluation options, not training ones: ``dto_points`` ("posterior", the
    default, or "prior") and ``dto_latents`` ("active" or "all") are the ``points`` and
    ``latents`` of the "dto" evaluator (:func:`vaecore.evaluation._dto`). ``dto_latents``
    defaults to "all" for the ``ae`` model and "active" otherwise: the active-latent rule
    (√var μ_j > 0.5, §3.3.2) presumes the unit scale the KL term imposes on the latents; a
    plain autoencoder has no such scale (a latent with a small spread is not passive).
    """
    from vaecore import TrainConfig, evaluate, train
    from vaecore._validation import check_option
    from vaecore.evaluation import DTO_LATENTS_OPTIONS, DTO_POINTS_OPTIONS

    params = dict(params)
    scale = params.pop("scale", "quick")
    dataset = params.pop("dataset")
    dto_points = params.pop("dto_points", "posterior")
    dto_latents = params.pop("dto_latents", None)
    check_option("train_run", "dto_points", dto_points, DTO_POINTS_OPTIONS)
    if dto_latents is not None:
        check_option("train_run", "dto_latents", dto_latents, DTO_LATENTS_OPTIONS)
    config = TrainConfig.preset(dataset, scale=scale, **{**params, "seed": int(seed)})
    if dto_latents is None:
        dto_latents = "all" if config.model == "ae" else "active"
    run = train(config, out=None if out is None else Path(out), resume=True, progress=False)
    result: dict[str, Any] = {}
    if metrics:
        options = {"dto": {"points": dto_points, "latents": dto_latents}} if "dto" in metrics else None
        evaluated = evaluate(run, metrics=tuple(metrics), seed=int(seed), options=options)
        for name in metrics:
            result[name] = _finite(evaluated[name]["value"])
        if "dto" in metrics:
            result["dto_active"] = evaluated["dto"].get("n_active")
            result["dto_directions"] = evaluated["dto"].get("n_active_directions")
    polarized = dict(getattr(run, "polarized", None) or {})
    for key in ("fraction_polarized", "n_active", "delta_kl"):
        if key in polarized:
            result[key] = _finite(polarized[key])
    result["steps"] = int(getattr(run, "step", 0))
    return result
