"""A tiny run function for the store fault tests (imported by name in worker processes).

``run`` appends ``"<x> <seed> <pid>"`` to ``params["log"]`` when it starts, sleeps
``$STORE_FAKE_SLEEP`` seconds (an environment variable, so a rerun has the same run ids),
and returns ``{"dto": x + seed}``.
"""

from __future__ import annotations

import os
import time


def run(params, *, seed, metrics=(), out=None):
    with open(params["log"], "a") as fh:
        fh.write(f"{params.get('x', 0)} {seed} {os.getpid()}\n")
    time.sleep(float(os.environ.get("STORE_FAKE_SLEEP", "0")))
    return {"dto": float(params.get("x", 0)) + seed}
