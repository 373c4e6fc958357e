"""Decoder Jacobians (thesis §3.2.6) against their cost floor, in one run (issue 15.5).

Groups ``jacobians-mlp`` (5→1200→1200→1200→4096, tanh, N = 1000) and ``jacobians-conv``
(disentanglement_lib's deconv decoder, d = 10, 64×64, Bernoulli mean, N = 256):

- ``floor``: ``d + 1`` plain forward passes of the same decoder per point (batched in the same
  chunks): the work any forward-mode Jacobian must at least do;
- ``layerwise``: ``vaecore.jacobians`` (its default path for these decoders);
- ``jacfwd``: ``vaecore.jacobians(method="jacfwd")`` — ``vmap(jacfwd)``, the general fallback.

Goal: layerwise ≤ 1.3× floor. ``VAECORE_BENCH_QUICK=1`` shrinks every size for CI.
"""

from __future__ import annotations

import os

import pytest
import torch

import vaecore
from vaecore.models.base import Decoder
from vaecore.models.conv import conv_decoder

QUICK = os.environ.get("VAECORE_BENCH_QUICK") == "1"
CHUNK = 256


def _mlp() -> tuple[torch.nn.Module, int, int]:
    hidden, out = (32, 64) if QUICK else (1200, 4096)
    torch.manual_seed(0)
    layers: list[torch.nn.Module] = [torch.nn.Linear(5, hidden), torch.nn.Tanh()]
    for _ in range(2):
        layers += [torch.nn.Linear(hidden, hidden), torch.nn.Tanh()]
    return torch.nn.Sequential(*layers, torch.nn.Linear(hidden, out)).eval(), 5, 20 if QUICK else 1000


def _conv() -> tuple[torch.nn.Module, int, int]:
    torch.manual_seed(0)
    return Decoder(conv_decoder(10, (1, 64, 64)), "bernoulli").eval(), 10, 4 if QUICK else 256


DECODERS = {"mlp": _mlp, "conv": _conv}


def _floor(dec: torch.nn.Module, zz: torch.Tensor, rows: int) -> None:
    with torch.no_grad():
        for start in range(0, len(zz), rows):
            dec(zz[start : start + rows])


@pytest.mark.parametrize("impl", ["floor", "layerwise", "jacfwd"])
@pytest.mark.parametrize("arch", list(DECODERS))
def test_jacobians_vs_floor(benchmark, arch, impl):
    dec, d, n = DECODERS[arch]()
    z = torch.randn(n, d, generator=torch.Generator().manual_seed(1))
    benchmark.group = f"jacobians-{arch}"
    benchmark.extra_info.update({"N": n, "d": d, "impl": impl, "chunk_size": CHUNK})
    if impl == "floor":
        zz = torch.randn(n * (d + 1), d, generator=torch.Generator().manual_seed(2))
        benchmark.pedantic(_floor, args=(dec, zz, CHUNK * (d + 1)), rounds=3, iterations=1)
        return
    J = benchmark.pedantic(vaecore.jacobians, args=(dec, z),
                           kwargs={"chunk_size": CHUNK, "method": impl}, rounds=3, iterations=1)
    assert J.shape[0] == n and J.shape[-1] == d
