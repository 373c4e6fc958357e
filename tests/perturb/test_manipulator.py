"""The manipulator m(w), the factor encoding and the reflected perturbation (SPEC-ch4 §6.2–6.3,
§10 checks 1 and 6)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from vaecore.datasets import DSprites, Shapes3D
from vaecore.perturb import FactorEncoding, Manipulator, ManipulatorSpec, encode_factors, perturb_array, reflect
from vaecore.perturb.manipulator import n_parameters


@pytest.mark.parametrize("cls, dim, params", [(DSprites, 7, 379_017), (Shapes3D, 9, 380_045)])
def test_conv_manipulator_parameter_count_and_zero_start(cls, dim, params):
    enc = FactorEncoding.of(cls())
    assert enc.dim == dim
    m = Manipulator(ManipulatorSpec.default(enc.dim, cls.observation_shape), seed=3)
    assert m.spec.architecture == "conv"
    assert n_parameters(m) == params
    w = torch.as_tensor(enc.encode(cls().sample_factors(4, 0)))
    out = m(w)
    assert out.shape == (4, *cls.observation_shape)
    assert torch.count_nonzero(out) == 0  # m ≡ 0 at step 0


def test_encoding_closed_form():
    enc = FactorEncoding.of(DSprites())
    w = enc.encode(np.array([[2, 5, 0, 31, 16], [0, 0, 39, 0, 1]]))
    # shape one-hot (3), then scale/5, orientation/39, posX/31, posY/31
    np.testing.assert_array_equal(w[0], np.array([0, 0, 1, 1, 0, 1, 16 / 31], np.float32))
    np.testing.assert_allclose(w[1], [1, 0, 0, 0, 1, 0, 1 / 31], rtol=1e-7)
    np.testing.assert_array_equal(encode_factors(DSprites(), [[2, 5, 0, 31, 16]]), w[:1])
    with pytest.raises(ValueError, match="posX"):
        enc.encode(np.array([[0, 0, 0, 32, 0]]))
    with pytest.raises(ValueError, match="shape"):
        enc.encode(np.zeros((2, 4), int))


def test_spec_refuses_conv_on_small_images():
    with pytest.raises(ValueError, match="64, 64"):
        ManipulatorSpec(5, (1, 10, 10), "conv")
    assert ManipulatorSpec.default(5, (1, 10, 10)).architecture == "mlp"


unit = st.floats(0.0, 1.0, width=32)


@given(
    x=arrays(np.float32, (6, 1, 5, 5), elements=unit),
    m=arrays(np.float32, (6, 1, 5, 5), elements=st.floats(-1.0, 1.0, width=32)),
    eps=st.floats(1e-6, 1.0),
)
def test_perturbation_bounds_property(x, m, eps):
    xpp = perturb_array(x, m, eps)
    assert xpp.dtype == np.float32
    assert xpp.min() >= 0.0 and xpp.max() <= 1.0
    assert np.abs(xpp.astype(np.float64) - x.astype(np.float64)).max() <= eps


@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.1, 50.0), eps=st.sampled_from([0.1, 0.175, 0.5, 1.0]))
def test_bounds_for_any_manipulator(seed, scale, eps):
    """Any weights of m (random, blown up by ``scale`` so tanh saturates) keep both bounds."""
    spec = ManipulatorSpec(4, (2, 4, 4), "mlp", (8,))
    m = Manipulator(spec, seed=seed)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=g))
        w = torch.rand((16, 4), generator=g)
        mm = m(w).numpy()
    rng = np.random.default_rng(seed)
    x = rng.choice(np.array([0.0, 1.0, 0.5, 1e-8, 1 - 2**-24], np.float32), size=(16, 2, 4, 4))
    xpp = perturb_array(x, mm, eps)
    assert np.abs(mm).max() <= 1.0
    assert xpp.min() >= 0.0 and xpp.max() <= 1.0
    assert np.abs(xpp.astype(np.float64) - x).max() <= eps


def test_bounds_on_ten_thousand_samples_and_torch_twin():
    rng = np.random.default_rng(0)
    x = rng.choice([0.0, 1.0], size=(10_000, 8)).astype(np.float32)
    x[::3] = rng.random((len(x[::3]), 8), dtype=np.float32)
    m = np.tanh(3 * rng.standard_normal((10_000, 8))).astype(np.float32)
    for eps in (0.1, 0.175):
        xpp = perturb_array(x, m, eps)
        assert xpp.min() >= 0 and xpp.max() <= 1
        assert np.abs(xpp.astype(np.float64) - x).max() <= eps
        # the differentiable training formula agrees up to float32 rounding
        t = reflect(torch.as_tensor(x), torch.as_tensor(m), eps).numpy()
        np.testing.assert_allclose(t, xpp, atol=2e-7)
        # closed form of the reflection at the borders: x = 1, m = 1 → 1 − ε; x = 0, m = −1 → ε
    np.testing.assert_allclose(perturb_array(np.ones(1, np.float32), np.ones(1, np.float32), 0.1), [0.9])
    np.testing.assert_allclose(perturb_array(np.zeros(1, np.float32), -np.ones(1, np.float32), 0.1), [0.1])


def test_zero_manipulation_is_identity_bit_for_bit():
    x = np.random.default_rng(1).random((50, 3, 4, 4), dtype=np.float32)
    out = perturb_array(x, np.zeros_like(x), 0.175)
    assert out.tobytes() == x.tobytes()
