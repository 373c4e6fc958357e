"""Exports: safetensors model round trip, tamper/misfit refusal, runs of a store as CSV / JSON lines."""

from __future__ import annotations

import csv
import io
import json

import pytest
import torch

pytest.importorskip("safetensors")

import vaecore  # noqa: E402
from vaecore.cli import main  # noqa: E402
from vaecore.export import export_model, load_exported, runs_dataframe, write_runs  # noqa: E402


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    vaecore.train(vaecore.TrainConfig.preset("synth-nonlin", steps=30, seed=3), out=out, progress=False)
    return out


def test_round_trip_gives_the_same_model(run_dir, tmp_path):
    export_model(run_dir, tmp_path / "exp")
    meta = json.loads((tmp_path / "exp" / "model.json").read_text())
    assert meta["format"] == "vaecore-model" and meta["config"]["seed"] == 3
    assert set(meta["versions"]) == {"vaecore", "torch", "numpy"}
    model = load_exported(tmp_path / "exp")
    ref = vaecore.load_run(run_dir).model
    x = torch.randn(5, *meta["observation_shape"])
    with torch.no_grad():
        torch.testing.assert_close(model.encode(x)[0], ref.encode(x)[0], rtol=0, atol=0)
        torch.testing.assert_close(model.decode(x[:, :ref.latent_dim]), ref.decode(x[:, :ref.latent_dim]),
                                   rtol=0, atol=0)


def test_tampered_or_misfit_weights_are_refused(run_dir, tmp_path):
    import safetensors.torch as st

    folder = export_model(run_dir, tmp_path / "exp")
    weights = folder / "model.safetensors"
    blob = bytearray(weights.read_bytes())
    blob[-1] ^= 0xFF
    weights.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="does not match the sha256"):
        load_exported(folder)
    # Well-formed file of the wrong shapes, with its sha256 updated: names the mismatch.
    good = export_model(run_dir, tmp_path / "exp2")
    tensors = st.load((good / "model.safetensors").read_bytes())
    name = next(iter(tensors))
    tensors[name] = torch.zeros(1, 1)
    blob = st.save(tensors)
    (good / "model.safetensors").write_bytes(blob)
    meta = json.loads((good / "model.json").read_text())
    import hashlib

    meta["sha256"] = hashlib.sha256(blob).hexdigest()
    (good / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=f"do not fit the model.*{name}"):
        load_exported(good)
    (good / "model.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_exported(good)
    with pytest.raises(FileNotFoundError, match="not a vaecore export"):
        load_exported(tmp_path)


def test_cli_export(run_dir, tmp_path, capsys):
    assert main(["export", str(run_dir), "--out", str(tmp_path / "e")]) == 0
    assert (tmp_path / "e" / "model.safetensors").is_file()
    assert main(["export", str(run_dir), "--out", ""]) != 0


def _store(tmp_path):
    from vaecore.experiments.store import ResultsStore

    path = tmp_path / "results.sqlite"
    with ResultsStore(path) as store:
        a, b = store.add_many([("exp", {"beta": 1.0, "hidden": [4, 4]}, 0), ("exp", {"beta": 2.0}, 1)])
        store.mark_running(a)
        store.mark_done(a, {"mig": 0.25, "dto": 0.5})
    return path


def test_runs_csv_jsonl_dataframe(tmp_path, capsys):
    path = _store(tmp_path)
    rows = list(csv.DictReader(io.StringIO(write_runs(path, None, format="csv"))))
    assert [r["status"] for r in rows] == ["done", "pending"]
    assert rows[0]["metric.mig"] == "0.25" and rows[0]["config.hidden"] == "[4, 4]"
    assert rows[1]["metric.mig"] == ""
    lines = write_runs(path, tmp_path / "runs.jsonl", format="jsonl").splitlines()
    assert json.loads(lines[0])["metric.dto"] == 0.5
    assert (tmp_path / "runs.jsonl").read_text().splitlines() == lines
    pd = pytest.importorskip("pandas")
    df = runs_dataframe(path)
    assert isinstance(df, pd.DataFrame) and len(df) == 2 and df["config.beta"].tolist() == [1.0, 2.0]
    assert main(["runs", str(tmp_path), "--format", "jsonl"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    with pytest.raises(ValueError, match="format must be one of"):
        write_runs(path, None, format="xml")
