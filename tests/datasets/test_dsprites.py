"""Procedural dSprites: rendering properties and native/twin parity (bit-exact)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaecore import datasets
from vaecore.datasets.dsprites import DEFAULT_GEOMETRY, dsprites_poses, render_dsprites

DS = datasets.load("dsprites")


def _grid(shape=0, scale=5, orient=0, x=16, y=16):
    return np.array([[shape, scale, orient, x, y]])


def _centroid(img):
    ii, jj = np.nonzero(img[0])
    return jj.mean(), ii.mean()


def test_binary_float32_and_uint8_agree():
    idx = np.random.default_rng(0).integers(0, len(DS), 300)
    x = DS.observations_at(idx)
    assert x.dtype == np.float32 and x.shape == (300, 1, 64, 64)
    assert set(np.unique(x)) <= {0.0, 1.0}
    u8 = render_dsprites(DS.factor_values_of(DS.index_to_factors(idx)), dtype=np.uint8)
    np.testing.assert_array_equal(u8.astype(np.float32), x)
    np.testing.assert_array_equal(DS.observations(DS.index_to_factors(idx)), x)


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_area_grows_with_scale(shape):
    areas = [DS.observations(_grid(shape, s)).sum() for s in range(6)]
    assert all(a < b for a, b in zip(areas, areas[1:]))
    # area ~ scale^2: ratio between scale 1 and 0.5 close to 4
    assert 3.3 < areas[-1] / areas[0] < 4.7


def test_square_scale1_area_close_to_real_dataset():
    # scale-1 square of the real file covers about 18 x 18 pixels
    area = DS.observations(_grid(0, 5, 0)).sum()
    assert 300 <= area <= 350


@pytest.mark.parametrize("shape", [0, 1, 2])
def test_centroid_moves_monotonically(shape):
    cx = [_centroid(DS.observations(_grid(shape, 3, 7, x, 10))[:, 0])[0] for x in range(32)]
    cy = [_centroid(DS.observations(_grid(shape, 3, 7, 20, y))[:, 0])[1] for y in range(32)]
    assert all(a < b for a, b in zip(cx, cx[1:]))
    assert all(a < b for a, b in zip(cy, cy[1:]))
    # other coordinate stays put
    ys = [_centroid(DS.observations(_grid(shape, 3, 7, x, 10))[:, 0])[1] for x in (0, 31)]
    assert abs(ys[0] - ys[1]) < 0.25


def test_ellipse_orientation_0_and_pi_equal():
    # centre at the image centre (32, 32): the pixel grid is symmetric under a half turn
    vals = np.array([[1, 1.0, 0.0, 0.5, 0.5], [1, 1.0, np.pi, 0.5, 0.5],
                     [0, 0.8, 0.0, 0.5, 0.5], [0, 0.8, np.pi / 2, 0.5, 0.5]])
    img = render_dsprites(vals)
    np.testing.assert_array_equal(img[0], img[1])
    np.testing.assert_array_equal(img[2], img[3])  # square: quarter-turn symmetric
    assert not np.array_equal(img[0], render_dsprites(vals[[0]] + [[0, 0, np.pi / 2, 0, 0]])[0])
    # grid end points 0 and 2π are the same image, as in the real file
    np.testing.assert_array_equal(DS.observations(_grid(2, 5, 0)), DS.observations(_grid(2, 5, 39)))


def test_all_pixels_inside_image():
    # the window keeps every shape at every scale/orientation inside the image
    g = DEFAULT_GEOMETRY
    for s in range(3):
        r = g.radius(s) * g.half_size
        assert g.window[0] * 64 - r >= 0 and g.window[1] * 64 + r <= 64
    # rendering corners: no truncation -> same area as at the centre
    for shape in range(3):
        for orient in (0, 5, 13, 31):
            centre = DS.observations(_grid(shape, 5, orient, 16, 16)).sum()
            for x, y in ((0, 0), (31, 0), (0, 31), (31, 31)):
                img = DS.observations(_grid(shape, 5, orient, x, y))
                assert abs(img.sum() - centre) <= 0.03 * centre


def test_radius_bounds_every_pixel():
    vals = DS.factor_values_of(DS.sample_factors(400, 1))
    img = render_dsprites(vals, backend="reference")[:, 0]
    poses = dsprites_poses(vals)
    c = np.arange(64) + 0.5
    for k in range(len(vals)):
        d2 = (c[None, :] - poses[k, 1]) ** 2 + (c[:, None] - poses[k, 2]) ** 2
        assert (d2[img[k] > 0] <= poses[k, 5] ** 2).all()


def test_shapes_differ_and_heart_points_down():
    imgs = DS.observations(np.array([[s, 5, 0, 16, 16] for s in range(3)]))
    assert not np.array_equal(imgs[0], imgs[1]) and not np.array_equal(imgs[1], imgs[2])
    heart = imgs[2, 0]
    rows = np.nonzero(heart.any(axis=1))[0]
    top_width, bottom_width = heart[rows[2]].sum(), heart[rows[-2]].sum()
    assert top_width > bottom_width  # lobes at the top, tip at the bottom (y down)
    # left-right mirror symmetric at orientation 0 when centred on the image centre
    centred = render_dsprites([[2, 1.0, 0.0, 0.5, 0.5], [1, 1.0, 0.0, 0.5, 0.5]])[:, 0]
    np.testing.assert_array_equal(centred, centred[:, :, ::-1])
    assert not np.array_equal(centred[0], centred[0, ::-1, :])


@pytest.mark.native
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.floats(0.3, 1.3), st.floats(-7, 7), st.floats(-0.1, 1.1),
                  st.floats(-0.1, 1.1)),
        min_size=0, max_size=12,
    )
)
def test_native_matches_twin_exactly(rows):
    vals = np.array(rows, dtype=np.float64).reshape(-1, 5)
    a = render_dsprites(vals, backend="native", dtype=np.uint8)
    b = render_dsprites(vals, backend="reference", dtype=np.uint8)
    np.testing.assert_array_equal(a, b)


@pytest.mark.native
def test_native_matches_twin_on_grid_sample_and_geometries():
    f = DS.sample_factors(500, np.random.default_rng(11))
    vals = DS.factor_values_of(f)
    np.testing.assert_array_equal(render_dsprites(vals, backend="native"),
                                  render_dsprites(vals, backend="reference"))
    geo = DEFAULT_GEOMETRY.replace(window=(0.25, 0.75), half_size=7.5,
                                   ellipse_axes=(1.2, 0.6), heart_scale=0.9, clockwise=True)
    np.testing.assert_array_equal(render_dsprites(vals[:100], geometry=geo, backend="native"),
                                  render_dsprites(vals[:100], geometry=geo, backend="reference"))


def test_render_bad_input():
    with pytest.raises(ValueError, match="values must have 5 columns"):
        render_dsprites(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"values\[:, 0\] \(shape\) must be 0, 1 or 2"):
        render_dsprites([[3, 1, 0, 0, 0]])
    with pytest.raises(ValueError, match="scale\\) must be > 0"):
        render_dsprites([[0, 0, 0, 0, 0]])
    with pytest.raises(ValueError, match="must be finite"):
        render_dsprites([[0, 1, np.inf, 0, 0]])
    with pytest.raises(TypeError, match="dtype must be uint8 or float32"):
        render_dsprites([[0, 1, 0, 0, 0]], dtype=np.float64)
    with pytest.raises(ValueError, match="backend must be one of"):
        render_dsprites([[0, 1, 0, 0, 0]], backend="cpp")
    assert render_dsprites(np.zeros((0, 5))).shape == (0, 1, 64, 64)


@pytest.mark.native
def test_kernel_contract_checks():
    from vaecore._native import native

    with pytest.raises(ValueError, match="out must have dtype uint8 or float32"):
        native().render_dsprites(np.zeros((1, 8)), np.zeros((1, 64, 64)))
    with pytest.raises(ValueError, match="out must have shape"):
        native().render_dsprites(np.zeros((2, 8)), np.zeros((1, 64, 64), np.uint8))
    with pytest.raises(ValueError, match="shape ids"):
        native().render_dsprites(np.full((1, 8), 5.0), np.zeros((1, 64, 64), np.uint8))
