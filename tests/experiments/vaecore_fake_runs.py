"""Fast, deterministic fake run functions for the experiments tests (no training).

Registered by the tests' ``fakes`` fixture (``register_run_function``); worker processes import
them by the reference the driver ships, so this folder is put on sys.path / PYTHONPATH.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def run(spec, *, out=None):
    """dto = 0.1·seed + x, ds = 1 − dto; optional log / fail / sleep / kill behaviours."""
    params, seed = spec.params, spec.seed
    if params.get("log"):
        with open(params["log"], "a") as fh:
            fh.write(f"{params.get('x', 0)} {seed}\n")
    if params.get("sleep"):
        time.sleep(float(params["sleep"]))
    if os.environ.get("FAKE_KILL_SEED") == str(seed) and params.get("x", 0) == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    if params.get("fail") == seed:
        raise ValueError(f"fake failure for seed {seed}")
    dto = 0.1 * seed + float(params.get("x", 0.0))
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "done.txt").write_text("ok")
    result = {"dto": dto, "ds": 1.0 - dto, "pid": os.getpid()}
    if "fraction_polarized" in params:
        result["fraction_polarized"] = params["fraction_polarized"]
    if spec.inputs:  # a later stage: read what the required stage's runs wrote
        result["inputs"] = len(spec.inputs)
        result["input_sum"] = sum(float(Path(i.artifacts, "value.txt").read_text()) for i in spec.inputs)
    if out is not None:
        (Path(out) / "value.txt").write_text(repr(dto))
    return result


def not_a_dict(spec, *, out=None):
    return [1, 2]
