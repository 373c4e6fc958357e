"""Procedural Shapes3D: grid, colours, geometry, native/twin parity."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from vaecore import datasets
from vaecore.datasets.shapes3d import DEFAULT_SCENE, hue_to_rgb, render_shapes3d

DS = datasets.load("shapes3d")


def test_grid():
    assert len(DS) == 480_000 and DS.factor_sizes == (10, 10, 10, 8, 4, 15)
    assert list(DS.strides) == [48000, 4800, 480, 60, 15, 1]
    np.testing.assert_allclose(DS.factor_values[0], np.arange(10) / 10)
    np.testing.assert_allclose(DS.factor_values[3], np.linspace(0.75, 1.25, 8))
    np.testing.assert_allclose(DS.factor_values[5][[0, 7, 14]], [-30.0, 0.0, 30.0])
    assert DS.observation_shape == (3, 64, 64) and DS.categorical[4]
    idx = np.random.default_rng(0).integers(0, len(DS), 2000)
    np.testing.assert_array_equal(DS.factors_to_index(DS.index_to_factors(idx)), idx)


def test_hue_to_rgb_matches_colorsys():
    h = np.linspace(0, 1, 101)
    ref = np.array([colorsys.hsv_to_rgb(v, 1.0, 1.0) for v in h])
    np.testing.assert_allclose(hue_to_rgb(h), ref, atol=1e-12)


def _hue(rgb):
    return np.array([colorsys.rgb_to_hsv(*p)[0] for p in rgb])


def _changed(a, b):
    return np.abs(a - b).sum(axis=0) > 1e-6


@pytest.mark.parametrize("shape", [0, 1, 2, 3])
def test_surface_hues_match_factors(shape):
    base = np.array([[0.1, 0.4, 0.7, 1.0, shape, 10.0]])
    img = render_shapes3d(base)[0]
    assert img.min() >= 0 and img.max() <= 1 and img.dtype == np.float32
    for col, hue in ((0, 0.1), (1, 0.4), (2, 0.7)):
        other = base.copy()
        other[0, col] = (hue + 0.5) % 1.0
        mask = _changed(img, render_shapes3d(other)[0])
        assert mask.sum() > 80
        pix = img[:, mask].T
        np.testing.assert_allclose(_hue(pix), hue, atol=1e-5)
    # where the surfaces are: wall at the top row, floor at the bottom row, object at the centre
    floor = _changed(img, render_shapes3d(base + [[0.5, 0, 0, 0, 0, 0]])[0])
    wall = _changed(img, render_shapes3d(base + [[0, 0.5, 0, 0, 0, 0]])[0])
    obj = _changed(img, render_shapes3d(base + [[0, 0, 0.5, 0, 0, 0]])[0])
    assert wall[0].all() and floor[-1].all() and not (floor & wall).any()
    assert (floor | wall | obj).all()  # no background: every ray hits something
    ii, jj = np.nonzero(obj)
    assert abs(jj.mean() - 31.5) < 3 and 20 < ii.mean() < 50


@pytest.mark.parametrize("shape", [0, 1, 2, 3])
def test_object_area_grows_with_scale(shape):
    areas = []
    for scale in DS.factor_values[3]:
        a = render_shapes3d([[0.0, 0.3, 0.6, scale, shape, 0.0]])[0]
        b = render_shapes3d([[0.0, 0.3, 0.1, scale, shape, 0.0]])[0]
        areas.append(_changed(a, b).sum())
    assert all(x < y for x, y in zip(areas, areas[1:]))


def test_orientation_mirror_symmetry_and_effect():
    # orbiting by +θ and -θ around a rotationally symmetric object mirrors the image
    # (the light comes from one side, so compare the object silhouettes, not the shading)
    def silhouette(shape, angle):
        a = render_shapes3d([[0.0, 0.3, 0.6, 1.0, shape, angle]])[0]
        b = render_shapes3d([[0.0, 0.3, 0.1, 1.0, shape, angle]])[0]
        return _changed(a, b)

    for shape in (1, 2, 3):
        a, b = silhouette(shape, 20.0), silhouette(shape, -20.0)
        assert np.mean(a != b[:, ::-1]) < 0.005
    c0 = render_shapes3d([[0.0, 0.3, 0.6, 1.0, 0, 0.0]])[0]
    c1 = render_shapes3d([[0.0, 0.3, 0.6, 1.0, 0, 30.0]])[0]
    assert np.mean(np.abs(c0 - c1) > 1e-3) > 0.05


def test_shapes_differ():
    imgs = render_shapes3d([[0.0, 0.3, 0.6, 1.0, s, 0.0] for s in range(4)])
    for i in range(4):
        for j in range(i + 1, 4):
            assert np.mean(np.abs(imgs[i] - imgs[j]) > 1e-3) > 0.005


@pytest.mark.native
def test_native_matches_twin():
    """Stated tolerance: the twin follows the kernel's arithmetic exactly, so float32 images
    agree to 1e-6 everywhere except at most 0.1 % of the pixels (silhouette rays decided by
    the last bit), and uint8 images to at most 1 level there."""
    rng = np.random.default_rng(5)
    vals = DS.factor_values_of(DS.sample_factors(12, rng))
    vals = np.concatenate([vals, [[0.05, 0.55, 0.95, 0.6, s, 33.3] for s in range(4)]])
    a = render_shapes3d(vals, backend="native")
    b = render_shapes3d(vals, backend="reference")
    far = np.abs(a - b) > 1e-6
    assert far.mean() <= 1e-3
    a8 = render_shapes3d(vals, backend="native", dtype=np.uint8).astype(int)
    b8 = render_shapes3d(vals, backend="reference", dtype=np.uint8).astype(int)
    assert np.mean(a8 != b8) <= 1e-3
    np.testing.assert_array_equal(np.round(a * 255), a8)


def test_observations_and_determinism():
    idx = [0, 1234, 479_999]
    x = DS.observations_at(idx)
    assert x.shape == (3, 3, 64, 64) and x.dtype == np.float32
    np.testing.assert_array_equal(x, DS.observations_at(idx))
    np.testing.assert_array_equal(x, DS.observations(DS.index_to_factors(idx)))


def test_bad_input():
    with pytest.raises(ValueError, match="values must have 6 columns"):
        render_shapes3d(np.zeros((1, 5)))
    with pytest.raises(ValueError, match=r"\(shape\) must be 0, 1, 2 or 3"):
        render_shapes3d([[0, 0, 0, 1, 4, 0]])
    with pytest.raises(ValueError, match=r"\(scale\) must be > 0"):
        render_shapes3d([[0, 0, 0, -1, 0, 0]])
    with pytest.raises(ValueError, match="must be finite"):
        render_shapes3d([[0, np.nan, 0, 1, 0, 0]])
    with pytest.raises(TypeError, match="scene must be a Shapes3DScene"):
        datasets.load("shapes3d", scene={})
    assert render_shapes3d(np.zeros((0, 6))).shape == (0, 3, 64, 64)
    assert DEFAULT_SCENE.ambient + DEFAULT_SCENE.diffuse <= 1.0
