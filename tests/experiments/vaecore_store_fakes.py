"""A tiny run function for the store fault tests, registered as "store_fake" on import.

CLI drivers import it through ``VAECORE_PLUGINS=vaecore_store_fakes`` (the plugin opt-in).

``run`` appends ``"<x> <seed> <pid>"`` to ``params["log"]`` when it starts, sleeps
``$STORE_FAKE_SLEEP`` seconds (an environment variable, so a rerun has the same run ids),
and returns ``{"dto": x + seed}``.
"""

from __future__ import annotations

import os
import time

from vaecore.experiments import register_run_function


def run(spec, *, out=None):
    params, seed = spec.params, spec.seed
    with open(params["log"], "a") as fh:
        fh.write(f"{params.get('x', 0)} {seed} {os.getpid()}\n")
    time.sleep(float(os.environ.get("STORE_FAKE_SLEEP", "0")))
    return {"dto": float(params.get("x", 0)) + seed}


register_run_function("store_fake", run)  # imported via $VAECORE_PLUGINS by the CLI drivers
