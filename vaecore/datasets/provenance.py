"""Where a run's data came from, and with which software (issue 16.6).

:func:`dataset_provenance` describes a dataset as JSON-able data:

- ``{"kind": "procedural", "name", "class", "renderer": "vaecore <version>"}`` for datasets vaecore
  renders itself (dSprites, Shapes3D, the synthetic sets): the renderer is part of the package, so
  its version is vaecore's;
- ``{"kind": "file", "name", "class", "path", "sha256", "bytes"}`` for a dataset read from a user's
  file (dSprites ``.npz``, Shapes3D ``.h5``); a folder (MNIST, image folders) gets
  ``{"kind": "folder", ..., "files", "bytes", "sha256"}`` with the sha256 over every file's relative
  path and content, in sorted order;
- ``{"kind": "derived", "name", "class", "base": <provenance of the base>, ...}`` for datasets built
  on another one (sub-grids, noisy and perturbed variants; the perturbed one adds its manipulator's
  sha256);
- ``{"kind": "in-memory", "class"}`` for arrays handed to ``train(dataset=...)``.

Hashes are cached per (path, size, mtime) within a process, so a sweep hashes a file once.
:func:`software_versions` gives the versions of vaecore, torch, numpy and Python.
"""

from __future__ import annotations

import hashlib
import os
import platform
from typing import Any

__all__ = ["dataset_provenance", "software_versions"]

_CACHE: dict[tuple, tuple[str, int, int]] = {}
_CHUNK = 1 << 20


def _file_sha256(path: str) -> tuple[str, int]:
    st = os.stat(path)
    key = ("file", os.path.abspath(path), st.st_size, st.st_mtime_ns)
    if key not in _CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(_CHUNK), b""):
                h.update(block)
        _CACHE[key] = (h.hexdigest(), st.st_size, 1)
    digest, size, _ = _CACHE[key]
    return digest, size


def _folder_sha256(path: str) -> tuple[str, int, int]:
    files = sorted(
        os.path.relpath(os.path.join(root, name), path)
        for root, _dirs, names in os.walk(path) for name in names
    )
    stats = tuple((f, os.stat(os.path.join(path, f)).st_size, os.stat(os.path.join(path, f)).st_mtime_ns) for f in files)
    key = ("folder", os.path.abspath(path), stats)
    if key not in _CACHE:
        h = hashlib.sha256()
        total = 0
        for rel in files:
            digest, size = _file_sha256(os.path.join(path, rel))
            h.update(rel.encode("utf-8") + b"\0" + digest.encode("ascii") + b"\n")
            total += size
        _CACHE[key] = (h.hexdigest(), total, len(files))
    return _CACHE[key]


def software_versions() -> dict[str, str]:
    """Versions of vaecore, torch, numpy and Python."""
    import numpy
    import torch

    import vaecore

    return {"vaecore": vaecore.__version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "python": platform.python_version()}


def dataset_provenance(dataset: Any) -> dict[str, Any]:
    """Where ``dataset``'s data come from (see the module docstring)."""
    from vaecore import __version__

    out: dict[str, Any] = {"name": getattr(dataset, "name", None) or None, "class": type(dataset).__name__}
    base = getattr(dataset, "base", None)
    if base is not None and base is not dataset and hasattr(base, "observation_shape"):
        out.update(kind="derived", base=dataset_provenance(base))
        for attr in ("fixed", "eps", "boundary"):
            value = getattr(dataset, attr, None)
            if isinstance(value, (int, float, str, dict)):
                out[attr] = value
        manipulator = getattr(getattr(dataset, "record", None), "sha256", None)
        if isinstance(manipulator, str):
            out["manipulator_sha256"] = manipulator
        return out
    path = getattr(dataset, "path", None)
    if isinstance(path, (str, os.PathLike)) and os.path.isfile(path):
        digest, size = _file_sha256(os.fspath(path))
        out.update(kind="file", path=os.path.abspath(path), sha256=digest, bytes=size)
    elif isinstance(path, (str, os.PathLike)) and os.path.isdir(path):
        digest, size, n = _folder_sha256(os.fspath(path))
        out.update(kind="folder", path=os.path.abspath(path), sha256=digest, bytes=size, files=n)
    elif type(dataset).__module__.startswith("vaecore.datasets") and getattr(dataset, "name", ""):
        out.update(kind="procedural", renderer=f"vaecore {__version__}")
    else:
        out.update(kind="in-memory")
    return out
