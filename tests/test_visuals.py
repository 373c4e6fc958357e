"""Traversal grid / GIF / reconstructions grid (vaecore.report.visuals, vaecore.report.animation)."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch

pytest.importorskip("matplotlib")

from vaecore import TrainConfig  # noqa: E402
from vaecore.models.base import diagonal_kl  # noqa: E402
from vaecore.report import visuals as V  # noqa: E402
from vaecore.training.data import ArrayDataset  # noqa: E402
from vaecore.training.run import Run  # noqa: E402

SHAPE = (1, 4, 4)
LOGVAR = np.log([0.5, 1.0, 0.2])  # latent 1: μ ≡ 0, σ = 1 -> KL exactly 0 (collapsed)
MU_SCALE = np.array([0.5, 0.0, 3.0])  # latent 2 carries most, then latent 0


class Tiny(torch.nn.Module):
    """μ_j = MU_SCALE_j · (x_j − ½) (first pixels), log σ² fixed, decode = logits z @ W.T."""

    latent_dim = 3

    def __init__(self, stochastic=True):
        super().__init__()
        self.stochastic = stochastic
        g = torch.Generator().manual_seed(0)
        self.w = torch.nn.Parameter(torch.randn(16, 3, generator=g))
        self.decoder = SimpleNamespace(likelihood="bernoulli")

    def encode(self, x):
        mu = (x.reshape(len(x), -1)[:, :3] - 0.5) * torch.tensor(MU_SCALE, dtype=torch.float32)
        return mu, torch.tensor(LOGVAR, dtype=torch.float32).expand_as(mu)

    def decode(self, z):
        return (z @ self.w.T).reshape(len(z), *SHAPE)


def _run(model=None, n=60, shape=SHAPE):
    x = np.random.default_rng(1).random((n, *shape)).astype(np.float32)
    return Run(config=TrainConfig(), model=model or Tiny(), history=[], polarized={}, dir=None,
               step=0, observation_shape=shape, likelihood="bernoulli",
               _dataset=ArrayDataset(x, is_image=True))


def test_per_latent_kl_closed_form_and_sum():
    rng = np.random.default_rng(0)
    mu, lv = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    kl = V.per_latent_kl(mu, lv)
    np.testing.assert_allclose(kl, [np.mean(0.5 * (mu[:, j] ** 2 + np.exp(lv[:, j]) - lv[:, j] - 1))
                                    for j in range(4)])
    np.testing.assert_allclose(kl.sum(), diagonal_kl(torch.tensor(mu), torch.tensor(lv)).item())


def test_traversal_rows_sorted_by_kl_and_collapsed_marked():
    run = _run()
    g = V.latent_traversals(run, n_probe=6, steps=5, span=2.0, seed=3)
    test = run.split()[2]
    assert set(g.probe) <= set(test) and list(g.probe) == sorted(g.probe)
    mu = (run.dataset.observations_at(g.probe).reshape(6, -1)[:, :3] - 0.5) * MU_SCALE
    kl = 0.5 * ((mu**2).mean(0) + np.exp(LOGVAR) - LOGVAR - 1)
    assert g.order.tolist() == np.argsort(-kl).tolist() == [2, 0, 1]
    np.testing.assert_allclose(g.score, kl[g.order], rtol=1e-5, atol=1e-7)
    assert g.collapsed.tolist() == [False, False, True] and g.score[2] == 0.0
    assert g.images.shape == (3, 5, *SHAPE)
    # fitted Gaussian (dlib's conf_interval): z0 ± span · sqrt(E σ² + Var μ)
    s = np.sqrt(np.exp(LOGVAR) + mu.var(0))
    np.testing.assert_allclose(g.values[0], mu.mean(0)[2] + np.linspace(-2, 2, 5) * s[2], rtol=1e-5)
    z = np.repeat(mu.mean(0)[None], 5, 0)
    z[:, 2] = g.values[0]
    want = torch.sigmoid(torch.tensor(z, dtype=torch.float32) @ run.model.w.T).detach().numpy()
    np.testing.assert_allclose(g.images[0].reshape(5, -1), want, rtol=1e-5)
    fixed = V.latent_traversals(run, n_probe=6, steps=5, span=2.5, mode="fixed", seed=3)
    np.testing.assert_allclose(fixed.values[1], mu.mean(0)[0] + np.linspace(-2.5, 2.5, 5), rtol=1e-5)


def test_deterministic_model_orders_by_mean_variance():
    g = V.latent_traversals(_run(Tiny(stochastic=False)), n_probe=6, steps=3)
    assert g.score_name == "var_mu" and g.order.tolist() == [2, 0, 1] and not g.collapsed.any()


def test_traversal_figure_labels_frames_and_png_size(tmp_path):
    from PIL import Image

    g = V.latent_traversals(_run(), n_probe=6, steps=4)
    fig = V.plot_traversals(g)
    assert len(fig.axes) == 3 * 4
    rows = [fig.axes[r * 4] for r in range(3)]
    assert [ax.get_ylabel().split("\n")[0] for ax in rows] == ["z2", "z0", "z1"]
    assert "collapsed" in rows[2].get_ylabel() and "collapsed" not in rows[0].get_ylabel()
    grey = fig.axes[2 * 4 + 3].spines["left"]
    assert grey.get_linewidth() == 3.0 and grey.get_edgecolor()[:3] == pytest.approx((0.55,) * 3)
    assert fig.axes[3].spines["left"].get_linewidth() != 3.0
    png, pdf = V.save_figure_atomic(fig, tmp_path / "sub" / "trav", dpi=50)
    w, h = fig.get_size_inches()
    with Image.open(png) as im:
        assert im.size == (round(w * 50), round(h * 50))
    assert pdf.read_bytes()[:4] == b"%PDF" and sorted(p.name for p in png.parent.iterdir()) == [
        "trav.pdf", "trav.png"]


def test_gif_frames_layout_and_count(tmp_path):
    from PIL import Image

    from vaecore.report.animation import BORDER, PAD, save_traversal_gif, traversal_frames

    g = V.latent_traversals(_run(), n_probe=6, steps=5)
    frames = traversal_frames(g, zoom=3)
    tile = 4 * 3 + 2 * BORDER
    assert frames.shape == (5, 2 * tile + 3 * PAD + 4 + PAD, 2 * tile + 3 * PAD, 3)
    # tiles row-major in KL order: third tile (latent 1, collapsed) at row 1, col 0, grey frame
    top = PAD + tile + PAD
    assert (frames[:, top, PAD:PAD + tile] == 140).all()
    assert (frames[:, PAD, PAD:PAD + tile] == 255).all()  # active tile: white frame
    img = frames[0, PAD + BORDER:PAD + BORDER + 12:3, PAD + BORDER:PAD + BORDER + 12:3, 0]
    np.testing.assert_array_equal(img, np.round(g.images[0, 0, 0] * 255).astype(np.uint8))
    path = save_traversal_gif(g, tmp_path / "t.gif", fps=10, zoom=3)
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 5 and im.size == frames.shape[2:0:-1]
        assert im.info.get("loop") == 0


def test_reconstructions_top_row_is_the_input(tmp_path):
    run = _run()
    r = V.reconstructions(run, n=5, seed=2)
    assert set(r.indices) <= set(run.split()[2])
    np.testing.assert_array_equal(r.inputs, run.dataset.observations_at(r.indices))
    mu = (r.inputs.reshape(5, -1)[:, :3] - 0.5) * MU_SCALE
    want = torch.sigmoid(torch.tensor(mu, dtype=torch.float32) @ run.model.w.T).detach().numpy()
    np.testing.assert_allclose(r.outputs.reshape(5, -1), want, rtol=1e-5)
    fig = V.plot_reconstructions(r)
    assert len(fig.axes) == 10
    for c in range(5):
        np.testing.assert_array_equal(fig.axes[c].images[0].get_array(), r.inputs[c, 0])
        np.testing.assert_array_equal(fig.axes[5 + c].images[0].get_array(), r.outputs[c, 0])
    paths = V.draw_reconstructions(run, tmp_path / "rec", n=3)
    assert [p.name for p in paths] == ["rec.png", "rec.pdf"]


def test_gif_without_pillow_names_the_extra(tmp_path, monkeypatch):
    from vaecore.report.animation import require_pillow

    run = _run()
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "PIL", None)  # import PIL -> ImportError
        with pytest.raises(RuntimeError, match=r"need Pillow.*pip install 'vaecore\[plot\]'"):
            require_pillow()
        with pytest.raises(RuntimeError, match="Pillow"):
            V.draw_traversals(run, tmp_path / "t", n_probe=6, steps=3, gif=True)
    assert list(tmp_path.iterdir()) == []  # failed before writing anything
    assert len(V.draw_traversals(run, tmp_path / "t", n_probe=6, steps=3)) == 2  # PNG/PDF still fine


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(steps=1), ValueError, "steps must be >= 2"),
    (dict(steps=2.0), TypeError, "steps must be an int"),
    (dict(span=0.0), ValueError, "span must be > 0"),
    (dict(span=float("nan")), ValueError, "span must be finite"),
    (dict(mode="quantile"), ValueError, "mode must be one of"),
    (dict(n_probe=0), ValueError, "n must be >= 1"),
    (dict(n_probe=7), ValueError, "n must be <= the 6 observations"),
    (dict(n_probe=True), TypeError, "n must be an int"),
    (dict(seed=-1), ValueError, "seed must be >= 0"),
    (dict(collapsed_below=-0.1), ValueError, "collapsed_below must be >= 0"),
])
def test_traversal_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        V.latent_traversals(_run(), **{"n_probe": 6, **kwargs})


def test_other_bad_inputs(tmp_path):
    from vaecore.report.animation import save_traversal_gif

    with pytest.raises(TypeError, match="run must be a vaecore Run or a run folder; got int"):
        V.reconstructions(42)
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        V.reconstructions(tmp_path)
    with pytest.raises(ValueError, match="n must be <= the 6"):
        V.reconstructions(_run(), n=9)
    g = V.latent_traversals(_run(), n_probe=6, steps=3)
    with pytest.raises(ValueError, match="fps must be > 0"):
        save_traversal_gif(g, tmp_path / "t.gif", fps=0)
    x = np.random.default_rng(0).random((20, 3)).astype(np.float32)
    flat = Run(config=TrainConfig(), model=_LinearFlat(), history=[], polarized={}, dir=None, step=0,
               observation_shape=(3,), likelihood="gaussian", _dataset=ArrayDataset(x))
    gflat = V.latent_traversals(flat, n_probe=2, steps=3)
    assert len(V.plot_traversals(gflat).axes) == 9  # bars for non-image data
    with pytest.raises(ValueError, match="must be images"):
        save_traversal_gif(gflat, tmp_path / "f.gif")
    assert not (tmp_path / "f.gif").exists()


class _LinearFlat(torch.nn.Module):
    latent_dim = 3
    decoder = SimpleNamespace(likelihood="gaussian")

    def encode(self, x):
        return x, torch.zeros_like(x)

    def decode(self, z):
        return 2 * z


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    import vaecore

    out = tmp_path_factory.mktemp("run")
    cfg = TrainConfig.preset("dsprites", steps=0, latent_dim=3, encoder_hidden=(8,),
                             decoder_hidden=(8,), max_train=64, probe_size=8, batch_size=8)
    vaecore.train(cfg, out=out, progress=False)
    return out


def test_cli_traversals_and_reconstructions(run_dir, tmp_path, capsys):
    from PIL import Image

    from vaecore.cli import main

    rc = main(["plot", "traversals", str(run_dir), "--out", str(tmp_path / "t"), "--n", "16",
               "--steps", "3", "--seed", "1", "--gif"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.gif", "t.pdf", "t.png"]
    with Image.open(tmp_path / "t.gif") as im:
        assert im.n_frames == 3
    assert main(["plot", "reconstructions", str(run_dir), "--n", "3"]) == 0
    assert (run_dir / "reconstructions.png").is_file() and (run_dir / "reconstructions.pdf").is_file()
    assert main(["plot", "reconstructions", str(run_dir), "--n", "0"]) == 1
    assert "n must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["plot", "traversals", str(run_dir), "--mode", "quantile"])

