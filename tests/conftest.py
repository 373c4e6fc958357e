"""Shared test setup.

The tests import the *installed* vaecore (pytest runs in importlib mode), and
they require its compiled core: a missing build is an error here, not a silent
fallback to the reference twins. Set VAECORE_TEST_REFERENCE_ONLY=1 to run the
reference paths alone on a machine without a compiler.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import vaecore

settings.register_profile(
    "vaecore",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.load_profile("vaecore")

REFERENCE_ONLY = os.environ.get("VAECORE_TEST_REFERENCE_ONLY") == "1"


def pytest_configure(config: pytest.Config) -> None:
    if not REFERENCE_ONLY and not vaecore.has_native():
        raise pytest.UsageError(
            "vaecore._core is not built: "
            + str(vaecore.build_info().get("error"))
            + ". Install the package (pip install '.[test]') before running the tests."
        )


@pytest.fixture
def torch_one_thread():
    """Run a test with one torch thread: tiny models only pay thread hand-off costs otherwise
    (about 10x on a busy 2-core machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _needs_native(item: pytest.Item) -> bool:
    """Marked ``native``, or parametrized with ``backend="native"``."""
    callspec = getattr(item, "callspec", None)
    return "native" in item.keywords or (callspec is not None and callspec.params.get("backend") == "native")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_cuda = pytest.mark.skip(reason="needs a CUDA GPU and vaecore._cuda")
    skip_native = pytest.mark.skip(reason="needs the compiled core (VAECORE_TEST_REFERENCE_ONLY=1)")
    for item in items:
        if "cuda" in item.keywords and not vaecore.has_cuda():
            item.add_marker(skip_cuda)
        if REFERENCE_ONLY and _needs_native(item):
            item.add_marker(skip_native)
