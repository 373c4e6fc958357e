"""dSprites calibration against a (synthetic) real file, and the `vaecore datasets` CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vaecore import datasets
from vaecore.cli import main
from vaecore.datasets.dsprites import DEFAULT_GEOMETRY, render_dsprites

TRUTH = DEFAULT_GEOMETRY.replace(window=(0.23, 0.79), half_size=8.0, ellipse_axes=(1.25, 0.62),
                                 heart_scale=0.92, clockwise=True)


@pytest.fixture(scope="module")
def fake_real(tmp_path_factory):
    """A 'real' file drawn with other constants than the default geometry."""
    ds = datasets.load("dsprites")
    idx = np.sort(np.random.default_rng(0).choice(len(ds), 600, replace=False))
    classes = ds.index_to_factors(idx)
    imgs = render_dsprites(ds.factor_values_of(classes), geometry=TRUTH, dtype=np.uint8)[:, 0]
    path = tmp_path_factory.mktemp("real") / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    lc = np.concatenate([np.zeros((len(idx), 1), np.int64), classes], axis=1)
    np.savez_compressed(path, imgs=imgs, latents_classes=lc)
    return path


def test_calibration_recovers_constants(fake_real):
    r = datasets.calibrate_dsprites(str(fake_real), n=500, seed=1)
    g = r.geometry
    assert r.n_images == 500
    assert r.iou_before < 0.8 and r.value > 0.97 and r.value == pytest.approx(
        np.mean([r.per_shape[s] for s in ("square", "ellipse", "heart")]), abs=0.02)
    np.testing.assert_allclose(g.window, TRUTH.window, atol=0.005)
    assert g.half_size == pytest.approx(8.0, rel=0.03)
    np.testing.assert_allclose(g.ellipse_axes, TRUTH.ellipse_axes, rtol=0.05)
    assert g.heart_scale == pytest.approx(0.92, rel=0.04)
    assert g.clockwise is True
    d = r.as_dict()
    assert d["geometry"]["half_size"] == g.half_size and json.dumps(d)
    with pytest.raises(ValueError, match="must be the real file"):
        datasets.calibrate_dsprites(datasets.load("dsprites"))


def test_cli_list_show_calibrate_preview(fake_real, tmp_path, capsys):
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in datasets.NAMES)
    assert main(["datasets", "show", "synth-lin", "-o", "n_samples=10", "-o", "ratio=1.5"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["n_samples"] == 10 and info["observation_shape"] == [3]
    assert main(["datasets", "show", "dsprites"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert [f["size"] for f in info["factors"]] == [3, 6, 40, 32, 32]
    assert main(["datasets", "calibrate", "--path", str(fake_real), "--n", "200"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] > 0.95
    png = tmp_path / "grid.png"
    assert main(["datasets", "preview", "shapes3d", "--out", str(png), "--n", "4"]) == 0
    from PIL import Image

    with Image.open(png) as im:
        assert im.size == (2 * 66, 2 * 66) and im.mode == "RGB"
    assert main(["datasets", "show", "nope"]) == 1
    assert "name must be one of" in capsys.readouterr().err
    assert main(["datasets", "show", "synth-lin", "-o", "bogus=1"]) == 1
    assert "unknown option 'bogus'" in capsys.readouterr().err
