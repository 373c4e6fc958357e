"""Stages: experiments that need the finished runs of other experiments (SPEC §6, chapter 4).

An experiment config lists the experiments it needs in ``[experiment] requires``. The driver
(:func:`run_stages`) sweeps the stages in dependency order; each run of a stage receives the
finished runs of its required stages as :attr:`RunSpec.inputs` (their artifact folders, labels
and metrics). A stage with a failed run stops its dependents (the log names it); a rerun skips
the runs already done, so finished stages cost nothing.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaecore.experiments.record import ExperimentRecord
from vaecore.experiments.runner import SweepResult, sweep
from vaecore.experiments.runspec import RunSpec, StageInput
from vaecore.experiments.store import ResultsStore

__all__ = ["Stage", "plan_stages", "run_stages"]


@dataclass(frozen=True)
class Stage:
    """One experiment of a plan: its spec and its runs (not yet given their inputs)."""

    spec: Any  # ExperimentSpec
    runs: tuple[RunSpec, ...]

    @property
    def name(self) -> str:
        return self.spec.name


def _order(specs: Sequence[Any]) -> list[Any]:
    """``specs`` in dependency order (stable otherwise); a cycle raises ``ValueError``."""
    by_name = {s.name: s for s in specs}
    if len(by_name) != len(specs):
        raise ValueError(f"stages: experiment names must be unique; got {[s.name for s in specs]}")
    ordered: list[Any] = []
    state: dict[str, str] = {}

    def visit(spec: Any, path: tuple[str, ...]) -> None:
        if state.get(spec.name) == "done":
            return
        if state.get(spec.name) == "visiting":
            raise ValueError(f"stages: dependency cycle {' -> '.join(path + (spec.name,))}")
        state[spec.name] = "visiting"
        for req in spec.requires:
            if req in by_name:
                visit(by_name[req], path + (spec.name,))
        state[spec.name] = "done"
        ordered.append(spec)

    for spec in specs:
        visit(spec, ())
    return ordered


def plan_stages(specs: Sequence[Any], *, scale: str = "quick", seeds=None,
                overrides: Mapping[str, Any] | None = None) -> list[Stage]:
    """Expand every spec (validating all of them before anything runs), in dependency order."""
    return [Stage(spec, tuple(spec.expand(scale=scale, seeds=seeds, overrides=overrides)))
            for spec in _order(specs)]


def _inputs(store: ResultsStore, name: str, current: Mapping[str, Sequence[str]]) -> tuple[StageInput, ...]:
    """The done runs of stage ``name``: of its latest expansion when this plan or the store
    knows it, else all of its done runs in the store."""
    ids = current.get(name)
    if ids is None:
        stored = store.experiment_records().get(name) if hasattr(store, "experiment_records") else None
        ids = (stored or {}).get("runs") or None
    done = [r for r in store.runs(experiment=name, status="done") if ids is None or r.id in set(ids)]
    return tuple(StageInput(experiment=name, run_id=r.id, seed=r.seed, labels=dict(r.config.get("group", {})),
                            artifacts=r.artifacts, metrics=dict(r.metrics or {})) for r in done)


def run_stages(stages: Sequence[Stage], store: ResultsStore, *, executor=None,
               out: str | Path | None = None, log: Callable[[str], None] | None = None) -> SweepResult:
    """Record each stage's :class:`ExperimentRecord` and sweep the stages in order.

    A stage runs only when every stage it requires finished without failed runs (and, for a
    stage outside this plan, has done runs in the store); otherwise its runs are not started and
    the log names the stage that stopped it. Returns the sum of the stages' results, with the
    stopped stages' names in ``blocked``.
    """
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    current = {st.name: [r.id for r in st.runs] for st in stages}
    broken: dict[str, str] = {}
    total = SweepResult(0, 0, 0, 0, ())
    for st in stages:
        store.put_experiment(st.name, ExperimentRecord.from_spec(st.spec, st.runs).to_dict())
        reason, inputs = None, []
        for req in st.spec.requires:
            if req in broken:
                reason = f"required stage {req!r} {broken[req]}"
                break
            got = _inputs(store, req, current)
            if not got:
                reason = f"required stage {req!r} has no finished runs in {str(store.path)!r}"
                break
            inputs += got
        if reason is not None:
            broken[st.name] = f"was not run ({reason})"
            log(f"stage {st.name!r} not run: {reason}")
            total += SweepResult(len(st.runs), 0, 0, 0, (), (st.name,))
            continue
        runs = [dataclasses.replace(r, inputs=tuple(inputs)) if inputs else r for r in st.runs]
        result = sweep(runs, store, executor=executor, out=out, log=log)
        if result.failed:
            broken[st.name] = f"failed ({result.failed} failed runs)"
        total += result
    return total
