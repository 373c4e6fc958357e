"""Real-file loaders on tiny files written here: dSprites npz, 3dshapes h5, IDX, images."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from vaecore import datasets

h5py = pytest.importorskip("h5py")
Image = pytest.importorskip("PIL.Image")


def _write_dsprites(path, idx, *, order=None, metadata=True):
    ds = datasets.load("dsprites")
    classes = ds.index_to_factors(idx)
    imgs = (ds.observations_at(idx)[:, 0] > 0).astype(np.uint8)
    lc = np.concatenate([np.zeros((len(idx), 1), np.int64), classes], axis=1)
    lv = np.concatenate([np.ones((len(idx), 1)), ds.factor_values_of(classes)], axis=1)
    extra = {"metadata": np.array({"note": "pickled"}, dtype=object)} if metadata else {}
    np.savez_compressed(path, imgs=imgs, latents_classes=lc, latents_values=lv, **extra)
    return imgs


def test_dsprites_npz_roundtrip_bitpacked(tmp_path):
    idx = np.sort(np.random.default_rng(0).choice(737_280, 300, replace=False))
    path = tmp_path / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    imgs = _write_dsprites(path, idx)
    real = datasets.load("dsprites", path=str(path))
    assert not real.procedural and len(real) == 737_280
    assert real._packed.shape == (300, 64, 8) and real._packed.dtype == np.uint8
    sel = idx[[5, 0, 299, 5]]
    x = real.observations_at(sel)
    assert x.dtype == np.float32 and x.shape == (4, 1, 64, 64)
    np.testing.assert_array_equal(x[:, 0], imgs[[5, 0, 299, 5]])
    np.testing.assert_array_equal(real.factors_at(sel), real.index_to_factors(sel))
    # the folder works as path too (file name is the published one)
    np.testing.assert_array_equal(datasets.load("dsprites", path=tmp_path).observations_at(sel), x)
    missing = np.setdiff1d(np.arange(1000), idx)[0]
    with pytest.raises(ValueError, match="has no image for index"):
        real.observations_at([missing])
    # a tiny chunk size streams the member in several pieces with the same result
    from vaecore.datasets.dsprites import read_dsprites_file

    packed, rows = read_dsprites_file(str(path), chunk=7)
    np.testing.assert_array_equal(packed, real._packed)
    np.testing.assert_array_equal(rows, real._rows)
    batch = next(iter(real.dataloader(idx, batch_size=16, shuffle=False)))
    np.testing.assert_array_equal(batch[0].numpy()[:, 0], imgs[:16])


def test_dsprites_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz.*github"):
        datasets.load("dsprites", path=tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not an npz"):
        datasets.load("dsprites", path=bad)
    np.savez(tmp_path / "noimgs.npz", latents_classes=np.zeros((1, 6), np.int64))
    with pytest.raises(ValueError, match="has no array 'imgs'"):
        datasets.load("dsprites", path=tmp_path / "noimgs.npz")
    np.savez(tmp_path / "grid.npz", imgs=np.zeros((1, 64, 64), np.uint8),
             latents_classes=np.array([[0, 3, 0, 0, 0, 0]]))
    with pytest.raises(ValueError, match="outside the grid"):
        datasets.load("dsprites", path=tmp_path / "grid.npz")
    np.savez(tmp_path / "shape.npz", imgs=np.zeros((2, 32, 32), np.uint8),
             latents_classes=np.array([[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1]]))
    with pytest.raises(ValueError, match="imgs must be a C-order 1-byte array"):
        datasets.load("dsprites", path=tmp_path / "shape.npz")


def _write_h5(path, idx):
    ds = datasets.load("shapes3d")
    f = ds.index_to_factors(idx)
    vals = ds.factor_values_of(f)
    imgs = ds.render_values(vals, dtype=np.uint8).transpose(0, 2, 3, 1)
    with h5py.File(path, "w") as h:
        h["images"] = imgs
        h["labels"] = vals + 1e-9  # the real labels are floats close to the grid
    return imgs


def test_shapes3d_h5_lazy(tmp_path):
    idx = np.sort(np.random.default_rng(1).choice(480_000, 40, replace=False))[::-1].copy()
    path = tmp_path / "3dshapes.h5"
    imgs = _write_h5(path, idx)
    real = datasets.load("shapes3d", path=str(path))
    assert not real.procedural
    sel = idx[[3, 3, 0, 39]]
    x = real.observations_at(sel)
    assert x.shape == (4, 3, 64, 64) and x.dtype == np.float32
    np.testing.assert_allclose(x, imgs[[3, 3, 0, 39]].transpose(0, 3, 1, 2) / 255.0, atol=1e-7)
    # the file's images equal the procedural renderer's (they were written from it)
    np.testing.assert_allclose(x, datasets.load("shapes3d").observations_at(sel), atol=0.5 / 255)
    # workers reopen the file (fork-safe); order of a DataLoader is kept
    dl = real.dataloader(np.sort(idx), batch_size=8, shuffle=False, num_workers=1)
    got = np.concatenate([b[0].numpy() for b in dl])
    np.testing.assert_allclose(got, imgs[::-1].transpose(0, 3, 1, 2) / 255.0, atol=1e-7)
    with pytest.raises(ValueError, match="has no image"):
        real.observations_at([np.setdiff1d(np.arange(100), idx)[0]])


def test_shapes3d_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="3dshapes.h5.*3d-shapes"):
        datasets.load("shapes3d", path=tmp_path)
    (tmp_path / "x.h5").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="not an HDF5 file"):
        datasets.load("shapes3d", path=tmp_path / "x.h5")
    with h5py.File(tmp_path / "y.h5", "w") as h:
        h["images"] = np.zeros((1, 64, 64, 3), np.uint8)
        h["labels"] = np.array([[0.0, 0.0, 0.0, 0.8, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"labels\[:, 3\] \(scale\).*must lie on the grid"):
        datasets.load("shapes3d", path=tmp_path / "y.h5")


def _idx_bytes(arr):
    head = bytes([0, 0, 8, arr.ndim]) + struct.pack(">" + "i" * arr.ndim, *arr.shape)
    return head + arr.astype(np.uint8).tobytes()


def _write_mnist(folder, n_train=30, n_test=10, gz=True):
    rng = np.random.default_rng(2)
    out = {}
    for part, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = np.arange(n) % 10
        for name, arr in ((f"{part}-images-idx3-ubyte", x), (f"{part}-labels-idx1-ubyte", y)):
            data = _idx_bytes(arr)
            if gz:
                (folder / (name + ".gz")).write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)
        out[part] = (x, y)
    return out


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_mnist_idx(tmp_path, gz, name):
    data = _write_mnist(tmp_path, gz=gz)
    ds = datasets.load(name, path=tmp_path)
    assert len(ds) == 40 and ds.observation_shape == (1, 28, 28)
    assert ds.factor_kinds == ("categorical",) and ds.factor_sizes == (10,)
    x = ds.observations_at([0, 35])
    np.testing.assert_allclose(x[0, 0], data["train"][0][0] / 255.0, atol=1e-7)
    np.testing.assert_allclose(x[1, 0], data["t10k"][0][5] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(ds.factors_at([0, 35]), [[0], [5]])
    test = datasets.load(name, path=tmp_path, part="test")
    assert len(test) == 10
    obs = ds.observations(np.array([[3], [7]]), rng=np.random.default_rng(0))
    labels_of = {ds.observations_at([i])[0].tobytes(): int(ds.labels[i]) for i in range(40)}
    assert [labels_of[o.tobytes()] for o in obs] == [3, 7]
    assert set(ds.sample_factors(50, 1)[:, 0]) <= set(range(10))


def test_mnist_bad(tmp_path):
    with pytest.raises(ValueError, match="path must be the directory"):
        datasets.load("mnist")
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.*yann.lecun"):
        datasets.load("mnist", path=tmp_path)
    _write_mnist(tmp_path, gz=False)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x09\x03abc")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.load("mnist", path=tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx_bytes(np.zeros((30, 28, 28)))[:-5])
    with pytest.raises(ValueError, match="must hold 23520 bytes"):
        datasets.load("mnist", path=tmp_path)
    with pytest.raises(ValueError, match="part must be one of"):
        datasets.load("mnist", path=tmp_path, part="val")


def test_image_folder(tmp_path):
    rng = np.random.default_rng(3)
    (tmp_path / "sub").mkdir()
    arrays = []
    for k, (w, h) in enumerate([(80, 100), (64, 64), (30, 20)]):
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        arrays.append(a)
        folder = tmp_path / "sub" if k == 2 else tmp_path
        Image.fromarray(a).save(folder / f"img{k}.{'png' if k != 1 else 'jpg'}")
    (tmp_path / "notes.txt").write_text("ignored")
    ds = datasets.load("image-folder", path=tmp_path)
    assert len(ds) == 3 and ds.n_factors == 0 and ds.observation_shape == (3, 64, 64)
    x = ds.observations_at([0, 1, 2])
    assert x.shape == (3, 3, 64, 64) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    # img0.png: 80 x 100 -> centre crop 80 x 80 -> resize 64 x 64
    expect = Image.fromarray(arrays[0]).crop((0, 10, 80, 90)).resize((64, 64), Image.Resampling.BILINEAR)
    np.testing.assert_allclose(x[0], np.asarray(expect).transpose(2, 0, 1) / 255.0, atol=1e-6)
    assert ds.factors_at([0, 1]).shape == (2, 0)
    small = datasets.load("image-folder", path=tmp_path, size=16, crop=False)
    assert small.observations_at([2]).shape == (1, 3, 16, 16)
    with pytest.raises(FileNotFoundError, match="no such folder.*CelebA"):
        datasets.load("image-folder", path=tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .png/.jpg/.jpeg/.bmp files"):
        datasets.load("image-folder", path=tmp_path / "empty")
    (tmp_path / "broken.png").write_bytes(b"nope")
    broken = datasets.load("image-folder", path=tmp_path)
    with pytest.raises(ValueError, match="cannot read image"):
        broken.observations_at([broken.files.index(str(tmp_path / "broken.png"))])
