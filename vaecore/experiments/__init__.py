"""Experiments of the thesis as configs, a results store, sweeps and executors (SPEC §6).

>>> from vaecore.experiments import load_experiment, ResultsStore, sweep, make_executor
>>> spec = load_experiment("table-3.4")                               # doctest: +SKIP
>>> runs = spec.expand(scale="quick", seeds=3)                        # doctest: +SKIP
>>> sweep(runs, ResultsStore("runs/t34"), executor=make_executor("local", workers=2))  # doctest: +SKIP
"""

from vaecore.experiments.executors import (
    ProcessPoolExecutor,
    RayExecutor,
    SequentialExecutor,
    execute_one,
    make_executor,
    ray_available,
)
from vaecore.experiments.runfns import RUNNERS, resolve_runner, runner_keys
from vaecore.experiments.runner import SweepResult, artifacts_dir, sweep
from vaecore.experiments.spec import (
    ExperimentSpec,
    ReportSpec,
    RunSpec,
    experiment_groups,
    list_experiments,
    load_experiment,
    parse_overrides,
    resolve_experiments,
)
from vaecore.experiments.store import ResultsStore, RunRecord, run_id

__all__ = [
    "RUNNERS",
    "ExperimentSpec",
    "ProcessPoolExecutor",
    "RayExecutor",
    "ReportSpec",
    "ResultsStore",
    "RunRecord",
    "RunSpec",
    "SequentialExecutor",
    "SweepResult",
    "artifacts_dir",
    "execute_one",
    "experiment_groups",
    "list_experiments",
    "load_experiment",
    "make_executor",
    "parse_overrides",
    "ray_available",
    "resolve_experiments",
    "resolve_runner",
    "run_id",
    "runner_keys",
    "sweep",
]
