"""Experiment configs: TOML files shipped in ``vaecore/experiments/configs`` (SPEC §6).

A config describes one experiment of the thesis (a table or a figure) at two
scales, ``thesis`` (the thesis's settings, for a GPU or a cluster) and
``quick`` (2 CPU cores, minutes). Expanding it yields one :class:`RunSpec`
per (grid point × variant × seed). Layout::

    [experiment]                 # name, title, description, runner, metrics, groups
    [report]                     # table, rows, columns, figure (how reports lay it out)
    [defaults]                   # run parameters shared by every run
    [grid]                       # optional: key = [values…], cartesian product
    [[variants]]                 # one table per column of the thesis table; key "variant" names it
    [scales.quick]               # seeds, and defaults / variants.<name> / grid overriding the above
    [scales.thesis]

Run parameters are the keys of :class:`vaecore.TrainConfig` for the ``train``
runner (plus ``scale``), or the runner's own keys. A dotted key such as
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
from importlib import resources
from pathlib import Path
from typing import Any

from vaecore.experiments.store import run_id

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

SCALES: tuple[str, ...] = ("quick", "thesis")

_TOP_KEYS = ("experiment", "report", "defaults", "grid", "variants", "scales")
_EXPERIMENT_KEYS = ("name", "title", "description", "runner", "metrics", "groups")
_REPORT_KEYS = ("table", "rows", "columns", "figure", "x")
_SCALE_KEYS = ("seeds", "defaults", "variants", "grid")
_FIGURES = ("scatter", "line", "ratio", "eigenfaces", "none")


def _bad_key(where: str, key: str, valid: Sequence[str]) -> ValueError:
    return ValueError(
        f"{where}: unknown key {key!r}; valid keys are: {', '.join(sorted(valid))}"
    )


def _check_keys(where: str, table: Mapping[str, Any], valid: Sequence[str]) -> None:
    for key in table:
        if key not in valid:
            raise _bad_key(where, key, valid)


def _check_table(where: str, value: Any) -> dict:
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a table; got {type(value).__name__}")
    return dict(value)


@dataclass(frozen=True)
class RunSpec:
    """One run of an experiment: what a worker needs to train and evaluate it.

    Attributes
    ----------
    experiment : str
        Experiment name.
    runner : str
        Run-function name (see :mod:`vaecore.experiments.runfns`) or ``"module:function"``.
    params : dict
        Run parameters (``TrainConfig`` keys for the ``train`` runner).
    group : dict
        Labels reports group seeds by: ``variant`` and the grid keys.
    seed : int
    metrics : tuple of str
        Metrics to evaluate.
    """

    experiment: str
    runner: str
    params: dict
    group: dict
    seed: int
    metrics: tuple[str, ...] = ()

    @property
    def config(self) -> dict:
        """The JSON stored in the results store (hashed into :attr:`id` with the seed)."""
        return {
            "runner": self.runner,
            "params": self.params,
            "group": self.group,
            "metrics": list(self.metrics),
        }

    @property
    def id(self) -> str:
        return run_id(self.experiment, self.config, self.seed)

    @classmethod
    def from_record(cls, experiment: str, config: Mapping[str, Any], seed: int) -> RunSpec:
        return cls(
            experiment=experiment,
            runner=config["runner"],
            params=dict(config["params"]),
            group=dict(config["group"]),
            seed=int(seed),
            metrics=tuple(config.get("metrics", ())),
        )


@dataclass(frozen=True)
class ReportSpec:
    """How reports lay out an experiment: ``rows`` × metrics lines, ``columns`` cells."""

    table: str
    rows: str = "dataset"
    columns: str = "variant"
    figure: str = "none"
    x: str | None = None


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
    source: str | None = field(default=None, compare=False)

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> ExperimentSpec:
        """Validate a config mapping (as read from TOML) and build the spec.

        Raises
        ------
        ValueError
            Naming the first bad key and listing the valid ones.
        """
        where = f"experiment config {source}" if source else "experiment config"
        data = _check_table(where, data)
        _check_keys(where, data, _TOP_KEYS)
        exp = _check_table(f"{where} [experiment]", data.get("experiment", {}))
        _check_keys(f"{where} [experiment]", exp, _EXPERIMENT_KEYS)
        if "name" not in exp:
            raise ValueError(f"{where} [experiment]: missing required key 'name'")
        runner = str(exp.get("runner", "train"))
        from vaecore.experiments.runfns import runner_keys

        valid_params = runner_keys(runner)

        def check_params(w: str, table: Any) -> dict:
            table = _check_table(w, table)
            if valid_params is not None:
                for key in table:
                    head = key.split(".", 1)[0]
                    if head not in valid_params:
                        raise _bad_key(w, key, valid_params)
            return table

        rep = _check_table(f"{where} [report]", data.get("report", {}))
        _check_keys(f"{where} [report]", rep, _REPORT_KEYS)
        report = ReportSpec(
            table=str(rep.get("table", exp["name"])),
            rows=str(rep.get("rows", "dataset")),
            columns=str(rep.get("columns", "variant")),
            figure=str(rep.get("figure", "none")),
            x=rep.get("x"),
        )
        if report.figure not in _FIGURES:
            raise ValueError(
                f"{where} [report]: figure must be one of {', '.join(_FIGURES)}; got {report.figure!r}"
            )
        defaults = check_params(f"{where} [defaults]", data.get("defaults", {}))
        grid = cls._check_grid(f"{where} [grid]", data.get("grid", {}), check_params)
        raw_variants = data.get("variants", [{"variant": "default"}])
        if not isinstance(raw_variants, list) or not raw_variants:
            raise ValueError(f"{where}: [[variants]] must be a non-empty array of tables")
        variants = []
        for i, v in enumerate(raw_variants):
            w = f"{where} [[variants]] #{i + 1}"
            v = _check_table(w, v)
            if "variant" not in v:
                raise ValueError(f"{w}: missing required key 'variant' (the column label)")
            label = str(v.pop("variant"))
            variants.append({"variant": label, **check_params(w, v)})
        labels = [v["variant"] for v in variants]
        if len(set(labels)) != len(labels):
            raise ValueError(f"{where}: variant labels must be unique; got {labels}")
        scales = {}
        raw_scales = _check_table(f"{where} [scales]", data.get("scales", {}))
        _check_keys(f"{where} [scales]", raw_scales, SCALES)
        for sname in SCALES:
            w = f"{where} [scales.{sname}]"
            sc = _check_table(w, raw_scales.get(sname, {}))
            _check_keys(w, sc, _SCALE_KEYS)
            seeds = sc.get("seeds", 5 if sname == "thesis" else 3)
            if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
                raise ValueError(f"{w}: seeds must be a positive integer; got {seeds!r}")
            sv = _check_table(f"{w}.variants", sc.get("variants", {}))
            for label, table in sv.items():
                if label not in labels:
                    raise ValueError(
                        f"{w}.variants: unknown variant {label!r}; valid variants are: "
                        f"{', '.join(labels)}"
                    )
                sv[label] = check_params(f"{w}.variants.{label}", table)
            scales[sname] = {
                "seeds": seeds,
                "defaults": check_params(f"{w}.defaults", sc.get("defaults", {})),
                "variants": sv,
                "grid": (
                    cls._check_grid(f"{w}.grid", sc["grid"], check_params) if "grid" in sc else None
                ),
            }
        metrics = exp.get("metrics", ["dto", "ds"])
        if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
            raise ValueError(f"{where} [experiment]: metrics must be a list of names; got {metrics!r}")
        groups = exp.get("groups", [])
        return cls(
            name=str(exp["name"]),
            title=str(exp.get("title", exp["name"])),
            description=str(exp.get("description", "")),
            runner=runner,
            metrics=tuple(metrics),
            groups=tuple(str(g) for g in groups),
            report=report,
            defaults=defaults,
            grid=grid,
            variants=tuple(variants),
            scales=scales,
            source=source,
        )

    @staticmethod
    def _check_grid(where: str, grid: Any, check_params) -> dict:
        grid = check_params(where, grid)
        for key, values in grid.items():
            if not isinstance(values, list) or not values:
                raise ValueError(f"{where}: {key!r} must be a non-empty list of values; got {values!r}")
        return grid

    @classmethod
    def from_toml(cls, path: str | Path) -> ExperimentSpec:
        """Read and validate a TOML config file."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"experiment config: no such file {str(path)!r}")
        with path.open("rb") as fh:
            try:
                data = tomllib.load(fh)
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"experiment config {path}: invalid TOML: {exc}") from None
        return cls.from_dict(data, source=str(path))

    # -- expansion ---------------------------------------------------------------------
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
        if seeds is None:
            seed_list = list(range(sc["seeds"]))
        elif isinstance(seeds, int) and not isinstance(seeds, bool):
            if seeds < 1:
                raise ValueError(f"ExperimentSpec.expand: seeds must be >= 1; got {seeds}")
            seed_list = list(range(seeds))
        else:
            seed_list = [int(s) for s in seeds]
        overrides = dict(overrides or {})
        from vaecore.experiments.runfns import runner_keys

        valid = runner_keys(self.runner)
        if valid is not None:
            for key in overrides:
                if key.split(".", 1)[0] not in valid:
                    raise _bad_key(f"{self.name}: override", key, valid)
        grid = sc["grid"] if sc["grid"] is not None else self.grid
        keys = list(grid)
        points = [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]
        out: list[RunSpec] = []
        for seed in seed_list:
            for point in points:
                for variant in self.variants:
                    label = variant["variant"]
                    own = {k: v for k, v in variant.items() if k != "variant"}
                    own_scaled = sc["variants"].get(label, {})
                    pinned = set(own) | set(own_scaled)
                    params: dict = {"scale": scale} if self.runner == "train" else {}
                    for layer in (
                        self.defaults,
                        sc["defaults"],
                        own,
                        own_scaled,
                        point,
                        {k: v for k, v in overrides.items() if k not in pinned},
                    ):
                        _merge(params, layer)
                    group = {"variant": label}
                    group.update({k.rsplit(".", 1)[-1]: v for k, v in point.items()})
                    if params.get("dataset") is not None:
                        group.setdefault("dataset", params["dataset"])
                    out.append(
                        RunSpec(
                            experiment=self.name,
                            runner=self.runner,
                            params=params,
                            group=group,
                            seed=seed,
                            metrics=self.metrics,
                        )
                    )
        return out


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


def parse_overrides(items: Sequence[str]) -> dict:
    """Parse ``key=value`` strings (values as TOML literals, else strings)."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set: expected key=value; got {item!r}")
        key, raw = item.split("=", 1)
        key = key.strip()
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        out[key] = value
    return out


# -- the shipped configs -----------------------------------------------------------------
def _config_dir():
    return resources.files("vaecore.experiments") / "configs"


def list_experiments() -> list[str]:
    """Names of the experiment configs shipped with vaecore."""
    return sorted(
        p.name[: -len(".toml")] for p in _config_dir().iterdir() if p.name.endswith(".toml")
    )


def experiment_groups() -> dict[str, list[str]]:
    """Group name → experiment names (``[experiment] groups``), for ``vaecore reproduce``."""
    groups: dict[str, list[str]] = {}
    for name in list_experiments():
        for g in load_experiment(name).groups:
            groups.setdefault(g, []).append(name)
    return groups


def load_experiment(name_or_path: str | Path) -> ExperimentSpec:
    """Load a shipped experiment by name, or any config by path.

    Raises
    ------
    ValueError
        Unknown name (listing the shipped ones) or an invalid config.
    """
    text = str(name_or_path)
    if text.endswith(".toml") or Path(text).is_file():
        return ExperimentSpec.from_toml(text)
    resource = _config_dir() / f"{text}.toml"
    if not resource.is_file():
        raise ValueError(
            f"load_experiment: unknown experiment {text!r}; shipped experiments are: "
            f"{', '.join(list_experiments())} (or give a path to a .toml file)"
        )
    with resources.as_file(resource) as path:
        spec = ExperimentSpec.from_toml(path)
    return spec


def resolve_experiments(name: str) -> list[ExperimentSpec]:
    """A shipped experiment, a group of them (e.g. ``synthetic``) or a config path."""
    groups = experiment_groups()
    if name in groups:
        return [load_experiment(n) for n in groups[name]]
    try:
        return [load_experiment(name)]
    except ValueError as exc:
        raise ValueError(f"{exc}; groups are: {', '.join(sorted(groups))}") from None
