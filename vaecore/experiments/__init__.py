"""Experiments of the thesis as configs, a results store, sweeps and executors (SPEC §6).

>>> from vaecore.experiments import load_experiment, ResultsStore, plan_stages, run_stages
>>> spec = load_experiment("table-3.4")                                     # doctest: +SKIP
>>> stages = plan_stages([spec], scale="quick", seeds=3)                    # doctest: +SKIP
>>> run_stages(stages, ResultsStore("runs/t34"), out="runs/t34")            # doctest: +SKIP
"""

from vaecore.experiments.executors import (
    ProcessPoolExecutor,
    RayExecutor,
    SequentialExecutor,
    execute_one,
    make_executor,
    ray_available,
)
from vaecore.experiments.record import ExperimentRecord
from vaecore.experiments.runfns import (
    RUN_FUNCTIONS,
    RunFunction,
    get_run_function,
    register_run_function,
    resolve_runner,
)
from vaecore.experiments.runner import SweepResult, artifacts_dir, make_task, sweep
from vaecore.experiments.runspec import RunSpec, StageInput
from vaecore.experiments.shipped import (
    experiment_groups,
    list_experiments,
    load_experiment,
    parse_overrides,
    resolve_experiments,
)
from vaecore.experiments.spec import ExperimentSpec, ReportSpec
from vaecore.experiments.stages import Stage, plan_stages, run_stages
from vaecore.experiments.store import ResultsStore, RunRecord, run_id

__all__ = [
    "RUN_FUNCTIONS",
    "ExperimentRecord",
    "ExperimentSpec",
    "ProcessPoolExecutor",
    "RayExecutor",
    "ReportSpec",
    "ResultsStore",
    "RunFunction",
    "RunRecord",
    "RunSpec",
    "SequentialExecutor",
    "Stage",
    "StageInput",
    "SweepResult",
    "artifacts_dir",
    "execute_one",
    "experiment_groups",
    "get_run_function",
    "list_experiments",
    "load_experiment",
    "make_executor",
    "make_task",
    "parse_overrides",
    "plan_stages",
    "ray_available",
    "register_run_function",
    "resolve_experiments",
    "resolve_runner",
    "run_id",
    "run_stages",
    "sweep",
]
