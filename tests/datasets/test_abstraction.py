"""The dataset abstraction: registry, grid bijection, split, torch adapters, noisy()."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from vaecore import datasets


def test_registry_names_and_unknown():
    assert set(datasets.NAMES) == {
        "dsprites", "shapes3d", "synth-lin", "synth-nonlin", "mnist", "fashion-mnist",
        "image-folder", "perturbed",
    }
    with pytest.raises(ValueError, match="name must be one of .*dsprites"):
        datasets.load("dsprite")
    with pytest.raises(ValueError, match="unknown option 'n'.*n_samples"):
        datasets.load("synth-lin", n=10)


def test_dsprites_grid():
    ds = datasets.load("dsprites")
    assert len(ds) == 737_280 and ds.n_factors == 5
    assert ds.factor_sizes == (3, 6, 40, 32, 32)
    assert list(ds.strides) == [245760, 40960, 1024, 32, 1]
    np.testing.assert_allclose(ds.factor_values[1], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert ds.factor_values[2][0] == 0.0 and ds.factor_values[2][-1] == 2 * np.pi
    assert len(ds.factor_values[2]) == 40
    np.testing.assert_allclose(ds.factor_values[3], np.arange(32) / 31)
    assert ds.observation_shape == (1, 64, 64) and ds.is_image
    assert ds.categorical == (True, False, False, False, False)


def test_index_factor_bijection_random():
    ds = datasets.load("dsprites")
    rng = np.random.default_rng(3)
    idx = rng.integers(0, len(ds), 5000)
    f = ds.index_to_factors(idx)
    np.testing.assert_array_equal(ds.factors_to_index(f), idx)
    np.testing.assert_array_equal(f @ np.array([245760, 40960, 1024, 32, 1]), idx)
    np.testing.assert_array_equal(ds.index_to_factors([0, len(ds) - 1]),
                                  [[0, 0, 0, 0, 0], [2, 5, 39, 31, 31]])
    g = ds.sample_factors(1000, rng)
    assert g.dtype == np.int64 and (g >= 0).all() and (g < np.array(ds.factor_sizes)).all()


def test_bad_indices_and_factors():
    ds = datasets.load("dsprites")
    with pytest.raises(ValueError, match=r"indices must be in \[0, 737280\); got 737280"):
        ds.observations_at([737280])
    with pytest.raises(ValueError, match="indices must be in"):
        ds.index_to_factors([-1])
    with pytest.raises(ValueError, match=r"factors\[:, 1\] \(scale\) must be class indices in \[0, 6\)"):
        ds.factors_to_index([[0, 6, 0, 0, 0]])
    with pytest.raises(ValueError, match="must have 5 columns"):
        ds.factors_to_index([[0, 1]])
    with pytest.raises(ValueError, match="integer class labels"):
        ds.factors_to_index([[0, 0.5, 0, 0, 0]])
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        ds.sample_factors(3, "x")


def test_split_80_10_10_deterministic_disjoint():
    ds = datasets.load("synth-lin", n_samples=1003)
    tr, ev, te = ds.split(seed=5)
    assert (len(tr), len(ev), len(te)) == (802, 100, 101)
    allidx = np.concatenate([tr, ev, te])
    np.testing.assert_array_equal(np.sort(allidx), np.arange(1003))
    tr2, ev2, te2 = ds.split(seed=5)
    np.testing.assert_array_equal(tr, tr2)
    assert not np.array_equal(ds.split(seed=6)[0], tr)
    # the split depends only on (n, seed): same for every dataset of that size
    np.testing.assert_array_equal(np.sort(np.random.default_rng(5).permutation(1003)[:802]), tr)


def test_torch_dataset_and_dataloader():
    ds = datasets.load("dsprites")
    idx = np.arange(100, 170)
    tds = ds.torch_dataset(idx)
    assert len(tds) == 70
    x, f = tds[3]
    assert x.shape == (1, 64, 64) and x.dtype == torch.float32
    assert f.dtype == torch.int64
    np.testing.assert_array_equal(f.numpy(), ds.index_to_factors([103])[0])
    np.testing.assert_array_equal(x.numpy(), ds.observations_at([103])[0])
    dl = ds.dataloader(idx, batch_size=32, shuffle=True, seed=1)
    batches = list(dl)
    assert [b[0].shape[0] for b in batches] == [32, 32, 6]
    seen = np.concatenate([ds.factors_to_index(b[1].numpy()) for b in batches])
    np.testing.assert_array_equal(np.sort(seen), idx)
    again = np.concatenate([ds.factors_to_index(b[1].numpy()) for b in ds.dataloader(
        idx, batch_size=32, shuffle=True, seed=1)])
    np.testing.assert_array_equal(seen, again)
    assert [b[0].shape[0] for b in ds.dataloader(idx, batch_size=32, shuffle=False,
                                                 drop_last=True)] == [32, 32]
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        ds.dataloader(idx, batch_size=0, shuffle=False)


def test_dataloader_with_workers_continuous():
    ds = datasets.load("synth-nonlin", n_samples=200)
    dl = ds.dataloader(None, batch_size=64, shuffle=False, num_workers=1)
    xs, fs = zip(*list(dl))
    np.testing.assert_array_equal(torch.cat(xs).numpy(), ds.data)
    assert fs[0].dtype == torch.float32


def test_noisy_deterministic_bounded():
    ds = datasets.load("dsprites")
    nz = datasets.noisy(ds, 0.1, seed=2)
    assert len(nz) == len(ds) and nz.factor_names == ds.factor_names
    a = nz.observations_at([5, 77, 5])
    np.testing.assert_array_equal(a[0], a[2])
    np.testing.assert_array_equal(nz.observations_at([77])[0], a[1])
    clean = ds.observations_at([5, 77, 5])
    d = a - clean
    assert a.min() >= 0.0 and a.max() <= 1.0
    assert np.abs(d).max() <= 0.1 + 1e-7 and np.abs(d).max() > 0.09
    # clipping: background (0) pixels only get upward noise, foreground only downward
    assert (d[clean == 0] >= 0).all() and (d[clean == 1] <= 0).all()
    np.testing.assert_array_equal(nz.observations(ds.index_to_factors([77]))[0], a[1])
    assert not np.array_equal(datasets.noisy(ds, 0.1, seed=3).observations_at([5]), a[:1])
    np.testing.assert_array_equal(nz.index_to_factors([77]), ds.index_to_factors([77]))
    with pytest.raises(ValueError, match="eps must be >= 0"):
        datasets.noisy(ds, -0.1)


def test_dataloader_renders_one_batch_per_fetch():
    """Memory bound: every fetch renders exactly one batch (never the whole index set)."""
    ds = datasets.load("dsprites")
    calls = []
    original = ds.observations_at

    def spy(indices):
        calls.append(len(indices))
        return original(indices)

    ds.observations_at = spy
    idx = np.arange(1000)
    n = sum(x.shape[0] for x, _ in ds.dataloader(idx, batch_size=128, shuffle=True, seed=0))
    assert n == 1000 and max(calls) == 128 and len(calls) == 8 and sum(calls) == 1000


@given(st.lists(st.integers(0, 479_999), min_size=1, max_size=50))
def test_grid_bijection_hypothesis_shapes3d(indices):
    ds = datasets.load("shapes3d")
    f = ds.index_to_factors(indices)
    assert (f >= 0).all() and (f < np.array(ds.factor_sizes)).all()
    np.testing.assert_array_equal(ds.factors_to_index(f), indices)


def test_more_bad_inputs():
    ds = datasets.load("synth-lin", n_samples=20)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        ds.split(seed=-1)
    with pytest.raises(TypeError, match="seed must be an int"):
        ds.split(seed="a")
    with pytest.raises(TypeError, match="shuffle must be a bool"):
        ds.dataloader(batch_size=4, shuffle="yes")
    with pytest.raises(ValueError, match=r"indices must be in \[0, 20\)"):
        ds.torch_dataset([0, 20])
    with pytest.raises(ValueError, match="indices must have 0 or 1 dimensions"):
        ds.observations_at(np.zeros((2, 2), np.int64))
    with pytest.raises(TypeError, match="base must be a GroundTruthDataset"):
        datasets.noisy(np.zeros(3), 0.1)
    with pytest.raises(ValueError, match="backend must be one of"):
        datasets.load("dsprites", backend="gpu")
    with pytest.raises(TypeError, match="geometry must be a DSpritesGeometry"):
        datasets.load("dsprites", geometry={"window": (0, 1)})
    with pytest.raises(IndexError):
        ds.torch_dataset()[25]


def test_dsprites_deterministic_and_backends_agree():
    idx = np.random.default_rng(9).integers(0, 737_280, 64)
    a = datasets.load("dsprites").observations_at(idx)
    np.testing.assert_array_equal(a, datasets.load("dsprites").observations_at(idx))
    np.testing.assert_array_equal(a, datasets.load("dsprites", backend="reference").observations_at(idx))


class _SmallGrid(datasets.GridDataset):
    """A 2 x 3 grid of 1 x 4 x 4 images, to test grid-generic code cheaply."""

    name = "small"
    factor_names = ("a", "b")
    factor_sizes = (2, 3)
    factor_kinds = ("categorical", "ordinal")
    factor_values = (np.arange(2.0), np.arange(3.0))
    observation_shape = (1, 4, 4)
    is_image = True

    def observations_at(self, indices):
        idx = self._check_indices("observations_at", indices)
        return (np.arange(16, dtype=np.float32)[None, None, :] / 15 * (idx[:, None, None] + 1)
                / 6).reshape(len(idx), 1, 4, 4)


def test_cache_to_file_roundtrip(tmp_path):
    ds = _SmallGrid()
    cached = datasets.cache_to_file(ds, tmp_path / "c.npy", batch_size=4)
    assert len(cached) == 6 and cached.factor_names == ("a", "b")
    x = cached.observations_at([5, 0, 3])
    np.testing.assert_allclose(x, ds.observations_at([5, 0, 3]), atol=0.5 / 255 + 1e-7)
    np.testing.assert_array_equal(cached.factors_to_index([[1, 2]]), [5])
    with pytest.raises(FileExistsError, match="overwrite=True"):
        datasets.cache_to_file(ds, tmp_path / "c.npy")
    datasets.cache_to_file(ds, tmp_path / "c.npy", overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.npy"]  # no temp files left
    # a file of another shape (another dataset) is rejected
    dsp = datasets.load("dsprites")
    np.save(tmp_path / "d.npy", np.zeros((len(dsp), 1, 64, 64), np.uint8)[:0])
    with pytest.raises(ValueError, match="must hold uint8"):
        datasets.CachedDataset(dsp, tmp_path / "d.npy")
    with pytest.raises(ValueError, match="must be an image dataset"):
        datasets.cache_to_file(datasets.load("synth-lin", n_samples=5), tmp_path / "s.npy")
