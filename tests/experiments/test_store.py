from __future__ import annotations

import sqlite3

import pytest

from vaecore.experiments.store import ResultsStore, run_id


def test_run_id_is_deterministic_and_order_free():
    a = run_id("e", {"x": 1, "y": [1, 2]}, 3)
    assert a == run_id("e", {"y": [1, 2], "x": 1}, 3)
    assert len(a) == 16
    assert a != run_id("e", {"x": 1, "y": [1, 2]}, 4)
    assert a != run_id("f", {"x": 1, "y": [1, 2]}, 3)


def test_lifecycle_and_wal(tmp_path):
    with ResultsStore(tmp_path) as store:
        rid = store.add("exp", {"model": "vae"}, 0)
        assert store.add("exp", {"model": "vae"}, 0) == rid  # idempotent
        assert store.counts() == {"pending": 1, "running": 0, "done": 0, "failed": 0}
        store.mark_running(rid)
        rec = store.get(rid)
        assert rec.status == "running" and rec.attempts == 1 and rec.started_at
        store.mark_done(rid, {"dto": 0.5}, "/a")
        rec = store.get(rid)
        assert rec.status == "done" and rec.metrics == {"dto": 0.5} and rec.artifacts == "/a"
        assert rec.finished_at >= rec.started_at
        mode = store._conn.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"
    # persisted: a fresh connection sees it
    with ResultsStore(tmp_path / "results.sqlite") as store:
        assert store.get(rid).metrics == {"dto": 0.5}
        assert store.experiments() == ["exp"]


def test_failed_then_redone(tmp_path):
    with ResultsStore(tmp_path) as store:
        rid = store.add("exp", {}, 1)
        store.mark_running(rid)
        store.mark_failed(rid, "Traceback ...\nValueError: boom")
        assert store.get(rid).error.endswith("boom")
        store.mark_running(rid)
        store.mark_done(rid, {"v": 1.0})
        rec = store.get(rid)
        assert rec.status == "done" and rec.error is None and rec.attempts == 2


def test_write_is_atomic_on_error(tmp_path):
    with ResultsStore(tmp_path) as store:
        rid = store.add("exp", {}, 0)
        with pytest.raises(ValueError):  # NaN is not valid JSON: nothing is written
            store.mark_done(rid, {"dto": float("nan")})
        assert store.get(rid).status == "pending"
        with pytest.raises(KeyError):
            store.mark_done("nope", {"dto": 1.0})
        # a transaction that fails half-way leaves no trace
        with pytest.raises(sqlite3.IntegrityError):
            with store._transaction() as cur:
                cur.execute("UPDATE runs SET status='done' WHERE id=?", (rid,))
                cur.execute("UPDATE runs SET status='bogus' WHERE id=?", (rid,))
        assert store.get(rid).status == "pending"


def test_filters_and_bad_status(tmp_path):
    with ResultsStore(tmp_path) as store:
        ids = store.add_many([("a", {"i": i}, 0) for i in range(3)] + [("b", {}, 0)])
        store.mark_running(ids[0])
        store.mark_done(ids[0], {})
        assert [r.id for r in store.runs(experiment="a", status="pending")] == ids[1:3]
        assert store.counts(experiment="b")["pending"] == 1
        with pytest.raises(ValueError, match="status must be one of"):
            store.runs(status="finished")
