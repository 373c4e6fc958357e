from __future__ import annotations

import json

import pytest

from vaecore.cli import main
from vaecore.experiments import ResultsStore


def test_sweep_report_select_end_to_end(tmp_path, tiny_config, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(tiny_config), "--quick", "--out", str(out)]) == 0
    with ResultsStore(out) as store:
        assert store.counts()["done"] == 4
    capsys.readouterr()
    # rerun: nothing to do
    assert main(["sweep", str(tiny_config), "--quick", "--out", str(out)]) == 0
    assert "4 already done, 0 done now" in capsys.readouterr().err
    assert main(["report", str(out), "--no-figures"]) == 0
    text = capsys.readouterr().out
    assert "### Tiny fake experiment" in text
    assert "| toy | DtO ↓ | 0.05 ± 0.07 | 0.55 ± 0.07 |" in text
    assert (out / "report" / "report.md").is_file() and (out / "report" / "tiny.csv").is_file()
    assert main(["select", str(out), "--json"]) == 0
    sel = json.loads(capsys.readouterr().out)
    assert {s["group"]["variant"] for s in sel} == {"a", "b"}
    assert all(s["selected_seed"] == 0 for s in sel)  # lowest DtO = seed 0 by construction


def test_sweep_thesis_scale_seeds_and_set(tmp_path, tiny_config, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(tiny_config), "--seeds", "1", "--set", "fail=0", "--out", str(out)]) == 3
    err = capsys.readouterr().err
    assert "FAILED" in err and "2 failed" in err
    assert main(["report", str(out), "--failed", "--no-figures"]) == 0
    assert "ValueError: fake failure for seed 0" in capsys.readouterr().out


def test_cli_errors(tmp_path, tiny_config, capsys):
    assert main(["sweep", "table-9", "--out", str(tmp_path)]) == 1
    assert "unknown experiment 'table-9'" in capsys.readouterr().err
    assert main(["sweep", str(tiny_config), "--set", "x", "--out", str(tmp_path)]) == 1
    assert "expected key=value" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nothing")]) == 1
    assert "no results store" in capsys.readouterr().err
    assert main(["sweep", str(tiny_config), "--workers", "0", "--out", str(tmp_path)]) == 1
    assert "workers must be a positive integer" in capsys.readouterr().err


def test_reproduce_runs_and_reports(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "t2"
    code = main(["reproduce", "theorem-2", "--quick", "--seeds", "1", "--workers", "1",
                 "--set", "steps=300", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "Theorem 2" in text and "dist(decoder, PCA)" in text


def test_tune_beta_logic():
    import numpy as np

    from vaecore.experiments.tune import tune_beta

    # E sigma^2 of the weakest latent rises with beta; collapses (>= 0.9) at beta = 0.16
    res = tune_beta(lambda b: np.array([min(1.0, b * 6), 0.01]), start=0.01, factor=2)
    assert res.value == pytest.approx(0.16)
    assert [s.active_units for s in res.steps] == [2, 2, 2, 2, 1]
    assert tune_beta(lambda b: np.array([0.1]), start=1, max_iter=3).value is None
    with pytest.raises(ValueError, match="factor > 1"):
        tune_beta(lambda b: np.array([0.1]), factor=1.0)
