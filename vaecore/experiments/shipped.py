"""The experiment configs shipped in ``vaecore/experiments/configs``, and ``--set`` overrides."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from vaecore.experiments.spec import ExperimentSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["experiment_groups", "list_experiments", "load_experiment", "parse_overrides",
           "resolve_experiments"]


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
