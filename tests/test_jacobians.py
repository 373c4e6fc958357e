"""vaecore.jacobians: forward-mode decoder Jacobians against finite differences and jacrev."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import vaecore
from vaecore import jacobians


def small_mlp(d: int = 3, n_out: int = 11, likelihood: str | None = None) -> torch.nn.Module:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(d, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.ELU(), torch.nn.Linear(16, n_out)
    ).double()
    if likelihood is not None:
        net.likelihood = likelihood
    return net


def test_exported():
    assert "jacobians" in vaecore.__all__
    assert vaecore.jacobians is jacobians


def test_matches_central_finite_differences():
    net = small_mlp()
    z = torch.randn(9, 3, dtype=torch.float64)
    J = jacobians(net, z, chunk_size=4)
    assert J.shape == (9, 11, 3) and J.dtype == torch.float64
    h = 1e-6
    with torch.no_grad():
        for j in range(3):
            e = torch.zeros(3, dtype=torch.float64)
            e[j] = h
            fd = (net(z + e) - net(z - e)) / (2 * h)
            torch.testing.assert_close(J[:, :, j], fd, rtol=1e-6, atol=1e-8)


def test_matches_jacrev():
    net = small_mlp(d=4, n_out=6)
    z = torch.randn(13, 4, dtype=torch.float64)
    want = torch.func.vmap(torch.func.jacrev(lambda x: net(x[None])[0]))(z)
    torch.testing.assert_close(jacobians(net, z, chunk_size=5), want.detach(), rtol=1e-12, atol=1e-12)


def test_bernoulli_mean_is_sigmoid_of_logits():
    net = small_mlp(likelihood="bernoulli")
    z = torch.randn(5, 3, dtype=torch.float64)
    logits_J = jacobians(net, z, of="logits")
    mean_J = jacobians(net, z, of="mean")
    with torch.no_grad():
        p = torch.sigmoid(net(z))
    torch.testing.assert_close(mean_J, (p * (1 - p))[:, :, None] * logits_J, rtol=1e-12, atol=1e-14)
    gaussian = small_mlp(likelihood="gaussian")
    torch.testing.assert_close(jacobians(gaussian, z), jacobians(gaussian, z, of="logits"))


def test_callable_linear_map_and_image_shaped_output():
    A = torch.randn(12, 2, dtype=torch.float64)
    z = torch.randn(4, 2, dtype=torch.float64)
    J = jacobians(lambda x: (x @ A.T).reshape(-1, 3, 2, 2), z)
    torch.testing.assert_close(J, A.expand(4, 12, 2))


def test_chunking_and_numpy_input():
    net = small_mlp().float()
    z = np.random.default_rng(0).standard_normal((10, 3))  # float64 numpy -> decoder's float32
    J1 = jacobians(net, z, chunk_size=1)
    J3 = jacobians(net, z, chunk_size=3)
    J = jacobians(net, z, chunk_size=256)
    assert J.dtype == torch.float32 and J.shape == (10, 11, 3)
    torch.testing.assert_close(J1, J)
    torch.testing.assert_close(J3, J)
    assert not J.requires_grad


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"decoder": 3}, TypeError, "jacobians: decoder must be an nn.Module or callable; got int"),
        ({"z": torch.zeros(3)}, ValueError, r"jacobians: z must have 2 dimensions \(N, d\); got shape \(3,\)"),
        ({"z": torch.zeros(0, 3)}, ValueError, r"jacobians: z must have at least 1 row and 1 column; got shape \(0, 3\)"),
        ({"z": torch.tensor([[0.0, 1.0, 2.0], [0.0, float("nan"), 1.0]])}, ValueError, "jacobians: z must be finite; got NaN or inf in row 1"),
        ({"z": torch.zeros(2, 3, dtype=torch.bool)}, TypeError, "jacobians: z must have a real floating or integer dtype; got torch.bool"),
        ({"z": np.zeros((2, 3), dtype=bool)}, TypeError, "jacobians: z must have a numeric dtype; got dtype bool"),
        ({"z": [[0.0, 1.0, 2.0]]}, TypeError, "jacobians: z must be a numpy array or torch tensor; got list"),
        ({"chunk_size": 0}, ValueError, "jacobians: chunk_size must be >= 1; got 0"),
        ({"chunk_size": True}, TypeError, "jacobians: chunk_size must be an int; got bool"),
        ({"of": "probs"}, ValueError, r"jacobians: of must be one of \('mean', 'logits'\); got 'probs'"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = {"decoder": small_mlp(), "z": torch.zeros(2, 3, dtype=torch.float64)}
    args.update(kwargs)
    decoder, z = args.pop("decoder"), args.pop("z")
    with pytest.raises(exc, match=match):
        jacobians(decoder, z, **args)


# ------------------------------------------------------------ layerwise forward mode vs jacfwd

def _decoders():
    from vaecore.models.base import Decoder
    from vaecore.models.conv import conv_decoder
    from vaecore.models.mlp import mlp_decoder

    torch.manual_seed(1)
    acts = [torch.nn.ReLU(), torch.nn.Tanh(), torch.nn.Sigmoid(), torch.nn.LeakyReLU(0.2),
            torch.nn.ELU(0.7), torch.nn.Softplus(beta=2.0, threshold=3.0)]
    layers: list[torch.nn.Module] = [torch.nn.Linear(4, 12)]
    for act in acts:
        layers += [act, torch.nn.Linear(12, 12)]
    every_act = torch.nn.Sequential(*layers, torch.nn.Linear(12, 2 * 3 * 3), torch.nn.Unflatten(1, (2, 3, 3)),
                                    torch.nn.Conv2d(2, 3, 2, padding=1), torch.nn.Flatten()).double()
    return {
        "every-activation": (every_act, 4),
        "vaecore-mlp-bernoulli": (Decoder(mlp_decoder(3, (20, 20), (1, 5, 5), "relu"), "bernoulli").double(), 3),
        "vaecore-conv": (Decoder(conv_decoder(4, (1, 64, 64)), "gaussian").double(), 4),
    }


@pytest.mark.parametrize("name", ["every-activation", "vaecore-mlp-bernoulli", "vaecore-conv"])
def test_layerwise_equals_jacfwd(name):
    from vaecore._forward_mode import layerwise_plan

    dec, d = _decoders()[name]
    assert layerwise_plan(dec) is not None  # the fast path is taken for these decoders
    z = torch.randn(7, d, dtype=torch.float64) * 2  # reaches both sides of every kink
    fast = jacobians(dec, z, method="layerwise", chunk_size=3)
    slow = jacobians(dec, z, method="jacfwd", chunk_size=3)
    assert fast.shape == slow.shape
    torch.testing.assert_close(fast, slow, rtol=1e-7, atol=1e-10)  # float64 rounding order only
    torch.testing.assert_close(jacobians(dec, z, chunk_size=3), fast, rtol=0, atol=0)  # auto: layerwise


def test_layerwise_matches_finite_differences_for_conv_transpose():
    from vaecore.models.base import Decoder
    from vaecore.models.conv import conv_decoder

    torch.manual_seed(2)
    dec = Decoder(conv_decoder(3, (3, 64, 64)), "bernoulli").double()
    z = torch.randn(2, 3, dtype=torch.float64)
    J = jacobians(dec, z, method="layerwise")
    h = 1e-6
    for j in range(3):
        e = torch.zeros(3, dtype=torch.float64)
        e[j] = h
        with torch.no_grad():
            fd = (torch.sigmoid(dec(z + e)) - torch.sigmoid(dec(z - e))).reshape(2, -1) / (2 * h)
        torch.testing.assert_close(J[:, :, j], fd, rtol=1e-5, atol=1e-8)


def test_unsupported_modules_fall_back_to_jacfwd():
    from vaecore._forward_mode import layerwise_plan

    class Square(torch.nn.Module):
        def forward(self, x):
            return x * x

    dec = torch.nn.Sequential(torch.nn.Linear(2, 5), Square(), torch.nn.Linear(5, 3)).double()
    assert layerwise_plan(dec) is None
    assert layerwise_plan(lambda z: z) is None
    z = torch.randn(4, 2, dtype=torch.float64)
    torch.testing.assert_close(jacobians(dec, z), jacobians(dec, z, method="jacfwd"), rtol=0, atol=0)
    with pytest.raises(ValueError, match="method='layerwise' needs"):
        jacobians(dec, z, method="layerwise")
    with pytest.raises(ValueError, match="method"):
        jacobians(dec, z, method="reverse")
    inplace = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(inplace=True))
    assert layerwise_plan(inplace) is None
