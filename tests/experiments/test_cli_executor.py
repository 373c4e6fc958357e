"""Sweeps' ``--executor local|ray``; ``--backend`` remains as a deprecated alias that warns."""

from __future__ import annotations

import pytest

from vaecore.cli import main
from vaecore.experiments import ResultsStore
from vaecore.experiments import executors as ex


def test_executor_flag(tmp_path, tiny_config, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(tiny_config), "--quick", "--executor", "local", "--out", str(out)]) == 0
    assert "deprecated" not in capsys.readouterr().err
    with ResultsStore(out) as store:
        assert store.counts()["done"] == 4


def test_backend_alias_warns(tmp_path, tiny_config, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(tiny_config), "--quick", "--backend", "local", "--out", str(out)]) == 0
    assert "--backend is deprecated; use --executor" in capsys.readouterr().err
    assert main(["sweep", str(tiny_config), "--quick", "--backend", "local", "--executor", "ray",
                 "--out", str(out)]) == 1
    assert "disagree" in capsys.readouterr().err


def test_make_executor_names():
    assert ex.EXECUTORS == ("local", "ray") and ex.BACKENDS is ex.EXECUTORS
    assert isinstance(ex.make_executor("local"), ex.SequentialExecutor)
    assert isinstance(ex.make_executor(executor="local", workers=2), ex.ProcessPoolExecutor)
    with pytest.warns(DeprecationWarning, match="backend= is deprecated"):
        assert isinstance(ex.make_executor(backend="local"), ex.SequentialExecutor)
    with pytest.raises(ValueError, match="executor must be one of local, ray; got 'dask'"):
        ex.make_executor("dask")


def test_executors_skip_tasks_refused_at_start():
    tasks = [{"id": str(i), "runner": "x", "params": {}, "seed": i} for i in range(3)]
    seq = ex.SequentialExecutor()
    assert list(seq.run(tasks, lambda t: False)) == []
    pool = ex.ProcessPoolExecutor(2)
    try:  # every task refused: nothing submitted, the loop ends
        assert list(pool.run(tasks, lambda t: False)) == []
    finally:
        pool.close()
