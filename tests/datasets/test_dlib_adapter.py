"""vaecore datasets through disentanglement_lib's GroundTruthData interface."""

from __future__ import annotations

import numpy as np
import pytest

from vaecore.datasets import load
from vaecore.datasets.dlib_adapter import as_dlib


def test_dsprites_interface_matches_dlib_conventions():
    ds = load("dsprites")
    data = as_dlib(ds)
    assert data.num_factors == 5
    assert data.factors_num_values == [3, 6, 40, 32, 32]  # dlib's DSprites (latent factors 1..5)
    assert data.observation_shape == [64, 64, 1]  # channels last
    f = data.sample_factors(7, np.random.RandomState(0))
    assert f.shape == (7, 5) and (f >= 0).all() and (f < np.array(data.factors_num_values)).all()
    x = data.sample_observations_from_factors(f, np.random.RandomState(0))
    assert x.shape == (7, 64, 64, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[..., 0], ds.observations(f)[:, 0])  # same images, moved axis
    f2, x2 = data.sample(7, np.random.RandomState(3))
    f3, x3 = data.sample(7, np.random.RandomState(3))
    np.testing.assert_array_equal(f2, f3)  # a deterministic function of the caller's RandomState
    np.testing.assert_array_equal(x2, x3)
    np.testing.assert_array_equal(x2[..., 0], ds.observations(f2)[:, 0])


def test_shapes3d_channels_last_and_bad_input():
    data = as_dlib(load("shapes3d"))
    assert data.observation_shape == [64, 64, 3]
    assert data.sample_observations(2, np.random.RandomState(0)).shape == (2, 64, 64, 3)
    with pytest.raises(TypeError, match="random_state must be a numpy RandomState"):
        data.sample_factors(2, 0)
    with pytest.raises(ValueError, match="continuous"):
        as_dlib(load("synth-lin"))
    with pytest.raises(TypeError, match="GroundTruthDataset"):
        as_dlib(np.zeros(3))
