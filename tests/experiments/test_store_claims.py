"""Claims: a run starts once however many drivers sweep one store; dead drivers' runs return."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from vaecore.experiments import load_experiment, sweep
from vaecore.experiments.claims import owner_alive, owner_token, process_start
from vaecore.experiments.store import ResultsStore

HERE = Path(__file__).resolve().parent

FAULTY_TOML = """
[experiment]
name = "faulty"
title = "Fault test"
runner = "store_fake"
metrics = ["dto"]

[report]
table = "faulty"
rows = "dataset"
columns = "variant"

[defaults]
dataset = "toy"
log = "{log}"

[[variants]]
variant = "a"
x = 0.0

[[variants]]
variant = "b"
x = 10.0

[scales.quick]
seeds = 2

[scales.thesis]
seeds = 3
"""


@pytest.fixture
def faulty(tmp_path, monkeypatch):
    """(config path, log path) of a 2-variant experiment run by the "store_fake" plugin."""
    monkeypatch.syspath_prepend(str(HERE))
    parts = [str(HERE)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(parts))
    monkeypatch.setenv("VAECORE_PLUGINS", "vaecore_store_fakes")
    import vaecore_store_fakes  # noqa: F401  (registers "store_fake" in this process)

    log = tmp_path / "log.txt"
    path = tmp_path / "faulty.toml"
    path.write_text(FAULTY_TOML.format(log=log))
    return path, log


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_owner_tokens():
    me = owner_token()
    assert me.startswith(f"{os.getpid()}@{socket.gethostname()}@") and owner_alive(me)
    assert owner_alive(owner_token(os.getppid()))
    assert not owner_alive(f"{_dead_pid()}@{socket.gethostname()}@1")
    if process_start(os.getpid()) is not None:  # Linux: a reused pid is not the old owner
        assert not owner_alive(f"{os.getpid()}@{socket.gethostname()}@1")
    assert owner_alive("1@some-other-host@5")  # cannot be checked from here: left alone
    assert not owner_alive("garbage")


def test_claim_transitions(tmp_path):
    other = owner_token(os.getppid())  # a live driver that is not us
    with ResultsStore(tmp_path) as store:
        a, b, c = store.add_many([("e", {"i": i}, 0) for i in range(3)])
        assert store.claim(a, other) is True
        rec = store.get(a)
        assert rec.status == "running" and rec.attempts == 1
        assert store.claim(a) is False  # running under a live owner
        assert store.claim(a, other) is True  # the owner itself may take it again
        store.mark_done(a, {"v": 1.0})
        assert store.claim(a) is False  # done stays done
        store.mark_running(b)
        store.mark_failed(b, "boom")
        assert store.claim(b) is True and store.get(b).attempts == 2  # failed runs are redone
        assert store.claim(c, f"{_dead_pid()}@{socket.gethostname()}@1") is True
        assert store.claim(c) is True  # its owner is dead: taken over
        assert store.get(c).attempts == 2
        with pytest.raises(KeyError, match="no run with id"):
            store.claim("nope")


def test_reclaim_stale(tmp_path):
    with ResultsStore(tmp_path) as store:
        a, b, c = store.add_many([("e", {"i": i}, 0) for i in range(3)])
        store.claim(a, f"{_dead_pid()}@{socket.gethostname()}@1")
        store.claim(b, owner_token(os.getppid()))
        store._conn.execute("UPDATE runs SET status='running', owner=NULL WHERE id=?", (c,))
        assert sorted(store.reclaim_stale()) == sorted([a, c])
        assert [store.get(r).status for r in (a, b, c)] == ["pending", "running", "pending"]


def test_concurrent_claims_take_each_run_once(tmp_path):
    with ResultsStore(tmp_path) as store:
        ids = store.add_many([("e", {"i": i}, 0) for i in range(40)])
    won: dict[str, list[str]] = {"A": [], "B": [], "C": []}

    def driver(name: str) -> None:
        owner = f"1@host-{name}@0"  # distinct; other hosts' owners count as alive
        with ResultsStore(tmp_path) as mine:
            won[name] += [rid for rid in ids if mine.claim(rid, owner)]

    threads = [threading.Thread(target=driver, args=(n,)) for n in won]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    taken = won["A"] + won["B"] + won["C"]
    assert sorted(taken) == sorted(ids)  # every run claimed, none twice


def test_sweep_skips_runs_held_by_live_driver_and_redoes_dead_ones(tmp_path, faulty):
    config, log = faulty
    runs = load_experiment(config).expand(scale="quick")
    lines: list[str] = []
    with ResultsStore(tmp_path / "out") as store:
        store.add_many((r.experiment, r.config, r.seed) for r in runs)
        store.claim(runs[0].id, owner_token(os.getppid()))  # a live other sweep holds run 0
        store.claim(runs[1].id, f"{_dead_pid()}@{socket.gethostname()}@1")  # a killed one
        result = sweep(runs, store, log=lines.append)
        assert result.done == len(runs) - 1 and result.failed == 0
        assert store.get(runs[0].id).status == "running"
        assert store.get(runs[1].id).status == "done" and store.get(runs[1].id).attempts == 2
    assert any("running in another sweep, skipping" in line for line in lines)
    assert len(log.read_text().splitlines()) == len(runs) - 1


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rfind(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] not in ("Z", "X")


def _cli(args: list[str], err: Path, **env: str) -> subprocess.Popen:
    """``python -m vaecore ARGS`` in the background, its stderr into the file ``err``."""
    root = str(HERE.parents[1])
    environ = {**os.environ, "OMP_NUM_THREADS": "1", **env,
               "PYTHONPATH": os.pathsep.join([str(HERE), root, os.environ.get("PYTHONPATH", "")])}
    with err.open("w") as fh:
        return subprocess.Popen([sys.executable, "-m", "vaecore", *args], env=environ,
                                stdout=subprocess.DEVNULL, stderr=fh)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_kill_9_of_pool_driver_leaves_no_worker_and_rerun_reclaims(tmp_path, faulty, monkeypatch):
    import signal
    import time

    config, log = faulty
    out = tmp_path / "out"
    err = tmp_path / "driver.err"
    driver = _cli(["sweep", str(config), "--quick", "--workers", "2", "--out", str(out)], err,
                  STORE_FAKE_SLEEP="60")
    deadline = time.monotonic() + 120
    while not (log.is_file() and len(log.read_text().splitlines()) >= 2):
        assert driver.poll() is None and time.monotonic() < deadline, err.read_text()
        time.sleep(0.2)
    family = _descendants(driver.pid)
    assert len(family) >= 2  # both workers (and multiprocessing's helper) are its children
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    killed = time.monotonic()
    while any(_alive(p) for p in family) and time.monotonic() - killed < 5:
        time.sleep(0.1)
    assert not [p for p in family if _alive(p)], "workers outlived their driver by 5 s"
    # the next sweep reclaims the two runs the dead driver left 'running'
    monkeypatch.setenv("STORE_FAKE_SLEEP", "0")
    runs = load_experiment(config).expand(scale="quick")
    with ResultsStore(out) as store:
        assert store.counts()["running"] == 2
        result = sweep(runs, store, log=lambda line: None)
        assert result.done == len(runs) and store.counts()["done"] == len(runs)
        assert sorted(store.get(r.id).attempts for r in runs) == [1, 1, 2, 2]


@pytest.mark.slow
def test_two_drivers_on_one_out_execute_each_run_once(tmp_path, faulty):
    config, log = faulty
    out = tmp_path / "out"
    args = ["sweep", str(config), "--out", str(out)]  # thesis scale: 3 seeds x 2 variants
    errs = [tmp_path / f"driver{i}.err" for i in range(2)]
    drivers = [_cli(args, err, STORE_FAKE_SLEEP="1") for err in errs]
    for d, err in zip(drivers, errs):
        assert d.wait(timeout=300) == 0, err.read_text()
    entries = [line.split() for line in log.read_text().splitlines()]
    assert sorted((x, s) for x, s, _ in entries) == sorted(
        (x, str(s)) for x in ("0.0", "10.0") for s in range(3))  # each run exactly once
    with ResultsStore(out) as store:
        assert store.counts()["done"] == 6
        assert all(r.attempts == 1 for r in store.runs())
