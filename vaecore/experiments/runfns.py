"""Run functions: what a worker executes for one :class:`~vaecore.experiments.runspec.RunSpec`.

A run function is ``fn(spec: RunSpec, *, out: Path | None) -> dict``: it trains / computes what
the spec describes, writes its artifacts under ``out`` (``None``: keep none) and returns a flat
JSON-able dict of metric values. Configs name run functions by the names registered in
:data:`RUN_FUNCTIONS`; a config never names code (``runner = "module:function"`` is refused).
Other code plugs in its own with :func:`register_run_function` (explicit opt-in); for process
and Ray workers the function must be importable at module level, which registration checks.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RUN_FUNCTIONS", "RunFunction", "get_run_function", "register_run_function", "train_run"]


@dataclass(frozen=True)
class RunFunction:
    """A registered run function.

    keys : the parameter names the function accepts (``None``: not declared, any key).
    trains : whether it trains a :class:`vaecore.TrainConfig` model: then the parameters are
        resolved into :attr:`RunSpec.train` at expansion (preset of ``dataset`` at the scale)
        and ``scale`` is one of them.
    evaluates : whether it runs evaluators, so evaluator options (``dto_points`` ...) apply.
    plugin : ``"module:qualname"`` of a function registered by :func:`register_run_function`,
        by which process and Ray workers find it (``None`` for vaecore's own).
    """

    name: str
    fn: Callable[..., dict]
    keys: tuple[str, ...] | None = None
    trains: bool = False
    evaluates: bool = False
    plugin: str | None = None


RUN_FUNCTIONS: dict[str, RunFunction] = {}


def _reference(fn: Callable[..., dict]) -> str:
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    target = importlib.import_module(module) if module else None
    found = target
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is not fn:
        raise ValueError(f"register_run_function: {fn!r} must be a module-level function that "
                         "worker processes can import (not a lambda or a closure)")
    return f"{module}:{qualname}"


def register_run_function(name: str, fn: Callable[..., dict], *, keys=None,
                          evaluates: bool = False) -> RunFunction:
    """Register ``fn(spec, *, out) -> dict`` under ``name`` (the opt-in for plugins).

    ``keys`` lists its parameter names (configs are then checked against them).
    """
    if not isinstance(name, str) or not name or ":" in name:
        raise ValueError(f"register_run_function: name must be a non-empty string without ':'; got {name!r}")
    if not callable(fn):
        raise TypeError(f"register_run_function: fn must be callable; got {type(fn).__name__}")
    entry = RunFunction(name, fn, None if keys is None else tuple(keys), evaluates=evaluates,
                        plugin=_reference(fn))
    RUN_FUNCTIONS[name] = entry
    return entry


def get_run_function(name: str, *, plugin: str | None = None) -> RunFunction:
    """The run function registered as ``name``.

    ``plugin`` (set by the sweep driver for functions registered there) lets a worker process
    import a plugin the driver registered; a config can never supply it.
    """
    if name not in RUN_FUNCTIONS and plugin is not None:
        module, qualname = plugin.split(":", 1)
        fn: Any = importlib.import_module(module)
        for part in qualname.split("."):
            fn = getattr(fn, part)
        return register_run_function(name, fn)
    if name not in RUN_FUNCTIONS:
        hint = (" — a config names a registered run function, never code; register a plugin with "
                "vaecore.experiments.register_run_function(name, fn)") if ":" in str(name) else ""
        raise ValueError(f"runner must be one of {', '.join(sorted(RUN_FUNCTIONS))}; got {name!r}{hint}")
    return RUN_FUNCTIONS[name]


PLUGINS_ENV = "VAECORE_PLUGINS"


def load_plugins(spec: str | None = None) -> list[str]:
    """Import the plugin modules named in ``$VAECORE_PLUGINS`` (comma-separated), the CLI's opt-in.

    Each module registers its run functions with :func:`register_run_function` when imported. The
    variable is set by the user who runs the command, never read from a config file, so a config
    still cannot make vaecore import code. Returns the imported module names.
    """
    text = os.environ.get(PLUGINS_ENV, "") if spec is None else spec
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ValueError(f"{PLUGINS_ENV}: cannot import plugin module {name!r}: {exc}") from None
    return names


def resolve_runner(name: str) -> Callable[..., dict]:
    """The callable registered as ``name`` (see :func:`get_run_function`)."""
    return get_run_function(name).fn


def _finite(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _train_keys() -> tuple[str, ...]:
    from vaecore import TrainConfig
    from vaecore.evaluation_options import evaluator_option_keys

    names = set(TrainConfig.keys())  # common fields and every model's options
    return tuple(sorted(names | {"scale", *evaluator_option_keys()}))


def resolve_train_config(params: Mapping[str, Any], seed: int) -> dict:
    """``TrainConfig.to_dict()`` of the preset of ``params["dataset"]`` at ``params["scale"]``
    with the other parameters as overrides (``steps = 0``: the untrained model)."""
    from vaecore import TrainConfig

    params = dict(params)
    if "dataset" not in params:
        raise ValueError("train runner: the parameter 'dataset' is required (it picks the preset)")
    preset = params.pop("dataset")
    return TrainConfig.from_dict({"preset": preset, **params, "seed": int(seed)}).to_dict()


def train_run(spec, *, out: str | Path | None = None) -> dict:
    """Train one model and evaluate it (the ``train`` run function).

    Trains ``TrainConfig.from_dict(spec.train)`` (resuming a checkpoint under ``out``) and
    evaluates ``spec.metrics`` with the typed options of ``spec.evaluation``. Returns the metric
    values, ``dto_active`` / ``dto_directions`` (see :func:`vaecore.evaluation._dto`),
    ``dci_estimator`` beside DCI, the polarized-regime summary of Table 3.2
    (``fraction_polarized``, ``n_active``, ``delta_kl``) and ``steps``.
    """
    from vaecore import TrainConfig, evaluate, train

    config = TrainConfig.from_dict(spec.train)
    run = train(config, out=None if out is None else Path(out), resume=True, progress=False)
    result: dict[str, Any] = {}
    if spec.metrics:
        options = {k: v for k, v in spec.evaluation.items() if k in spec.metrics}
        evaluated = evaluate(run, metrics=tuple(spec.metrics), seed=int(spec.seed), options=options)
        for name in spec.metrics:
            result[name] = _finite(evaluated[name]["value"])
        if "dto" in spec.metrics:
            result["dto_active"] = evaluated["dto"].get("n_active")
            result["dto_directions"] = evaluated["dto"].get("n_active_directions")
        if "dci" in spec.metrics:
            result["dci_estimator"] = evaluated["dci"]["estimator"]
    polarized = dict(getattr(run, "polarized", None) or {})
    for key in ("fraction_polarized", "n_active", "delta_kl"):
        if key in polarized:
            result[key] = _finite(polarized[key])
    result["steps"] = int(getattr(run, "step", 0))
    result["provenance"] = _provenance(run)
    return result


def _provenance(run: Any) -> dict:
    """The data source and software versions of ``run`` (run.json's record, else computed)."""
    from vaecore.datasets.provenance import dataset_provenance, software_versions

    folder = getattr(run, "dir", None)
    if folder is not None and (Path(folder) / "run.json").is_file():
        import json

        saved = json.loads((Path(folder) / "run.json").read_text(encoding="utf-8")).get("provenance")
        if saved:
            return saved
    return {"dataset": dataset_provenance(run.dataset), "software": software_versions()}


def _theorem2_run(spec, *, out: str | Path | None = None) -> dict:
    from vaecore.experiments.theorem2 import theorem2_run

    return theorem2_run(spec.params, seed=spec.seed, out=out)


def _builtin() -> None:
    from vaecore.experiments.theorem2 import THEOREM2_KEYS

    RUN_FUNCTIONS["train"] = RunFunction("train", train_run, None, trains=True, evaluates=True)
    RUN_FUNCTIONS["theorem2"] = RunFunction("theorem2", _theorem2_run, THEOREM2_KEYS)


_builtin()


def run_function_keys(entry: RunFunction) -> tuple[str, ...] | None:
    """Valid parameter keys of a run function (``None``: not declared)."""
    return _train_keys() if entry.trains else entry.keys


# chapter 4's run functions ("perturb", "ch4-train") register themselves on import
from vaecore.experiments import chapter4 as _chapter4  # noqa: E402,F401
