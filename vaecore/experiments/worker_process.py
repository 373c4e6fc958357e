"""Set-up of a sweep's worker processes: torch threads, and exit when the driver dies.

A worker of the process-pool executor must not outlive its driver: a killed sweep would
otherwise leave workers training and writing into run folders, alongside the rerun that
claims the same runs. :func:`init_worker` therefore

* on Linux asks the kernel to SIGKILL the worker when the process that spawned it exits
  (``prctl(PR_SET_PDEATHSIG)``; only when the pool was made by the driver's main thread,
  since the signal follows the spawning *thread*), and
* everywhere starts a daemon thread that exits the worker when its parent changes
  (``os.getppid()`` no longer the driver: it was re-parented after the driver died), polled
  every :data:`WATCH_INTERVAL` seconds.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

__all__ = ["WATCH_INTERVAL", "init_worker"]

WATCH_INTERVAL = 0.5
_PR_SET_PDEATHSIG = 1


def _set_pdeathsig() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl: the watchdog remains
        pass


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(WATCH_INTERVAL)


def init_worker(threads: int, parent: int | None = None, pdeathsig: bool = False) -> None:
    """Pool initializer: limit torch to ``threads`` threads; die with process ``parent``."""
    if parent is not None:
        if pdeathsig:
            _set_pdeathsig()
        if os.getppid() != parent:  # the driver died before we got here
            os._exit(1)
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                         name="vaecore-parent-watch").start()
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
