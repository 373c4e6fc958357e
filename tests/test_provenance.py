"""Provenance: every run records its data source and software versions; the report shows them."""

from __future__ import annotations

import json

import numpy as np

import vaecore
from vaecore import TrainConfig, train
from vaecore.datasets import load
from vaecore.datasets.provenance import dataset_provenance, software_versions


def test_procedural_file_derived_and_in_memory(tmp_path):
    p = dataset_provenance(load("dsprites"))
    assert p["kind"] == "procedural" and p["renderer"] == f"vaecore {vaecore.__version__}"
    f = tmp_path / "data.bin"
    f.write_bytes(b"abc")

    class FromFile:
        name = "x"
        path = str(f)

    q = dataset_provenance(FromFile())
    assert q["kind"] == "file" and q["bytes"] == 3
    assert q["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # sha256("abc")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a").write_bytes(b"1")

    class FromFolder:
        name = "y"
        path = str(tmp_path / "dir")

    r = dataset_provenance(FromFolder())
    assert r["kind"] == "folder" and r["files"] == 1 and len(r["sha256"]) == 64
    sub = dataset_provenance(load("subgrid", base="dsprites", fixed={"shape": 0}))
    assert sub["kind"] == "derived" and sub["base"]["kind"] == "procedural" and sub["fixed"] == {"shape": 0}
    from vaecore.training.data import ArrayDataset

    assert dataset_provenance(ArrayDataset(np.zeros((4, 2)), np.zeros((4, 1))))["kind"] == "in-memory"
    assert set(software_versions()) == {"vaecore", "torch", "numpy", "python"}


def test_run_json_and_report(tmp_path):
    train(TrainConfig.preset("synth-lin", steps=5), out=tmp_path / "run", progress=False)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["provenance"]["dataset"]["kind"] == "procedural"
    assert info["provenance"]["software"]["vaecore"] == vaecore.__version__
    from vaecore.experiments.store import ResultsStore
    from vaecore.report import report

    with ResultsStore(tmp_path / "out") as store:
        (rid,) = store.add_many([("e", {"group": {"variant": "a"}}, 0)])
        store.mark_running(rid)
        store.mark_done(rid, {"dto": 0.1, "provenance": info["provenance"]})
    rep = report(tmp_path / "out", tmp_path / "rep", figures=False)
    assert "## Provenance" in rep.markdown and "synth-lin: procedural" in rep.markdown
    assert "## Provenance" in (tmp_path / "rep" / "report.md").read_text()
