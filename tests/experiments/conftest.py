from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture
def fakes(monkeypatch):
    """Make ``vaecore_fake_runs`` importable here and in spawned workers."""
    monkeypatch.syspath_prepend(str(HERE))
    import os

    parts = [str(HERE)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(parts))
    return "vaecore_fake_runs:run"


TINY_TOML = """
[experiment]
name = "tiny"
title = "Tiny fake experiment"
runner = "vaecore_fake_runs:run"
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
