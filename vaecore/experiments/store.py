"""SQLite results store for experiment sweeps (SPEC §6, §7 "results are never lost").

Table ``runs`` holds one row per (experiment, config, seed); the row id is a deterministic hash
of those three (:func:`run_id`), so expanding the same config twice yields the same ids and a
rerun finds the rows it already has. Table ``experiments`` holds one JSON record per experiment
(title, report layout, metrics, thesis values) so a report needs the store alone. Schema
versions, migrations and the refusal of damaged or foreign files: :mod:`.store_schema`.

Durability and concurrency
--------------------------
* WAL mode, ``synchronous=NORMAL``: a committed write is on disk, readers never block the
  writer, and a process killed mid-transaction leaves the previous state.
* Every state change is one ``BEGIN IMMEDIATE … COMMIT`` transaction, written by sweep drivers
  alone (workers return results; they never open the store).
* A driver *claims* a run before it starts it (:meth:`ResultsStore.claim`): one transaction
  turns ``pending``/``failed`` into ``running`` under the driver's owner token, so two drivers
  on one store execute each run once. A ``running`` row whose owner process is dead (a killed
  sweep) is claimed again by the next sweep.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vaecore.experiments.claims import owner_alive, owner_token
from vaecore.experiments.store_schema import SCHEMA_VERSION, StoreError, legacy_records, open_store

__all__ = ["DB_NAME", "SCHEMA_VERSION", "STATUSES", "ResultsStore", "RunRecord", "StoreError",
           "canonical_json", "is_store", "run_id"]

STATUSES: tuple[str, ...] = ("pending", "running", "done", "failed")
DB_NAME = "results.sqlite"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: the form hashed into run ids."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def run_id(experiment: str, config: Mapping[str, Any], seed: int) -> str:
    """Deterministic id of one run: the first 16 hex digits of the sha256 of ``experiment``,
    ``config`` (JSON-able; key order does not matter) and ``seed``."""
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
    """Transactional SQLite store of sweep runs and experiment records.

    Parameters
    ----------
    path : str or Path
        A database file, or a directory (the file ``results.sqlite`` inside it).
    readonly : bool, optional
        Open for reading only (reports of a store on a read-only disk or someone else's);
        default: read-only when the file exists and it or its folder is not writable.
        Writes then raise :class:`StoreError`; an older schema is read without migrating.

    Raises
    ------
    StoreError
        (a ``ValueError``) for a damaged, truncated, foreign or newer-schema file, naming it.

    Examples
    --------
    >>> store = ResultsStore(tmp_path)                         # doctest: +SKIP
    >>> store.add("demo", {"model": "vae"}, seed=0)            # doctest: +SKIP
    """

    def __init__(self, path: str | Path, *, readonly: bool | None = None) -> None:
        path = Path(path)
        is_file = path.suffix in (".sqlite", ".db", ".sqlite3") and not path.is_dir()
        db = path if is_file else path / DB_NAME
        if readonly is None:
            readonly = db.is_file() and not (os.access(db, os.W_OK) and os.access(db.parent, os.W_OK))
        if not readonly:
            db.parent.mkdir(parents=True, exist_ok=True)
        self.path = db
        self.readonly = bool(readonly)
        self.owner = owner_token()
        self._conn, self.version, tables = open_store(db, readonly=self.readonly, now=_now())
        self._has_experiments = "experiments" in tables or self.version >= 1

    # -- plumbing -----------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        if self.readonly:
            raise StoreError(f"results store {str(self.path)!r} is open read-only; open it "
                             "writable (a folder you may write) to change it")
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
        """``pending``/``failed``/``running`` → ``running`` under this process (no claim check)."""
        with self._transaction() as cur:
            cur.execute(
                "UPDATE runs SET status='running', owner=?, started_at=?, finished_at=NULL, "
                "attempts=attempts+1 WHERE id=?",
                (self.owner, _now(), rid),
            )
            self._check_one(cur, rid)

    _TAKE = ("UPDATE runs SET status='running', owner=?, started_at=?, finished_at=NULL, "
             "attempts=attempts+1 WHERE id=? AND ")

    def claim(self, rid: str, owner: str | None = None) -> bool:
        """Atomically take run ``rid`` for ``owner`` (default: this process) before starting it.

        ``pending``/``failed`` → ``running``; a ``running`` row whose owner process is dead
        (or unknown, or ``owner`` itself) is taken over too. Returns ``False`` — start nothing —
        when the run is ``done`` or running under another live driver. One transaction, so of
        two drivers claiming one run exactly one gets ``True``.
        """
        owner = owner or self.owner
        with self._transaction() as cur:
            cur.execute(self._TAKE + "status IN ('pending', 'failed')", (owner, _now(), rid))
            if cur.rowcount == 1:
                return True
            row = cur.execute("SELECT status, owner FROM runs WHERE id=?", (rid,)).fetchone()
            if row is None:
                raise KeyError(f"ResultsStore: no run with id {rid!r}")
            status, holder = row
            if status != "running" or (holder not in (None, owner) and owner_alive(holder)):
                return False
            cur.execute(self._TAKE + "status='running' AND owner IS ?", (owner, _now(), rid, holder))
            return cur.rowcount == 1

    def reclaim_stale(self) -> list[str]:
        """Set ``running`` rows whose owner process is dead back to ``pending``; their ids."""
        rows = self._conn.execute("SELECT id, owner FROM runs WHERE status='running'").fetchall()
        stale = [(rid, holder) for rid, holder in rows if holder is None or not owner_alive(holder)]
        with self._transaction() as cur:
            done = [rid for rid, holder in stale if cur.execute(
                "UPDATE runs SET status='pending', owner=NULL WHERE id=? AND status='running' "
                "AND owner IS ?", (rid, holder)).rowcount == 1]
        return done

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
        where = [(c, v) for c, v in (("experiment", experiment), ("status", status)) if v is not None]
        query = f"SELECT {self._COLUMNS} FROM runs"
        if where:
            query += " WHERE " + " AND ".join(f"{c}=?" for c, _ in where)
        rows = self._conn.execute(query + " ORDER BY rowid", [v for _, v in where]).fetchall()
        return [self._record(r) for r in rows]

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

    # -- experiment records (the report's layouts) ----------------------------------
    def put_experiment(self, name: str, record: dict) -> None:
        """Store (replace) the JSON-able record of experiment ``name``: title, report layout,
        metrics, thesis values."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"ResultsStore.put_experiment: name must be a non-empty str; got {name!r}")
        if not isinstance(record, Mapping):
            raise TypeError("ResultsStore.put_experiment: record must be a dict; "
                            f"got {type(record).__name__}")
        payload = canonical_json(dict(record))
        with self._transaction() as cur:
            cur.execute("INSERT INTO experiments (name, record, updated_at) VALUES (?, ?, ?) "
                        "ON CONFLICT(name) DO UPDATE SET record=excluded.record, "
                        "updated_at=excluded.updated_at", (name, payload, _now()))

    def experiment_records(self) -> dict[str, dict]:
        """Every experiment's record by name, in order of first insertion (a read-only store of
        schema 0 gives the records of its ``experiments.json`` side file)."""
        if not self._has_experiments:
            return legacy_records(self.path)
        rows = self._conn.execute("SELECT name, record FROM experiments ORDER BY rowid").fetchall()
        return {name: json.loads(record) for name, record in rows}


def is_store(path: str | Path) -> bool:
    """Whether ``path`` is (or is a directory holding) a results store."""
    path = Path(path)
    return (path / DB_NAME).is_file() if path.is_dir() else path.is_file()
