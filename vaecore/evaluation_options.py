"""Typed options of the evaluators, and the active-latent rule of the DtO evaluator.

One frozen dataclass per evaluator that takes options (:data:`EVALUATOR_OPTIONS`); each checks
its fields when built, so an experiment config with a bad option fails when it loads, not when
a run finishes. In experiment configs an option is written ``<evaluator>_<option>`` beside the
run parameters (``dto_points = "prior"``, ``dci_estimator = "lightgbm"``, see
:func:`split_evaluator_options`).

The active-latent rule (thesis §3.3.2) lives here, in :func:`dto_latents_for` (which latents a
model's DtO is taken over by default) and :func:`active_latents` (which latents are active).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from vaecore._validation import check_option

__all__ = [
    "ACTIVE_SPREAD",
    "DCI_ESTIMATORS",
    "DTO_LATENTS_OPTIONS",
    "DTO_POINTS_OPTIONS",
    "EVALUATOR_OPTIONS",
    "DciOptions",
    "DtoOptions",
    "active_latents",
    "dto_latents_for",
    "evaluator_option_keys",
    "options_from_dict",
    "options_to_dict",
    "split_evaluator_options",
]

DTO_POINTS_OPTIONS = ("posterior", "prior")
DTO_LATENTS_OPTIONS = ("auto", "active", "all")
DCI_ESTIMATORS = ("sklearn", "lightgbm")

#: A latent is active when the standard deviation of its codes exceeds this (§3.3.2).
ACTIVE_SPREAD = 0.5


def dto_latents_for(model: str | None) -> str:
    """The active-latent rule, part 1: which latents a model's DtO is taken over by default.

    "all" for a plain autoencoder (``model == "ae"``), "active" for every other model. The rule
    √var z_j > 0.5 (§3.3.2) presumes the unit scale that the KL term imposes on the latents; an
    autoencoder has no such scale, so a latent with a small spread is not passive.
    """
    return "all" if model == "ae" else "active"


def active_latents(codes: np.ndarray, latents: str) -> np.ndarray:
    """The active-latent rule, part 2: the boolean mask of the latents the DtO is taken over.

    ``latents="all"``: every latent. ``latents="active"``: the latents whose codes have a
    standard deviation above :data:`ACTIVE_SPREAD` over the evaluation points (§3.3.2); every
    latent when none is active. Prior samples have unit spread, so at ``points="prior"`` every
    latent is active.
    """
    check_option("active_latents", "latents", latents, ("active", "all"))
    codes = np.asarray(codes)
    active = codes.std(axis=0) > ACTIVE_SPREAD
    if latents == "all" or not active.any():
        return np.ones_like(active)
    return active


@dataclass(frozen=True)
class DtoOptions:
    """Options of the ``dto`` evaluator (:func:`vaecore.evaluation._dto`).

    points : "posterior" (the posterior means of test-split points, the thesis's definition) or
        "prior" (samples of N(0, I); the random-decoder baseline of Table 3.3).
    latents : "auto" (:func:`dto_latents_for` the run's model), "active" or "all"
        (:func:`active_latents`).
    """

    points: str = "posterior"
    latents: str = "auto"

    def __post_init__(self) -> None:
        check_option("dto", "points", self.points, DTO_POINTS_OPTIONS)
        check_option("dto", "latents", self.latents, DTO_LATENTS_OPTIONS)


@dataclass(frozen=True)
class DciOptions:
    """Options of the ``dci`` evaluator.

    estimator : "sklearn" (default, the reference definition's gradient-boosted trees) or
        "lightgbm" (the optional extra ``fast``). Chosen explicitly, never by what is installed;
        the stored metrics record it as ``dci_estimator``.
    """

    estimator: str = "sklearn"

    def __post_init__(self) -> None:
        check_option("dci", "estimator", self.estimator, DCI_ESTIMATORS)


#: evaluator name -> its options dataclass (evaluators without options are absent)
EVALUATOR_OPTIONS: dict[str, type] = {"dto": DtoOptions, "dci": DciOptions}


def options_from_dict(name: str, data: Any) -> Any:
    """Build the options dataclass of evaluator ``name`` from a mapping (or pass one through)."""
    cls = EVALUATOR_OPTIONS.get(name)
    if cls is None:
        raise ValueError(f"evaluator options: {name!r} takes no options; evaluators with options: "
                         f"{', '.join(sorted(EVALUATOR_OPTIONS))}")
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise TypeError(f"options[{name!r}] must be a mapping; got {type(data).__name__}")
    valid = tuple(f.name for f in fields(cls))
    for key in data:
        if key not in valid:
            raise ValueError(f"options[{name!r}] keys must be among {valid}; got {key!r}")
    return cls(**data)


def options_to_dict(options: Mapping[str, Any]) -> dict[str, dict]:
    """``{name: options dataclass}`` → JSON-able ``{name: {field: value}}``."""
    return {name: asdict(opts) for name, opts in options.items()}


def evaluator_option_keys() -> tuple[str, ...]:
    """The config keys of every evaluator option: ``dto_points``, ``dto_latents``, ``dci_estimator``."""
    return tuple(f"{name}_{f.name}" for name, cls in EVALUATOR_OPTIONS.items() for f in fields(cls))


def split_evaluator_options(
    params: Mapping[str, Any], metrics: tuple[str, ...], *, where: str
) -> tuple[dict, dict[str, Any]]:
    """Split run parameters into the run function's own and typed evaluator options.

    Returns ``(params without option keys, {evaluator: options})`` with an options object for
    every evaluator in ``metrics`` that has options (defaults where the config sets none).
    An option of an evaluator that is not among ``metrics`` is an error.
    """
    own = dict(params)
    raw: dict[str, dict] = {}
    for name, cls in EVALUATOR_OPTIONS.items():
        for f in fields(cls):
            key = f"{name}_{f.name}"
            if key in own:
                raw.setdefault(name, {})[f.name] = own.pop(key)
    for name in raw:
        if name not in metrics:
            raise ValueError(f"{where}: options of the {name!r} evaluator "
                             f"({', '.join(name + '_' + k for k in raw[name])}) need {name!r} among "
                             f"the metrics; metrics are {list(metrics)}")
    try:
        options = {name: EVALUATOR_OPTIONS[name](**raw.get(name, {}))
                   for name in metrics if name in EVALUATOR_OPTIONS}
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    return own, options
