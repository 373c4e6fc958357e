"""Opening a results store: file checks, schema version and migrations (SPEC §6).

Schema versions, kept in ``PRAGMA user_version``:

* 0 — the unversioned store of vaecore 0.1: table ``runs`` only; the report layouts sat in a
  side file ``experiments.json`` next to it.
* 1 — ``runs.owner`` (the driver holding a ``running`` run, :mod:`.claims`), table
  ``experiments`` (name → JSON record: title, report layout, metrics, thesis values) and
  ``PRAGMA application_id`` = :data:`APPLICATION_ID`.

:func:`open_store` refuses, with a :class:`StoreError` naming the file and what to do, a file
that is not SQLite, a damaged or truncated database, another program's database, and a store
of a newer schema. A writable store of an older schema is migrated in one transaction (so two
drivers opening it at once migrate it once); a read-only one is read as it is.
"""

from __future__ import annotations

import json
import sqlite3
import warnings
from pathlib import Path

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "StoreError", "open_store"]

SCHEMA_VERSION = 1
APPLICATION_ID = 0x76616563  # "vaec"
LEGACY_EXPERIMENTS_FILE = "experiments.json"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_RUNS_V0_COLUMNS = frozenset(
    "id experiment config seed status metrics artifacts error attempts created_at started_at "
    "finished_at".split()
)

_RUNS_DDL = """
CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    experiment  TEXT NOT NULL,
    config      TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    metrics     TEXT,
    artifacts   TEXT,
    error       TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT,
    owner       TEXT
)"""
_INDEX_DDL = "CREATE INDEX IF NOT EXISTS runs_experiment ON runs (experiment, status)"
_EXPERIMENTS_DDL = """
CREATE TABLE IF NOT EXISTS experiments (
    name        TEXT PRIMARY KEY,
    record      TEXT NOT NULL,
    updated_at  TEXT NOT NULL
)"""


class StoreError(ValueError):
    """A file that cannot serve as a results store; the message names it and what to do."""


def _refuse(path: Path, what: str, todo: str) -> StoreError:
    return StoreError(f"results store {str(path)!r} {what}; {todo}")


_MOVE_AWAY = "move it away (or choose another output folder) and run the sweep again"


def _sniff(path: Path) -> bool:
    """Whether ``path`` holds data (``False``: missing or empty); refuses non-SQLite files."""
    if not path.exists():
        return False
    if path.is_dir():
        raise _refuse(path, "is a folder, not a file", _MOVE_AWAY)
    with path.open("rb") as fh:
        head = fh.read(len(_SQLITE_MAGIC))
    if not head:
        return False
    if head != _SQLITE_MAGIC:
        raise _refuse(path, "is not an SQLite database (damaged, or another program's file)",
                      _MOVE_AWAY)
    return True


def _inspect(conn: sqlite3.Connection, path: Path) -> tuple[int, set[str]]:
    """(user_version, table names) of a database that passes the checks of :func:`open_store`."""
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        app = int(conn.execute("PRAGMA application_id").fetchone()[0])
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        columns = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise _refuse(path, f"stayed locked by another process ({exc})",
                          "wait for the other sweep to finish and retry") from None
        raise _refuse(path, f"cannot be read ({exc})", _MOVE_AWAY) from None
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, f"is damaged or truncated ({exc})", _MOVE_AWAY) from None
    if check != "ok":
        raise _refuse(path, f"is damaged (integrity check: {check})", _MOVE_AWAY)
    if app not in (0, APPLICATION_ID) or (tables and not _RUNS_V0_COLUMNS <= columns):
        raise _refuse(path, "is another program's SQLite database, not a vaecore results store",
                      _MOVE_AWAY)
    if version > SCHEMA_VERSION:
        raise _refuse(path, f"has schema version {version}, newer than this vaecore's "
                      f"{SCHEMA_VERSION}", "upgrade vaecore to read it")
    return version, tables


def legacy_records(path: Path) -> dict[str, dict]:
    """The ``experiments.json`` records next to a version-0 store ({} when absent/unreadable)."""
    side = path.parent / LEGACY_EXPERIMENTS_FILE
    if not side.is_file():
        return {}
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        warnings.warn(f"results store {str(path)!r}: ignoring unreadable {side}: {exc}",
                      stacklevel=3)
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def _migrate(cur: sqlite3.Cursor, path: Path, version: int, tables: set[str], now: str) -> None:
    """Bring the schema from ``version`` to :data:`SCHEMA_VERSION` (inside a transaction)."""
    if "runs" not in tables:  # a new store
        cur.execute(_RUNS_DDL)
    elif version < 1:  # 0 → 1
        cur.execute("ALTER TABLE runs ADD COLUMN owner TEXT")
    cur.execute(_INDEX_DDL)
    cur.execute(_EXPERIMENTS_DDL)
    if version < 1 and "runs" in tables:
        cur.executemany(
            "INSERT OR IGNORE INTO experiments (name, record, updated_at) VALUES (?, ?, ?)",
            [(k, json.dumps(v, sort_keys=True), now) for k, v in legacy_records(path).items()],
        )
    cur.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    cur.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _connect_readonly(path: Path) -> sqlite3.Connection:
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=30.0)
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.OperationalError:
        # a WAL database in a folder we cannot write (no -shm can be made): read the file as is
        conn.close()
        conn = sqlite3.connect(f"{uri}?immutable=1", uri=True, isolation_level=None)
    return conn


def open_store(path: Path, *, readonly: bool, now: str) -> tuple[sqlite3.Connection, int, set[str]]:
    """Open (creating or migrating unless ``readonly``) the store file ``path``.

    Returns the connection (autocommit; WAL unless read-only), the schema version it now has
    and its table names.
    """
    has_data = _sniff(path)
    if readonly:
        if not has_data:
            raise _refuse(path, "does not exist or is empty", "run a sweep into that folder first")
        conn = _connect_readonly(path)
        try:
            version, tables = _inspect(conn, path)
        except BaseException:
            conn.close()
            raise
        return conn, version, tables
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30.0)
    except sqlite3.Error as exc:
        raise _refuse(path, f"cannot be opened ({exc})", "check the folder and its permissions") from None
    try:
        version, tables = _inspect(conn, path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if version < SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            try:
                version, tables = _inspect(conn, path)  # another driver may have migrated it
                if version < SCHEMA_VERSION:
                    _migrate(conn.cursor(), path, version, tables, now)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            version, tables = _inspect(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn, version, tables
