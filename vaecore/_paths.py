"""Paths that configs can name stay under the output folder.

Experiment names, table ids and run folder names come from config files a user may not have
written. Each becomes exactly one path component: :func:`check_component` refuses separators,
dots-only names, absolute paths, NUL and control characters; :func:`resolve_under` joins a
relative path to a root and refuses anything that resolves outside it (``..``, absolute paths,
symlinks pointing out).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = ["check_component", "resolve_under"]

_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f/\\:]")


def check_component(name: object, *, what: str) -> str:
    """Return ``name`` if it is safe as one path component, else raise ``ValueError``.

    Parameters
    ----------
    name : the candidate (an experiment name, a table id, ...).
    what : how the error names it, e.g. ``"[experiment] name"``.
    """
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a string; got {type(name).__name__}")
    if not name or name.strip(".") == "" or _BAD_CHARS.search(name) or name != name.strip():
        raise ValueError(
            f"{what} must be one path component (no '/', '\\\\', ':', control characters, leading or "
            f"trailing spaces, and not '.' or '..'); got {name!r}"
        )
    return name


def resolve_under(root: str | os.PathLike[str], relative: str | os.PathLike[str], *, what: str) -> Path:
    """``root / relative``, resolved, refusing any result outside ``root``.

    Raises ``ValueError`` naming ``what`` when ``relative`` is absolute or escapes ``root``
    (through ``..`` or a symlink).
    """
    rel = Path(relative)
    if rel.is_absolute():
        raise ValueError(f"{what} must be a path relative to {str(root)!r}; got the absolute path {str(rel)!r}")
    base = Path(root).resolve()
    target = (base / rel).resolve()
    if target != base and base not in target.parents:
        raise ValueError(f"{what} must stay inside {str(base)!r}; got {str(relative)!r}, which resolves to {str(target)!r}")
    return target
