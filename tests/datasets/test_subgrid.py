"""subgrid (SPEC-ch4 §8): factors, index map, observations, sampling, split, registry, errors;
noisy(..., boundary="reflect") (SPEC-ch4 §6.6)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaecore import datasets

QUICK_FIXED = {"floor_hue": 0, "scale": 4, "shape": 0}


@pytest.fixture(scope="module")
def shapes3d():
    return datasets.load("shapes3d")


@pytest.fixture(scope="module")
def quick(shapes3d):
    return datasets.subgrid(shapes3d, fixed=QUICK_FIXED)


def test_quick_subgrid_factors(quick, shapes3d):
    assert len(quick) == 1500 and quick.n_factors == 3
    assert quick.factor_names == ("wall_hue", "object_hue", "orientation")
    assert quick.factor_sizes == (10, 10, 15)
    assert quick.factor_kinds == ("cyclic", "cyclic", "ordinal")
    np.testing.assert_array_equal(quick.factor_values[2], shapes3d.factor_values[5])
    assert quick.observation_shape == (3, 64, 64) and quick.is_image
    assert quick.fixed == QUICK_FIXED
    assert quick.describe()["fixed"] == QUICK_FIXED


def test_index_map_against_brute_force(quick, shapes3d):
    base = shapes3d.index_to_factors(np.arange(len(shapes3d)))
    keep = (base[:, 0] == 0) & (base[:, 3] == 4) & (base[:, 4] == 0)
    expected = np.flatnonzero(keep)  # the base indices of the sub-grid, in grid order
    np.testing.assert_array_equal(quick.base_indices(np.arange(1500)), expected)
    np.testing.assert_array_equal(quick.factors_at(np.arange(1500)), base[keep][:, [1, 2, 5]])


def test_observations_and_sampling(quick, shapes3d):
    idx = np.array([0, 17, 1499, 640])
    np.testing.assert_array_equal(quick.observations_at(idx),
                                  shapes3d.observations_at(quick.base_indices(idx)))
    f, x = quick.sample(5, rng=3)
    assert f.shape == (5, 3) and x.shape == (5, 3, 64, 64)
    np.testing.assert_array_equal(x, quick.observations_at(quick.factors_to_index(f)))
    f = quick.sample_factors(30_000, rng=0)
    for j, size in enumerate(quick.factor_sizes):  # uniform on the sub-grid
        counts = np.bincount(f[:, j], minlength=size)
        assert counts.min() > 0.8 * 30_000 / size
    train, ev, test = quick.split(seed=0)
    assert (len(train), len(ev), len(test)) == (1200, 150, 150)
    assert len(np.union1d(np.union1d(train, ev), test)) == 1500


def test_registry_and_nested(quick):
    loaded = datasets.load("subgrid", base="shapes3d", fixed=QUICK_FIXED)
    np.testing.assert_array_equal(loaded.observations_at([5]), quick.observations_at([5]))
    nested = datasets.subgrid(quick, fixed={"orientation": 7})
    assert nested.factor_names == ("wall_hue", "object_hue") and len(nested) == 100
    np.testing.assert_array_equal(nested.observations_at([23]),
                                  quick.observations_at(quick.factors_to_index([[2, 3, 7]])))
    ds = datasets.load("dsprites")
    fallback = datasets.subgrid(ds, fixed={"shape": 0, "scale": 5, "orientation": 0})
    assert len(fallback) == 1024 and fallback.factor_names == ("posX", "posY")


def test_subgrid_of_noisy_keeps_the_noise(shapes3d):
    nz = datasets.noisy(shapes3d, 0.1, seed=1)
    sg = datasets.subgrid(nz, fixed=QUICK_FIXED)
    np.testing.assert_array_equal(sg.observations_at([9]),
                                  nz.observations_at(sg.base_indices([9])))


def test_subgrid_errors(shapes3d):
    with pytest.raises(ValueError, match=r"fixed\['shape'\] must be a category .* \[0, 4\); got 4"):
        datasets.subgrid(shapes3d, fixed={"shape": 4})
    with pytest.raises(ValueError, match=r"fixed\['scale'\] must be a class index .* got -1"):
        datasets.subgrid(shapes3d, fixed={"scale": -1})
    with pytest.raises(ValueError, match="unknown factor 'colour'.*floor_hue"):
        datasets.subgrid(shapes3d, fixed={"colour": 0})
    with pytest.raises(TypeError, match=r"fixed\['shape'\] must be an int; got str"):
        datasets.subgrid(shapes3d, fixed={"shape": "cube"})
    with pytest.raises(ValueError, match="at least one factor must stay free"):
        datasets.subgrid(shapes3d, fixed=dict.fromkeys(shapes3d.factor_names, 0))
    with pytest.raises(ValueError, match="continuous factors"):
        datasets.subgrid(datasets.load("synth-lin", n_samples=50), fixed={})
    with pytest.raises(TypeError, match="fixed must be a mapping"):
        datasets.subgrid(shapes3d, fixed=[("shape", 0)])
    with pytest.raises(ValueError, match="base_options apply only when base is a dataset name"):
        datasets.subgrid(shapes3d, fixed={}, base_options={"path": "x"})


# ------------------------------------------------------------------ noisy reflect

@settings(max_examples=20, deadline=None)
@given(eps=st.floats(0.0, 1.0), seed=st.integers(0, 2**31), idx=st.integers(0, 737_279))
def test_noisy_reflect_bounds(eps, seed, idx):
    ds = datasets.load("dsprites")
    nz = datasets.noisy(ds, eps, seed=seed, boundary="reflect")
    x = ds.observations_at([idx])
    y = nz.observations_at([idx])
    assert y.dtype == np.float32 and y.min() >= 0.0 and y.max() <= 1.0
    assert np.abs(y.astype(np.float64) - x).max() <= eps + 2e-7


def test_noisy_reflect_formula_and_determinism(shapes3d):
    nz = datasets.noisy(shapes3d, 0.175, seed=4, boundary="reflect")
    idx = np.array([3, 100_000, 479_999])
    x = shapes3d.observations_at(idx).astype(np.float64)
    y = x + nz.noise(idx)
    expected = y - 2 * np.maximum(y - 1, 0) + 2 * np.maximum(-y, 0)  # SPEC-ch4 §6.3's form
    got = nz.observations_at(idx)
    np.testing.assert_allclose(got, expected, atol=1e-7)
    np.testing.assert_array_equal(got, nz.observations_at(idx))
    np.testing.assert_array_equal(got[1:2], datasets.noisy(shapes3d, 0.175, seed=4,
                                                           boundary="reflect").observations_at([100_000]))
    # binary pixels keep the noise's magnitude: black pixels move up by |u|, white ones down
    ds = datasets.load("dsprites")
    dn = datasets.noisy(ds, 0.1, seed=0, boundary="reflect")
    xb, yb = ds.observations_at([12345]), dn.observations_at([12345])
    u = np.abs(dn.noise(np.array([12345])))
    np.testing.assert_allclose(np.abs(yb - xb), u, atol=1e-7)
    # the default stays "clip"
    clip = datasets.noisy(ds, 0.1, seed=0)
    assert clip.boundary == "clip"
    np.testing.assert_array_equal(clip.observations_at([12345]),
                                  np.clip(xb + dn.noise(np.array([12345])), 0, 1))


def test_noisy_reflect_errors(shapes3d):
    with pytest.raises(ValueError, match="boundary must be one of"):
        datasets.noisy(shapes3d, 0.1, boundary="wrap")
    with pytest.raises(ValueError, match="eps must be <= 1 with boundary='reflect'"):
        datasets.noisy(shapes3d, 1.5, boundary="reflect")
    with pytest.raises(ValueError, match="not an image dataset"):
        datasets.noisy(datasets.load("synth-lin", n_samples=50), 0.1, boundary="reflect")
