"""Export in the base layout and the ``vaecore perturb`` command (select, train, Fig. 4.3 preview,
export)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from vaecore import datasets
from vaecore.cli import main
from vaecore.datasets import DSprites, Shapes3D
from vaecore.perturb import export

from test_dataset import zero_manipulator


def test_export_generic_round_trip(tiny_manipulator, tmp_path):
    import perturb_tiny

    folder, _ = tiny_manipulator
    mod = datasets.load("perturbed", base=perturb_tiny.TinyBars(), manipulator=folder)
    path = export(mod, tmp_path / "mod.npz", batch_size=5)
    with np.load(path, allow_pickle=False) as f:
        assert f["images"].tobytes() == mod.observations_at(np.arange(32)).tobytes()
        np.testing.assert_array_equal(f["classes"], mod.factors_at(np.arange(32)))
    with pytest.raises(FileExistsError):
        export(mod, path)
    with pytest.raises(ValueError, match=r"\.npz"):
        export(mod, tmp_path / "mod.h5")


def test_export_dsprites_layout(tmp_path):
    folder = zero_manipulator(tmp_path / "m", DSprites(), "dsprites", 0.1)
    idx = np.array([5, 245_760 + 40_960 * 2 + 1024 * 7 + 33])
    path = export(folder, tmp_path / "dsprites_mod.npz", indices=idx, image_dtype="float16")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["imgs.npy", "latents_classes.npy", "latents_values.npy"]
    with np.load(path, allow_pickle=False) as f:
        assert f["imgs"].shape == (2, 64, 64) and f["imgs"].dtype == np.float16
        np.testing.assert_array_equal(f["imgs"], DSprites().observations_at(idx)[:, 0])
        np.testing.assert_array_equal(f["latents_classes"], [[0, 0, 0, 0, 0, 5], [0, 1, 2, 7, 1, 1]])
        np.testing.assert_allclose(f["latents_values"][1], [1, 2, 0.7, 7 * 2 * np.pi / 39, 1 / 31, 1 / 31])


def test_export_shapes3d_layout_reads_back(tmp_path):
    folder = zero_manipulator(tmp_path / "m", Shapes3D(), "shapes3d", 0.175)
    idx = np.array([0, 1234, 479_999])
    path = export(folder, tmp_path / "3dshapes_mod.h5", indices=idx)
    back = datasets.load("shapes3d", path=str(path))
    np.testing.assert_allclose(back.observations_at(idx), Shapes3D().observations_at(idx), atol=1 / 510 + 1e-7)


def test_cli_select_train_preview_export(tiny_runs, tmp_path, capsys):
    sweep = tiny_runs["sweep"]
    assert main(["perturb", "select", str(sweep), "--json", str(tmp_path / "sel.json")]) == 0
    sel = json.loads((tmp_path / "sel.json").read_text())
    assert "disentangled" in capsys.readouterr().out and len(sel["scores"]) == 4
    out = tmp_path / "mod"
    args = ["perturb", "train", "--select", str(sweep), "--eps", "0.1", "--out", str(out), "--steps", "2",
            "--batch-size", "8", "--latent-samples", "1", "--log-every", "1", "--no-progress"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 2 and (out / "selection.json").is_file()
    assert main(["perturb", "preview", str(out), "--n", "2"]) == 0
    assert (out / "fig-4.3.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "fig-4.3.pdf").read_bytes()[:4] == b"%PDF"
    assert main(["perturb", "export", str(out), "--out", str(tmp_path / "x.npz")]) == 0
    assert main(["perturb", "train", "--eps", "0.1", "--out", str(out)]) == 1
    assert "either --dis" in capsys.readouterr().err
    assert main(["perturb", "select", str(tiny_runs["ae"].parent)]) == 1
    assert "β-VAEs" in capsys.readouterr().err
