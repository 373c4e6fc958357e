"""The sweep driver: expand → store → execute → record (SPEC §6).

:func:`sweep` inserts every run as ``pending`` (existing rows untouched), skips
runs already ``done``, hands the rest to an executor and records each result
in its own transaction as it arrives: ``done`` with its metrics, or ``failed``
with its traceback while the others go on. Killing the sweep at any moment
loses at most the runs in flight; running the same command again redoes
exactly the runs that are not ``done``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from vaecore._paths import resolve_under
from vaecore.experiments.executors import SequentialExecutor
from vaecore.experiments.runspec import RunSpec
from vaecore.experiments.store import ResultsStore


@dataclass(frozen=True)
class SweepResult:
    """Counts of one sweep call."""

    total: int
    skipped: int
    done: int
    failed: int
    failed_ids: tuple[str, ...]
    blocked: tuple[str, ...] = ()

    @property
    def value(self) -> int:
        """Runs that failed in this call (0 = success)."""
        return self.failed

    def __add__(self, other: SweepResult) -> SweepResult:
        return SweepResult(self.total + other.total, self.skipped + other.skipped,
                           self.done + other.done, self.failed + other.failed,
                           self.failed_ids + other.failed_ids, self.blocked + other.blocked)

    def as_dict(self) -> dict:
        return asdict(self)


def artifacts_dir(out: str | Path, run: RunSpec) -> Path:
    """Where a run's artifacts (checkpoints, history) live: ``OUT/runs/<experiment>/<id>``,
    always inside ``OUT`` (the experiment name is one path component)."""
    rel = Path("runs") / run.experiment / run.id
    resolve_under(out, rel, what="run artifacts folder")  # refuses a path that leaves OUT
    return Path(out) / rel


def make_task(run: RunSpec, out: str | Path | None) -> dict:
    """The JSON-able task an executor ships: the RunSpec as JSON, where its artifacts go, and
    the import reference of a plugin run function registered in this process."""
    from vaecore.experiments.runfns import get_run_function

    return {
        "id": run.id,
        "spec": run.to_json(),
        "plugin": get_run_function(run.runner).plugin,
        "artifacts": None if out is None else str(artifacts_dir(out, run)),
    }


def sweep(
    runs: Sequence[RunSpec],
    store: ResultsStore,
    *,
    executor=None,
    out: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> SweepResult:
    """Execute the runs that are not ``done`` yet and record every outcome.

    Parameters
    ----------
    runs : sequence of RunSpec
        From :meth:`ExperimentSpec.expand`.
    store : ResultsStore
    executor : optional
        :func:`~vaecore.experiments.executors.make_executor` result; default sequential.
    out : path, optional
        Root of the run artifacts (``None``: runs keep none).
    log : callable, optional
        Receives one line per event (default: stderr).

    Returns
    -------
    SweepResult
    """
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    executor = executor or SequentialExecutor()
    store.add_many((r.experiment, r.config, r.seed) for r in runs)
    by_id = {r.id: r for r in runs}
    todo = [r for r in by_id.values() if store.get(r.id).status != "done"]
    skipped = len(by_id) - len(todo)
    if skipped:
        log(f"sweep: {skipped} of {len(by_id)} runs already done, skipping them")
    tasks = [make_task(r, out) for r in todo]

    def on_start(task: dict) -> bool:  # claim first: another driver may hold the run
        if store.claim(task["id"]):
            return True
        log(f"sweep: run {task['id']} is done or running in another sweep, skipping it")
        return False

    done = failed = 0
    failed_ids = []
    for i, result in enumerate(executor.run(tasks, on_start), start=1):
        run = by_id[result["id"]]
        label = f"{run.experiment} {run.group} seed={run.seed}"
        if result["status"] == "done":
            store.mark_done(result["id"], result["metrics"], result.get("artifacts"))
            done += 1
            shown = ", ".join(
                f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                for k, v in result["metrics"].items()
            )
            log(f"[{i}/{len(tasks)}] done   {label}: {shown}")
        else:
            store.mark_failed(result["id"], result["error"], result.get("artifacts"))
            failed += 1
            failed_ids.append(result["id"])
            last = result["error"].strip().splitlines()[-1] if result["error"].strip() else "?"
            log(f"[{i}/{len(tasks)}] FAILED {label}: {last}")
    return SweepResult(total=len(by_id), skipped=skipped, done=done, failed=failed,
                       failed_ids=tuple(failed_ids))
