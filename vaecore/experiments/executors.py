"""Executors: where the runs of a sweep execute (SPEC §6).

Every executor takes task dicts (plain JSON-able data: id, runner name, params,
seed, metrics, artifacts path), calls ``on_start(task)`` before a task is handed to
a worker — a ``False`` answer (the run is claimed by another driver) skips the task,
which then yields nothing — and yields one result dict per task as it completes. Workers never
touch the results store: the driver (:func:`vaecore.experiments.runner.sweep`)
alone writes it. At most ``workers`` tasks are in flight, so a killed sweep
loses at most that many runs.

* :class:`SequentialExecutor` — in this process, one run after the other.
* :class:`ProcessPoolExecutor` — ``workers`` spawned processes, each with
  ``torch`` limited to ``threads`` threads (tiny models are overhead-bound, so
  two single-threaded workers beat one two-threaded one on 2 cores); the workers
  exit when the driver dies (:mod:`.worker_process`).
* :class:`RayExecutor` — Ray tasks (optional extra ``ray``). Without an address it
  starts a local Ray instance bound to 127.0.0.1; with one it joins that cluster.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
import threading
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from vaecore.experiments.runfns import resolve_runner  # noqa: F401
from vaecore.experiments.worker_process import init_worker

Task = dict[str, Any]
OnStart = Callable[[Task], "bool | None"]

EXECUTORS: tuple[str, ...] = ("local", "ray")
BACKENDS = EXECUTORS  # deprecated name (sweeps' "backend" is now their "executor")


def execute_one(task: Task) -> dict:
    """Run one task in the current process; never raises for a failing run.

    Returns
    -------
    dict
        ``{"id", "status": "done", "metrics", "artifacts"}`` or
        ``{"id", "status": "failed", "error": <traceback>, "artifacts"}``.
    """
    try:
        from vaecore.experiments.runfns import get_run_function
        from vaecore.experiments.runspec import RunSpec  # tasks ship a RunSpec as JSON

        spec = RunSpec.from_json(task["spec"])
        entry = get_run_function(spec.runner, plugin=task.get("plugin"))
        metrics = entry.fn(spec, out=task.get("artifacts"))
        if not isinstance(metrics, dict):
            raise TypeError(
                f"run function {spec.runner!r} must return a dict of metrics; "
                f"got {type(metrics).__name__}"
            )
        json.dumps(metrics, allow_nan=False)  # JSON-able and finite, or a clear failure
        return {"id": task["id"], "status": "done", "metrics": metrics,
                "artifacts": task.get("artifacts")}
    except Exception:  # noqa: BLE001 - a failing run is recorded, the sweep goes on
        return {"id": task["id"], "status": "failed", "error": traceback.format_exc(),
                "artifacts": task.get("artifacts")}


def _failed(task: Task, error: str) -> dict:
    return {"id": task["id"], "status": "failed", "error": error, "artifacts": task.get("artifacts")}


class SequentialExecutor:
    """Run tasks one by one in this process."""

    workers = 1

    def run(self, tasks: Iterable[Task], on_start: OnStart) -> Iterator[dict]:
        for task in tasks:
            if on_start(task) is not False:
                yield execute_one(task)

    def close(self) -> None:
        """Nothing to release."""


class ProcessPoolExecutor:
    """Run tasks in ``workers`` spawned processes (``threads`` torch threads each)."""

    def __init__(self, workers: int = 2, *, threads: int = 1) -> None:
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"ProcessPoolExecutor: workers must be a positive integer; got {workers!r}")
        self.workers = workers
        self.threads = threads
        self._pool: cf.ProcessPoolExecutor | None = None
        self._pool_thread = 0

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        self._pool_thread = threading.get_ident()
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(self.threads, os.getpid(),
                      threading.current_thread() is threading.main_thread()),
        )

    def run(self, tasks: Iterable[Task], on_start: OnStart) -> Iterator[dict]:
        queue = list(tasks)
        queue.reverse()
        if self._pool is not None and self._pool_thread != threading.get_ident():
            self.close()  # its workers die with the thread that spawned them (PR_SET_PDEATHSIG)
        self._pool = self._pool or self._new_pool()
        running: dict[cf.Future, Task] = {}
        try:
            while queue or running:
                while queue and len(running) < self.workers:
                    task = queue.pop()
                    if on_start(task) is not False:
                        running[self._pool.submit(execute_one, task)] = task
                if not running:
                    break
                finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                broken = False
                for fut in finished:
                    task = running.pop(fut)
                    try:
                        yield fut.result()
                    except cf.process.BrokenProcessPool:
                        broken = True
                        yield _failed(task, "worker process died (killed or crashed):\n"
                                      + traceback.format_exc())
                if broken:  # every other in-flight task died with the pool
                    for fut, task in list(running.items()):
                        yield _failed(task, "worker pool broke while this run was in flight")
                    running.clear()
                    self._pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._new_pool()
        finally:
            for fut in running:
                fut.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def ray_available() -> bool:
    """Whether the optional ``ray`` extra is importable."""
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def _localhost_only() -> None:
    """Make a local Ray bind to the loopback address.

    Ray on Linux resolves "127.0.0.1" to the machine's outward address unless its
    cluster mode is off (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, the mode Ray uses on
    laptops). The variable is read when ``ray`` is imported, so it is set in the
    environment (for Ray's own subprocesses) and on the loaded constant module.
    """
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    import sys

    constants = sys.modules.get("ray._private.ray_constants")
    if constants is not None:
        constants.ENABLE_RAY_CLUSTER = False


class RayExecutor:
    """Run tasks as Ray tasks; results return to the driver, which alone writes the store.

    Parameters
    ----------
    address : str, optional
        A Ray cluster to join (``"auto"`` or ``"ray://host:10001"`` ...). Without it a
        local instance is started, bound to 127.0.0.1, with ``workers`` CPUs.
    workers : int, optional
        Tasks in flight at once (default: the cluster's CPU count).
    threads : int
        Torch threads per task (each task reserves that many CPUs).
    """

    def __init__(self, address: str | None = None, *, workers: int | None = None,
                 threads: int = 1) -> None:
        if address is None:
            _localhost_only()
        try:
            import ray
        except ImportError:
            raise RuntimeError(
                "RayExecutor: the Ray executor needs the optional extra: pip install 'vaecore[ray]'"
            ) from None
        self._ray = ray
        self._owns = False
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if not ray.is_initialized():
            if address is None:
                ray.init(
                    num_cpus=None if workers is None else workers * threads,
                    include_dashboard=False,
                    _node_ip_address="127.0.0.1",
                    log_to_driver=False,
                    configure_logging=False,
                )
            else:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            self._owns = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.threads = threads
        self.workers = workers or max(1, cpus // threads)
        self._remote = ray.remote(num_cpus=threads, max_retries=0)(_ray_task)

    def run(self, tasks: Iterable[Task], on_start: OnStart) -> Iterator[dict]:
        ray = self._ray
        queue = list(tasks)
        queue.reverse()
        running: dict[Any, Task] = {}
        try:
            while queue or running:
                while queue and len(running) < self.workers:
                    task = queue.pop()
                    if on_start(task) is not False:
                        running[self._remote.remote(task, self.threads)] = task
                if not running:
                    break
                ready, _ = ray.wait(list(running), num_returns=1)
                for ref in ready:
                    task = running.pop(ref)
                    try:
                        yield ray.get(ref)
                    except Exception:  # noqa: BLE001 - worker death, lost node ...
                        yield _failed(task, "Ray task failed:\n" + traceback.format_exc())
        finally:
            for ref in running:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns = False


def _ray_task(task: Task, threads: int) -> dict:
    init_worker(threads)
    return execute_one(task)


def make_executor(executor: str = "local", *, workers: int | None = 1,
                  address: str | None = None, threads: int = 1, backend: str | None = None):
    """An executor by name: ``local`` (sequential when ``workers == 1``) or ``ray``.

    ``workers=None`` means 1 locally and the cluster's CPUs / ``threads`` on Ray.
    ``backend=`` is the deprecated name of ``executor`` (it warns).
    """
    if backend is not None:
        warnings.warn("make_executor: backend= is deprecated; use executor=", DeprecationWarning,
                      stacklevel=2)
        executor = backend
    if executor not in EXECUTORS:
        raise ValueError(f"make_executor: executor must be one of {', '.join(EXECUTORS)}; "
                         f"got {executor!r}")
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"make_executor: threads must be a positive integer; got {threads!r}")
    if workers is None and executor == "local":
        workers = 1
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"make_executor: workers must be a positive integer; got {workers!r}")
    if executor == "ray":
        return RayExecutor(address, workers=workers, threads=threads)
    if address is not None:
        raise ValueError("make_executor: address is only meaningful with executor='ray'")
    return SequentialExecutor() if workers == 1 else ProcessPoolExecutor(workers, threads=threads)
