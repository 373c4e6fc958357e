"""SQLite results store for experiment sweeps (SPEC §6, §7 "results are never lost").

One table, ``runs``; one row per (experiment, config, seed). The row id is a
deterministic hash of those three (:func:`run_id`), so expanding the same
config twice yields the same ids and a rerun finds the rows it already has.

Durability model
----------------
* The database is opened in WAL mode with ``synchronous=NORMAL``: a write that
  returned is on disk once the transaction commits, readers never block the
  writer, and a process killed mid-transaction leaves the previous state.
* Every state change is one ``BEGIN IMMEDIATE … COMMIT`` transaction, written
  by the sweep driver alone (workers return results; they never open the store).
* A sweep killed at any moment therefore loses at most the runs in flight:
  their rows stay ``running`` and the next sweep redoes them (anything not
  ``done`` is redone).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STATUSES: tuple[str, ...] = ("pending", "running", "done", "failed")
DB_NAME = "results.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
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
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS runs_experiment ON runs (experiment, status);
"""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: the form hashed into run ids."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def run_id(experiment: str, config: Mapping[str, Any], seed: int) -> str:
    """Deterministic id of one run: sha256 of ``experiment``, ``config`` and ``seed``.

    Parameters
    ----------
    experiment : str
        Experiment name.
    config : mapping
        JSON-able run configuration (key order does not matter).
    seed : int
        Seed of the run.

    Returns
    -------
    str
        16 hex digits.
    """
    text = canonical_json({"experiment": experiment, "config": dict(config), "seed": int(seed)})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunRecord:
    """One row of the ``runs`` table (JSON columns decoded)."""

    id: str
    experiment: str
    config: dict
    seed: int
    status: str
    metrics: dict | None
    artifacts: str | None
    error: str | None
    attempts: int
    created_at: str
    started_at: str | None
    finished_at: str | None

    def as_dict(self) -> dict:
        return asdict(self)


class ResultsStore:
    """Transactional SQLite store of sweep runs.

    Parameters
    ----------
    path : str or Path
        A database file, or a directory (the file ``results.sqlite`` inside it).

    Examples
    --------
    >>> store = ResultsStore(tmp_path)                         # doctest: +SKIP
    >>> store.add("demo", {"model": "vae"}, seed=0)            # doctest: +SKIP
    """

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if path.suffix not in (".sqlite", ".db", ".sqlite3"):
            path.mkdir(parents=True, exist_ok=True)
            path = path / DB_NAME
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = sqlite3.connect(str(path), isolation_level=None, timeout=30.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._transaction() as cur:
            for stmt in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                cur.execute(stmt)

    # -- plumbing -----------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        cur = self._conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        else:
            cur.execute("COMMIT")
        finally:
            cur.close()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _record(row: tuple) -> RunRecord:
        (id_, exp, cfg, seed, status, metrics, artifacts, error, attempts, c, s, f) = row
        return RunRecord(
            id=id_, experiment=exp, config=json.loads(cfg), seed=int(seed), status=status,
            metrics=None if metrics is None else json.loads(metrics), artifacts=artifacts,
            error=error, attempts=int(attempts), created_at=c, started_at=s, finished_at=f,
        )

    # -- writes (each one transaction) ---------------------------------------------
    def add(self, experiment: str, config: Mapping[str, Any], seed: int) -> str:
        """Insert a ``pending`` run unless its id exists; return the id."""
        return self.add_many([(experiment, config, seed)])[0]

    def add_many(self, runs: Iterable[tuple[str, Mapping[str, Any], int]]) -> list[str]:
        """Insert several runs in one transaction (existing ids are left untouched)."""
        rows = []
        for experiment, config, seed in runs:
            rid = run_id(experiment, config, seed)
            rows.append((rid, experiment, canonical_json(dict(config)), int(seed), "pending", _now()))
        with self._transaction() as cur:
            cur.executemany(
                "INSERT OR IGNORE INTO runs (id, experiment, config, seed, status, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        return [r[0] for r in rows]

    def mark_running(self, rid: str) -> None:
        """``pending``/``failed``/``running`` → ``running`` (increments ``attempts``)."""
        with self._transaction() as cur:
            cur.execute(
                "UPDATE runs SET status='running', started_at=?, finished_at=NULL, "
                "attempts=attempts+1 WHERE id=?",
                (_now(), rid),
            )
            self._check_one(cur, rid)

    def mark_done(self, rid: str, metrics: Mapping[str, Any], artifacts: str | None = None) -> None:
        """Record a finished run with its metrics (JSON) and artifacts path."""
        payload = canonical_json(dict(metrics))
        with self._transaction() as cur:
            cur.execute(
                "UPDATE runs SET status='done', metrics=?, artifacts=?, error=NULL, finished_at=? "
                "WHERE id=?",
                (payload, artifacts, _now(), rid),
            )
            self._check_one(cur, rid)

    def mark_failed(self, rid: str, error: str, artifacts: str | None = None) -> None:
        """Record a failed run with its error text (a traceback)."""
        with self._transaction() as cur:
            cur.execute(
                "UPDATE runs SET status='failed', error=?, artifacts=?, finished_at=? WHERE id=?",
                (error, artifacts, _now(), rid),
            )
            self._check_one(cur, rid)

    @staticmethod
    def _check_one(cur: sqlite3.Cursor, rid: str) -> None:
        if cur.rowcount != 1:
            raise KeyError(f"ResultsStore: no run with id {rid!r}")

    # -- reads ----------------------------------------------------------------------
    _COLUMNS = (
        "id, experiment, config, seed, status, metrics, artifacts, error, attempts, "
        "created_at, started_at, finished_at"
    )

    def get(self, rid: str) -> RunRecord:
        """The run with id ``rid`` (``KeyError`` if absent)."""
        row = self._conn.execute(f"SELECT {self._COLUMNS} FROM runs WHERE id=?", (rid,)).fetchone()
        if row is None:
            raise KeyError(f"ResultsStore: no run with id {rid!r}")
        return self._record(row)

    def runs(self, *, experiment: str | None = None, status: str | None = None) -> list[RunRecord]:
        """All runs, optionally filtered, in insertion order."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"ResultsStore.runs: status must be one of {STATUSES}; got {status!r}")
        query = f"SELECT {self._COLUMNS} FROM runs"
        clauses, args = [], []
        if experiment is not None:
            clauses.append("experiment=?")
            args.append(experiment)
        if status is not None:
            clauses.append("status=?")
            args.append(status)
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        query += " ORDER BY rowid"
        return [self._record(r) for r in self._conn.execute(query, args).fetchall()]

    def experiments(self) -> list[str]:
        """Experiment names present, in order of first insertion."""
        rows = self._conn.execute(
            "SELECT experiment FROM runs GROUP BY experiment ORDER BY MIN(rowid)"
        ).fetchall()
        return [r[0] for r in rows]

    def counts(self, *, experiment: str | None = None) -> dict[str, int]:
        """Number of runs per status."""
        out = dict.fromkeys(STATUSES, 0)
        query = "SELECT status, COUNT(*) FROM runs"
        args: tuple = ()
        if experiment is not None:
            query += " WHERE experiment=?"
            args = (experiment,)
        for status, n in self._conn.execute(query + " GROUP BY status", args).fetchall():
            out[status] = int(n)
        return out

    # -- experiment records (smallest form; h-pipeline, to be reconciled with h-store's) ----------
    def put_experiment(self, name: str, record: Mapping[str, Any]) -> None:
        """Store (or replace) the JSON-able report record of experiment ``name``."""
        with self._transaction() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS experiments (name TEXT PRIMARY KEY, record TEXT)")
            cur.execute("INSERT OR REPLACE INTO experiments (name, record) VALUES (?, ?)",
                        (name, canonical_json(dict(record))))

    def experiment_records(self) -> dict[str, dict]:
        """Experiment name → its stored record (empty for stores without any)."""
        if self._conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND "
                              "name='experiments'").fetchone() is None:
            return {}
        rows = self._conn.execute("SELECT name, record FROM experiments ORDER BY rowid").fetchall()
        return {name: json.loads(record) for name, record in rows}


def is_store(path: str | Path) -> bool:
    """Whether ``path`` is (or is a directory holding) a results store."""
    path = Path(path)
    return (path / DB_NAME).is_file() if path.is_dir() else path.is_file()
