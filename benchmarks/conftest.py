"""Benchmark setup: every benchmark times the native kernel and its reference twin
in the same run. ``VAECORE_BENCH_QUICK=1`` shrinks sizes so CI can check that the
benchmarks still run; the numbers in benchmarks/README.md come from full runs:
``pytest benchmarks --benchmark-enable``.
"""

import os

import pytest

QUICK = os.environ.get("VAECORE_BENCH_QUICK") == "1"


@pytest.fixture
def quick() -> bool:
    return QUICK
