"""Loads the compiled core ``vaecore._core`` once, and the optional ``vaecore._cuda``.

``import vaecore`` never fails because of the extension: when ``_core`` is
missing (a source checkout that was not built), :func:`native` raises a
``RuntimeError`` that says how to build it, and every function with a
``backend=`` argument still works with ``backend="reference"``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, Literal

Backend = Literal["auto", "native", "reference"]
BACKENDS: tuple[str, ...] = ("auto", "native", "reference")

_BUILD_HINT = (
    "the compiled module vaecore._core is not available ({error}). Build and install it with "
    "`pip install .` (or `pip install -e . --no-build-isolation` for development) from the "
    "vaecore source tree; a C++17 compiler and CMake are needed at build time only. "
    'Meanwhile backend="reference" runs the pure-Python twins.'
)

_core: ModuleType | None
_core_error: str | None
try:
    _core = importlib.import_module("vaecore._core")
    _core_error = None
except ImportError as exc:  # pragma: no cover - exercised only without a build
    _core = None
    _core_error = str(exc)

_cuda: ModuleType | None
try:
    _cuda = importlib.import_module("vaecore._cuda")
except ImportError:
    _cuda = None


def has_native() -> bool:
    """True when the compiled C++ core loaded."""
    return _core is not None


def native() -> ModuleType:
    """Return ``vaecore._core`` or raise a RuntimeError that says how to build it."""
    if _core is None:
        raise RuntimeError(_BUILD_HINT.format(error=_core_error))
    return _core


def has_cuda() -> bool:
    """True when the optional CUDA module was built *and* torch sees a CUDA device."""
    if _cuda is None:
        return False
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # pragma: no cover - torch import problems are not ours
        return False


def cuda_module() -> ModuleType:
    """Return ``vaecore._cuda`` or raise a RuntimeError explaining why it is missing."""
    if _cuda is None:
        raise RuntimeError(
            "vaecore._cuda is not available: it is built only when the CUDA toolkit (nvcc) is "
            "found at install time; reinstall vaecore on a machine with CUDA"
        )
    return _cuda


def build_info() -> dict[str, Any]:
    """Facts about the compiled core: version, compiler, kernel families, threads, CUDA."""
    info: dict[str, Any] = {"native": _core is not None, "cuda_module": _cuda is not None}
    if _core is None:
        info["error"] = _core_error
    else:
        info.update(dict(_core.BUILD_INFO))
        info["num_threads"] = _core.num_threads()
    return info


def set_num_threads(n: int) -> None:
    """Set how many threads the C++ kernels use (0 = all hardware threads)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"set_num_threads: n must be an int >= 0; got {n!r}")
    native().set_num_threads(n)


def resolve_backend(func: str, backend: str) -> str:
    """Map a user's ``backend`` to ``"native"`` or ``"reference"``.

    ``"auto"`` picks native when the extension loaded, else reference.
    """
    if backend not in BACKENDS:
        raise ValueError(f"{func}: backend must be one of {BACKENDS}; got {backend!r}")
    if backend == "reference":
        return "reference"
    if backend == "native":
        native()  # raises the build hint when missing
        return "native"
    return "native" if _core is not None else "reference"
