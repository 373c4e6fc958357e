from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture
def fakes(monkeypatch):
    """Register the fake run functions as "fake" and "fake_not_a_dict" (importable here and in
    spawned workers); return the name of the first."""
    monkeypatch.syspath_prepend(str(HERE))
    import os

    from vaecore.experiments.runfns import RUN_FUNCTIONS, register_run_function

    parts = [str(HERE)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(parts))
    import vaecore_fake_runs

    register_run_function("fake", vaecore_fake_runs.run)
    register_run_function("fake_not_a_dict", vaecore_fake_runs.not_a_dict)
    yield "fake"
    RUN_FUNCTIONS.pop("fake", None)
    RUN_FUNCTIONS.pop("fake_not_a_dict", None)


TINY_TOML = """
[experiment]
name = "tiny"
title = "Tiny fake experiment"
runner = "fake"
metrics = ["dto", "ds"]

[report]
table = "tiny"
rows = "dataset"
columns = "variant"

[defaults]
dataset = "toy"

[[variants]]
variant = "a"
x = 0.0

[[variants]]
variant = "b"
x = 0.5

[scales.quick]
seeds = 2

[scales.thesis]
seeds = 3
"""


@pytest.fixture
def tiny_config(tmp_path, fakes):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_TOML)
    return path
