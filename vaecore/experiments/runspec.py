"""RunSpec: one run of an experiment, typed, and shipped to workers as JSON (SPEC §6).

:meth:`vaecore.experiments.spec.ExperimentSpec.expand` builds RunSpecs; executors send
:meth:`RunSpec.to_json` to a worker, which rebuilds it with :meth:`RunSpec.from_json` and calls
the run function registered under :attr:`RunSpec.runner`
(:mod:`vaecore.experiments.runfns`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from vaecore._paths import check_component
from vaecore.evaluation_options import options_from_dict, options_to_dict
from vaecore.experiments.store import run_id

__all__ = ["RunSpec", "StageInput"]


@dataclass(frozen=True)
class StageInput:
    """A finished run of a required stage, handed to the runs of a later stage.

    ``artifacts`` is its artifact folder (``None`` when the sweep keeps none), ``labels`` its
    report labels (``variant`` and grid keys) and ``metrics`` its stored metrics.
    """

    experiment: str
    run_id: str
    seed: int
    labels: dict
    artifacts: str | None
    metrics: dict

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageInput:
        return cls(experiment=str(data["experiment"]), run_id=str(data["run_id"]),
                   seed=int(data["seed"]), labels=dict(data["labels"]),
                   artifacts=data.get("artifacts"), metrics=dict(data.get("metrics") or {}))


@dataclass(frozen=True)
class RunSpec:
    """One run: what a worker needs to train and evaluate it.

    Attributes
    ----------
    experiment : str
        Experiment name (one path component).
    runner : str
        Name of a registered run function (:mod:`vaecore.experiments.runfns`).
    params : dict
        The run parameters as the config merges them. With ``runner``, ``group``, ``metrics``
        (and ``requires`` when set) and the seed they are hashed into :attr:`id`.
    group : dict
        Labels of the run in reports: ``variant``, the grid keys and ``dataset``.
    seed : int
    metrics : tuple of str
        Evaluators to run.
    train : dict or None
        The resolved training configuration (``TrainConfig.to_dict()``) for run functions that
        train, validated at expansion; ``None`` otherwise.
    evaluation : dict
        Evaluator name → its typed options (:mod:`vaecore.evaluation_options`).
    requires : tuple of str
        Experiments (stages) whose finished runs this run needs.
    inputs : tuple of StageInput
        Those runs, filled in by the sweep driver before the run is shipped (not hashed).
    """

    experiment: str
    runner: str
    params: dict
    group: dict
    seed: int
    metrics: tuple[str, ...] = ()
    train: dict | None = None
    evaluation: dict = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    inputs: tuple[StageInput, ...] = ()

    def __post_init__(self) -> None:
        check_component(self.experiment, what="RunSpec.experiment")

    @property
    def labels(self) -> dict:
        """The report labels (the same dict as :attr:`group`)."""
        return self.group

    @property
    def config(self) -> dict:
        """The JSON stored in the results store (hashed into :attr:`id` with the seed).

        Its form is that of the first release (``runner``, ``params``, ``group``, ``metrics``),
        so ids of existing stores stay valid; ``requires`` is added only when a run has it.
        """
        out = {"runner": self.runner, "params": self.params, "group": self.group,
               "metrics": list(self.metrics)}
        if self.requires:
            out["requires"] = list(self.requires)
        return out

    @property
    def id(self) -> str:
        return run_id(self.experiment, self.config, self.seed)

    def to_dict(self) -> dict:
        """A JSON-able dict that :meth:`from_dict` reads back."""
        d = asdict(self)
        d["metrics"] = list(self.metrics)
        d["requires"] = list(self.requires)
        d["evaluation"] = options_to_dict(self.evaluation)
        d["inputs"] = [asdict(i) for i in self.inputs]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSpec:
        if not isinstance(data, Mapping):
            raise TypeError(f"RunSpec.from_dict: data must be a mapping; got {type(data).__name__}")
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"RunSpec.from_dict: unknown key {unknown[0]!r}; valid keys are: "
                             f"{', '.join(sorted(known))}")
        return cls(
            experiment=data["experiment"], runner=str(data["runner"]), params=dict(data["params"]),
            group=dict(data["group"]), seed=int(data["seed"]),
            metrics=tuple(data.get("metrics", ())),
            train=None if data.get("train") is None else dict(data["train"]),
            evaluation={k: options_from_dict(k, v) for k, v in (data.get("evaluation") or {}).items()},
            requires=tuple(data.get("requires", ())),
            inputs=tuple(StageInput.from_dict(i) for i in data.get("inputs", ())),
        )

    def to_json(self) -> str:
        """Strict JSON (no NaN) of :meth:`to_dict`: what executors ship to workers."""
        return json.dumps(self.to_dict(), sort_keys=True, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> RunSpec:
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"RunSpec.from_json: not a RunSpec JSON text: {exc}") from None
        return cls.from_dict(data)
