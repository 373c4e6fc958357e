"""Store schema: versions, the migration of stores written by vaecore 0.1, refusal of damaged and
foreign files, read-only opening, the experiments table."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from vaecore.experiments.store import SCHEMA_VERSION, ResultsStore, StoreError
from vaecore.experiments.store_schema import APPLICATION_ID

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "store-v0"
STALE_ID = "ba69f9decdbfe7dd"  # left 'running' in the fixture by a "killed" sweep


@pytest.fixture
def v0(tmp_path):
    """A copy of the fixture store (schema 0) and its experiments.json."""
    out = tmp_path / "v0"
    shutil.copytree(FIXTURE, out)
    return out


def _pragma(path: Path, name: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def test_fixture_is_schema_0():
    assert _pragma(FIXTURE / "results.sqlite", "user_version") == 0


def test_v0_store_migrates_and_loads(v0):
    with ResultsStore(v0) as store:
        assert store.version == SCHEMA_VERSION == 1
        assert store.counts() == {"pending": 0, "running": 1, "done": 3, "failed": 1}
        done = {r.seed: r.metrics["dto"] for r in store.runs(status="done") if
                r.config["group"]["variant"] == "a"}
        assert done == {0: 0.0, 1: pytest.approx(0.1)}
        assert "fake failure for seed 1" in store.runs(status="failed")[0].error
        records = store.experiment_records()  # imported from the side file
        assert records == json.loads((FIXTURE / "experiments.json").read_text())
        assert store.claim(STALE_ID)  # the killed sweep's run: no owner, taken over
    path = v0 / "results.sqlite"
    assert _pragma(path, "user_version") == 1 and _pragma(path, "application_id") == APPLICATION_ID
    with ResultsStore(v0) as store:  # opening again: nothing more to migrate
        assert store.version == 1 and store.get(STALE_ID).attempts == 2


def test_v0_store_reports(v0, capsys):
    from vaecore.cli import main

    assert main(["report", str(v0), "--no-figures", "--out", str(v0 / "rep")]) == 0
    text = capsys.readouterr().out
    assert "### Tiny fake experiment" in text
    assert "| toy | DtO ↓ | 0.05 ± 0.07 |" in text
    assert "running 1, done 3, failed 1" in text


def test_readonly_reads_without_migrating(v0):
    with ResultsStore(v0, readonly=True) as store:
        assert store.readonly and store.version == 0
        assert store.counts()["done"] == 3
        assert "tiny" in store.experiment_records()  # from the side file
        with pytest.raises(StoreError, match="read-only"):
            store.add("x", {}, 0)
        with pytest.raises(StoreError, match="read-only"):
            store.put_experiment("x", {})
    assert _pragma(v0 / "results.sqlite", "user_version") == 0
    with pytest.raises(StoreError, match="does not exist"):
        ResultsStore(v0 / "missing", readonly=True)


def test_unwritable_store_opens_readonly_automatically(v0, monkeypatch):
    import vaecore.experiments.store as store_mod

    monkeypatch.setattr(store_mod.os, "access", lambda path, mode: False)
    with ResultsStore(v0) as store:
        assert store.readonly and store.counts()["failed"] == 1


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix" or not shutil.which("setpriv"), reason="needs setpriv")
def test_store_in_readonly_folder_is_read_and_reported_by_another_user():
    """As a user who may not write the folder (root ignores permissions, so use setpriv)."""
    top = Path(tempfile.mkdtemp())
    try:
        shutil.copytree(FIXTURE, top / "s")
        with ResultsStore(top / "s") as store:  # migrate, so WAL mode is on
            store.put_experiment("extra", {"title": "x"})
        for p in (top / "s").iterdir():
            p.chmod(0o444)
        (top / "s").chmod(0o555)
        top.chmod(0o755)
        (top / "rep").mkdir(mode=0o777)
        (top / "rep").chmod(0o777)
        code = ("from vaecore.experiments.store import ResultsStore as S\n"
                f"s = S({str(top / 's')!r})\n"
                "print(s.readonly, s.counts()['done'], sorted(s.experiment_records()))\n"
                "from vaecore.cli import main\n"
                f"raise SystemExit(main(['report', {str(top / 's')!r}, '--no-figures', "
                f"'--out', {str(top / 'rep')!r}]))\n")
        root = str(Path(__file__).resolve().parents[2])
        cmd = [sys.executable, "-c", code]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/",
                              env={**os.environ, "PYTHONPATH": root, "HOME": "/"})
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.split("\n")[0] == "True 3 ['extra', 'tiny']"
        assert "### Tiny fake experiment" in proc.stdout  # reported from the read-only store
    finally:
        for p in [top, *top.rglob("*")]:
            p.chmod(0o755)
        shutil.rmtree(top)


@pytest.mark.parametrize("content, what", [
    (b"hello, this is not a database at all" * 100, "not an SQLite database"),
    (b"SQLite format 3\x00" + b"\xff" * 200, "damaged or truncated"),
])
def test_garbage_files_are_refused(tmp_path, content, what):
    path = tmp_path / "results.sqlite"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=what) as info:
        ResultsStore(tmp_path)
    assert str(path) in str(info.value) and "move it away" in str(info.value)
    assert path.read_bytes() == content  # left untouched


def test_truncated_store_is_refused(tmp_path):
    with ResultsStore(tmp_path / "big") as store:  # a store of several pages
        store.add_many([("e", {"i": i, "pad": "x" * 400}, 0) for i in range(200)])
    data = (tmp_path / "big" / "results.sqlite").read_bytes()
    assert len(data) > 8 * 4096
    (tmp_path / "results.sqlite").write_bytes(data[: len(data) // 2])
    with pytest.raises(StoreError, match="damaged") as info:
        ResultsStore(tmp_path)
    assert str(tmp_path / "results.sqlite") in str(info.value)


def test_foreign_and_newer_databases_are_refused(tmp_path):
    foreign = tmp_path / "foreign" / "results.sqlite"
    foreign.parent.mkdir()
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="another program's SQLite database"):
        ResultsStore(foreign.parent)
    assert _pragma(foreign, "user_version") == 0  # untouched
    newer = tmp_path / "newer"
    with ResultsStore(newer):
        pass
    conn = sqlite3.connect(newer / "results.sqlite")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="schema version 99, newer .* upgrade vaecore"):
        ResultsStore(newer)
    (tmp_path / "dir" / "results.sqlite").mkdir(parents=True)
    with pytest.raises(StoreError, match="is a folder"):
        ResultsStore(tmp_path / "dir")


def test_empty_file_becomes_a_new_store(tmp_path):
    (tmp_path / "results.sqlite").write_bytes(b"")
    with ResultsStore(tmp_path) as store:
        assert store.version == SCHEMA_VERSION and store.counts()["pending"] == 0


def test_experiment_records_roundtrip(tmp_path):
    rec = {"title": "T", "report": {"table": "t", "rows": "dataset"}, "metrics": ["dto"],
           "thesis": {"vae": {"dto": 0.12}}}
    with ResultsStore(tmp_path) as store:
        assert store.experiment_records() == {}
        store.put_experiment("b", rec)
        store.put_experiment("a", {"title": "A"})
        store.put_experiment("b", {**rec, "title": "T2"})  # replaced, keeps its place
        assert list(store.experiment_records()) == ["b", "a"]
        assert store.experiment_records()["b"] == {**rec, "title": "T2"}
        with pytest.raises(ValueError):
            store.put_experiment("c", {"v": float("nan")})
        with pytest.raises(ValueError, match="name must be a non-empty str"):
            store.put_experiment("", {})
        with pytest.raises(TypeError, match="record must be a dict"):
            store.put_experiment("c", [1])
    with ResultsStore(tmp_path, readonly=True) as store:
        assert store.experiment_records()["a"] == {"title": "A"}
