"""Experiment configs: TOML files shipped in ``vaecore/experiments/configs`` (SPEC §6).

A config describes one experiment of the thesis (a table or a figure) at two
scales, ``thesis`` (the thesis's settings, for a GPU or a cluster) and
``quick`` (2 CPU cores, minutes). Expanding it yields one :class:`RunSpec`
per (grid point × variant × seed). Layout::

    [experiment]                 # name, title, description, runner, metrics, groups, requires
    [report]                     # table, title, rows, columns, figure, x, metrics, thesis, labels
    [defaults]                   # run parameters shared by every run
    [grid]                       # optional: key = [values…], cartesian product
    [[variants]]                 # one table per column of the thesis table; key "variant" names it
    [scales.quick]               # seeds, and defaults / variants.<name> / grid overriding the above
    [scales.thesis]

``runner`` names a registered run function (:mod:`vaecore.experiments.runfns`), never code.
Run parameters are the keys of :class:`vaecore.TrainConfig` for the ``train``
runner (plus ``scale`` and the evaluator options ``<evaluator>_<option>`` of
:mod:`vaecore.evaluation_options`, e.g. ``dto_points``), or the runner's own keys.
``requires`` names experiments (stages) whose finished runs this one needs; the sweep driver
(:mod:`vaecore.experiments.stages`) runs them first. A dotted key such as
``"dataset_options.ratio"`` sets one entry of a dict-valued parameter; its
last component (``ratio``) is the name reports use.

Merge order, later wins: ``defaults`` < ``scales.S.defaults`` < variant <
``scales.S.variants.<variant>`` < grid point < ``--set`` overrides, except that an override never
replaces a key the variant itself sets: a variant's own keys define its column of the thesis's
table (``--set steps=5000`` lengthens the trained models but leaves the random decoder's
``steps = 0`` untrained).
"""

from __future__ import annotations

import copy
import itertools
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaecore._paths import check_component
from vaecore.experiments.parsing import (
    EXPERIMENT_KEYS,
    ParamChecker,
    ReportSpec,
    SCALES,
    TOP_KEYS,
    check_keys,
    check_names,
    check_table,
    parse_scales,
    parse_variants,
)
from vaecore.experiments.runspec import RunSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class ExperimentSpec:
    """A parsed, validated experiment config."""

    name: str
    title: str
    description: str
    runner: str
    metrics: tuple[str, ...]
    groups: tuple[str, ...]
    report: ReportSpec
    defaults: dict
    grid: dict
    variants: tuple[dict, ...]
    scales: dict
    requires: tuple[str, ...] = ()
    source: str | None = field(default=None, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> ExperimentSpec:
        """Validate a config mapping (as read from TOML) and build the spec.

        Every run of both scales is expanded once here, so a bad parameter or evaluator option
        fails when the config loads.

        Raises
        ------
        ValueError
            Naming the first bad key and listing the valid ones.
        """
        where = f"experiment config {source}" if source else "experiment config"
        data = check_table(where, data)
        check_keys(where, data, TOP_KEYS)
        exp = check_table(f"{where} [experiment]", data.get("experiment", {}))
        check_keys(f"{where} [experiment]", exp, EXPERIMENT_KEYS)
        if "name" not in exp:
            raise ValueError(f"{where} [experiment]: missing required key 'name'")
        name = check_component(str(exp["name"]), what=f"{where} [experiment] name")
        try:
            check = ParamChecker(str(exp.get("runner", "train")))
        except ValueError as exc:
            raise ValueError(f"{where} [experiment]: {exc}") from None
        variants = parse_variants(where, data.get("variants", [{"variant": "default"}]), check)
        requires = check_names(f"{where} [experiment] requires", exp.get("requires", []))
        for req in requires:
            check_component(req, what=f"{where} [experiment] requires")
        spec = cls(
            name=name,
            title=str(exp.get("title", name)),
            description=str(exp.get("description", "")),
            runner=str(exp.get("runner", "train")),
            metrics=check_names(f"{where} [experiment] metrics", exp.get("metrics", ["dto", "ds"])),
            groups=tuple(str(g) for g in exp.get("groups", [])),
            report=ReportSpec.from_dict(f"{where} [report]",
                                        check_table(f"{where} [report]", data.get("report", {})), name),
            defaults=check(f"{where} [defaults]", data.get("defaults", {})),
            grid=check.grid(f"{where} [grid]", data.get("grid", {})),
            variants=variants,
            scales=parse_scales(where, data.get("scales", {}), [v["variant"] for v in variants], check),
            requires=requires,
            source=source,
        )
        for scale in SCALES:
            spec.expand(scale=scale, seeds=[0])
        return spec

    @classmethod
    def from_toml(cls, path: str | Path) -> ExperimentSpec:
        """Read and validate a TOML config file."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"experiment config: no such file {str(path)!r}")
        with path.open("rb") as fh:
            try:
                data = tomllib.load(fh)
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ValueError(f"experiment config {path}: invalid TOML: {exc}") from None
        return cls.from_dict(data, source=str(path))

    def expand(
        self,
        *,
        scale: str = "quick",
        seeds: int | Sequence[int] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> list[RunSpec]:
        """Expand into runs: grid point × variant × seed.

        Parameters
        ----------
        scale : {"quick", "thesis"}
        seeds : int or sequence of int, optional
            ``N`` means seeds ``0 … N-1``; default: the scale's ``seeds``.
        overrides : mapping, optional
            Parameters applied to every run last (``--set key=value``), except to the keys a
            variant sets itself (they define the variant's column).

        Returns
        -------
        list of RunSpec
            Ordered by seed first, so an interrupted sweep has whole seeds done.
        """
        if scale not in SCALES:
            raise ValueError(f"ExperimentSpec.expand: scale must be one of {SCALES}; got {scale!r}")
        sc = self.scales[scale]
        seed_list = _seed_list(sc["seeds"] if seeds is None else seeds)
        overrides = ParamChecker(self.runner)(f"{self.name}: override", dict(overrides or {}))
        grid = sc["grid"] if sc["grid"] is not None else self.grid
        keys = list(grid)
        points = [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]
        out: list[RunSpec] = []
        for seed in seed_list:
            for point in points:
                for variant in self.variants:
                    own = {k: v for k, v in variant.items() if k != "variant"}
                    own_scaled = sc["variants"].get(variant["variant"], {})
                    pinned = set(own) | set(own_scaled)
                    layers = (self.defaults, sc["defaults"], own, own_scaled, point,
                              {k: v for k, v in overrides.items() if k not in pinned})
                    out.append(self._run(scale, seed, variant["variant"], point, layers))
        return out

    def _run(self, scale: str, seed: int, label: str, point: dict, layers) -> RunSpec:
        """One RunSpec: merge the parameter layers, split off evaluator options, resolve training."""
        from vaecore.evaluation_options import split_evaluator_options
        from vaecore.experiments.runfns import get_run_function, resolve_train_config

        entry = get_run_function(self.runner)
        params: dict = {"scale": scale} if entry.trains else {}
        for layer in layers:
            _merge(params, layer)
        group = {"variant": label}
        group.update({k.rsplit(".", 1)[-1]: v for k, v in point.items()})
        if params.get("dataset") is not None:
            group.setdefault("dataset", params["dataset"])
        where = f"experiment {self.name!r} ({scale}, variant {label!r})"
        own, evaluation = (split_evaluator_options(params, self.metrics, where=where)
                           if entry.evaluates else (params, {}))
        train = None
        if entry.trains:
            try:
                train = resolve_train_config(own, seed)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{where}: {exc}") from None
        return RunSpec(experiment=self.name, runner=self.runner, params=params, group=group,
                       seed=seed, metrics=self.metrics, train=train, evaluation=evaluation,
                       requires=self.requires)


def _seed_list(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"ExperimentSpec.expand: seeds must be >= 1; got {seeds}")
        return list(range(seeds))
    return [int(s) for s in seeds]


def _merge(params: dict, layer: Mapping[str, Any]) -> None:
    """Merge ``layer`` into ``params`` in place; dotted keys set nested dict entries."""
    for key, value in layer.items():
        value = copy.deepcopy(value)
        if "." in key:
            head, rest = key.split(".", 1)
            sub = params.setdefault(head, {})
            if not isinstance(sub, dict):
                raise ValueError(f"experiment config: {head!r} is not a table; cannot set {key!r}")
            _merge(sub, {rest: value})
        elif isinstance(value, dict) and isinstance(params.get(key), dict):
            _merge(params[key], value)
        else:
            params[key] = value


def __getattr__(name: str):
    # the shipped-config helpers moved to vaecore.experiments.shipped
    if name in ("list_experiments", "load_experiment", "experiment_groups", "resolve_experiments",
                "parse_overrides"):
        from vaecore.experiments import shipped

        return getattr(shipped, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
