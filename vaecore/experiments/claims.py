"""Who holds a running run: owner tokens of sweep drivers and whether their process lives.

A driver claims a run in the results store under an owner token ``"<pid>@<host>@<start>"``
(:func:`owner_token`), where ``start`` is the process's start time in clock ticks since boot
(``/proc/<pid>/stat`` field 22 on Linux, ``"?"`` elsewhere). :func:`owner_alive` says whether
that process still runs: on the same host, ``pid`` exists, is not a zombie and (where known)
started at ``start`` — so a reused pid does not keep a dead driver's runs blocked. A token
from another host is taken as alive: its process cannot be checked from here.
"""

from __future__ import annotations

import os
import socket

__all__ = ["owner_alive", "owner_token", "process_start"]


def _proc_stat(pid: int) -> list[str] | None:
    """Fields 3.. of ``/proc/<pid>/stat`` (after the command name), or ``None``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            text = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def process_start(pid: int) -> str | None:
    """Start time of process ``pid`` (clock ticks since boot), or ``None`` when unknown."""
    fields = _proc_stat(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def owner_token(pid: int | None = None) -> str:
    """``"<pid>@<host>@<start>"`` of process ``pid`` (default: this one)."""
    pid = os.getpid() if pid is None else int(pid)
    return f"{pid}@{socket.gethostname()}@{process_start(pid) or '?'}"


def owner_alive(token: str) -> bool:
    """Whether the process named by an :func:`owner_token` string still runs.

    Unparseable tokens count as dead (the run is reclaimed); tokens of other hosts as alive.
    """
    pid_text, sep, rest = token.partition("@")
    host, _, start = rest.rpartition("@")
    if not sep or not pid_text.isdigit() or not host:
        return False
    if host != socket.gethostname():
        return True
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    fields = _proc_stat(pid)
    if fields is None:  # gone since the signal test, or no /proc (the signal test is all there is)
        return not os.path.exists("/proc/self/stat")
    if fields[0] in ("Z", "X"):
        return False
    return start in ("?", "") or len(fields) <= 19 or fields[19] == start
