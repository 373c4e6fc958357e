"""The CLI turns expected failures into one line naming the file or argument (exit != 0);
``--debug`` shows the traceback. Damaged checkpoints name the file and never advise
``weights_only=False``."""

from __future__ import annotations

import collections
import io
import json
import pickle
import sqlite3
import warnings
from pathlib import Path

import pytest
import torch

from vaecore.cli import main
from vaecore.training import NonFiniteLossError, TrainConfig
from vaecore.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint

GOOD_STATE = {"format": 1, "step": 3, "config": {}, "observation_shape": [2], "likelihood": "gaussian",
              "model": {"w": torch.zeros(2)}}


class Foreign:  # a class torch's weights-only loader refuses
    pass


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _one_line_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for needle in needles:
        assert needle in err, err
    return err


def _good_bytes(tmp_path: Path) -> bytes:
    save_checkpoint(tmp_path / "good.pt", GOOD_STATE)
    return (tmp_path / "good.pt").read_bytes()


@pytest.mark.parametrize("kind", ["empty", "garbage", "text", "truncated", "plain-pickle",
                                  "foreign-class", "counter", "list", "no-config"])
def test_damaged_checkpoints_name_the_file(tmp_path, kind):
    good = _good_bytes(tmp_path)
    content = {
        "empty": b"",
        "garbage": b"\x00\x01garbage" * 10,
        "text": b"hello world\n",
        "truncated": good[: len(good) // 2],
        "plain-pickle": pickle.dumps({"a": 1}),
        "foreign-class": _saved({"model": Foreign()}),
        "counter": _saved({"a": collections.Counter()}),
        "list": _saved([1, 2]),
        "no-config": _saved({k: v for k, v in GOOD_STATE.items() if k != "config"}),
    }[kind]
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CheckpointError) as info:
            load_checkpoint(path)
    text = str(info.value)
    assert str(path) in text and "weights_only" not in text and "train the run again" in text
    if kind == "foreign-class":
        assert "Foreign" in text
    if kind == "no-config":
        assert "lacks 'config'" in text


def test_good_checkpoint_and_missing_file(tmp_path):
    _good_bytes(tmp_path)
    assert load_checkpoint(tmp_path / "good.pt")["step"] == 3
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_checkpoint(tmp_path / "nope.pt")


def _run_folder(tmp_path: Path, checkpoint: bytes) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(TrainConfig.preset("synth-lin").to_dict()))
    (run / "checkpoint.pt").write_bytes(checkpoint)
    return run


def test_cli_damaged_checkpoint_one_line(tmp_path, capsys):
    run = _run_folder(tmp_path, b"\x00garbage" * 20)
    assert main(["evaluate", str(run), "--metrics", "dto"]) == 1
    err = _one_line_error(capsys, str(run / "checkpoint.pt"), "damaged")
    assert "weights_only" not in err
    # resuming training from it: the same one line
    assert main(["train", "--dataset", "synth-lin", "--steps", "2", "--quiet", "--out", str(run)]) == 1
    _one_line_error(capsys, str(run / "checkpoint.pt"))


def test_cli_broken_run_config_names_the_folder(tmp_path, capsys):
    run = _run_folder(tmp_path, _good_bytes(tmp_path))
    (run / "config.json").write_text("{not json")
    assert main(["evaluate", str(run)]) == 1
    _one_line_error(capsys, f"dir '{run}'", "cannot be parsed")


def test_empty_out_and_empty_metrics_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--dataset", "synth-lin", "--out", ""])
    assert info.value.code != 0
    assert "--out" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["evaluate", str(tmp_path), "--metrics", ","])
    assert info.value.code != 0
    err = capsys.readouterr().err
    assert "--metrics" in err and "metric names" in err
    with pytest.raises(SystemExit):
        main(["sweep", "synthetic", "--out", " "])
    assert "--out" in capsys.readouterr().err


def test_huge_latent_dim_fails_validation(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["train", "--dataset", "synth-lin", "--latent-dim", str(10**9), "--out", str(out)]) == 1
    _one_line_error(capsys, "latent_dim must be at most 1024", str(10**9))
    assert not out.exists()


@pytest.mark.parametrize("suffix, content, needle", [
    (".toml", b"\xff\xfebad", "not UTF-8 text"),
    (".toml", b"steps = [1,", "Invalid value"),
    (".json", b"{\"steps\": ", "Expecting value"),
    (".json", b"\xff\xfe{}", "not UTF-8 text"),
    (".toml", b"no_such_key = 1", "no_such_key"),
])
def test_bad_train_config_names_the_file(tmp_path, capsys, suffix, content, needle):
    cfg = tmp_path / f"cfg{suffix}"
    cfg.write_bytes(content)
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path / "r")]) == 1
    _one_line_error(capsys, str(cfg), needle)


def test_bad_sweep_config_names_the_file(tmp_path, capsys):
    cfg = tmp_path / "exp.toml"
    cfg.write_bytes(b"[experiment]\nname = \"\xff\"\n")
    assert main(["sweep", str(cfg), "--out", str(tmp_path / "o")]) == 1
    _one_line_error(capsys, str(cfg), "not UTF-8")


def test_damaged_store_one_line(tmp_path, capsys):
    (tmp_path / "results.sqlite").write_bytes(b"not a database" * 50)
    assert main(["report", str(tmp_path), "--no-figures"]) == 1
    _one_line_error(capsys, str(tmp_path / "results.sqlite"), "move it away")


@pytest.mark.parametrize("exc", [
    NonFiniteLossError("train: non-finite loss at step 7 (recon=nan)"),
    OSError(28, "No space left on device", "/data/run/checkpoint.pt"),
    PermissionError(13, "Permission denied", "/data/run"),
    sqlite3.OperationalError("disk I/O error"),
    pickle.UnpicklingError("invalid load key, 'x'."),
    EOFError("Ran out of input"),
])
def test_expected_errors_are_one_line_and_debug_shows_traceback(monkeypatch, capsys, exc, tmp_path):
    import vaecore.training

    def boom(*args, **kwargs):
        raise exc

    monkeypatch.setattr(vaecore.training, "train", boom)
    argv = ["train", "--dataset", "synth-lin", "--out", str(tmp_path / "r")]
    assert main(argv) == 1
    err = _one_line_error(capsys, "vaecore train: error:")
    assert str(exc).split()[0] in err
    with pytest.raises(type(exc)):
        main([*argv, "--debug"])
    with pytest.raises(type(exc)):
        main(["--debug", *argv])


def test_interrupt_exits_130(monkeypatch, capsys, tmp_path):
    import vaecore.training

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(vaecore.training, "train", interrupted)
    assert main(["train", "--dataset", "synth-lin", "--out", str(tmp_path / "r")]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_bugs_keep_their_traceback(monkeypatch, tmp_path):
    import vaecore.training

    def bug(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(vaecore.training, "train", bug)
    with pytest.raises(KeyError):
        main(["train", "--dataset", "synth-lin", "--out", str(tmp_path / "r")])
