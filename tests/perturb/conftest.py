"""Fixtures of the perturbation tests: the tiny dataset registered as ``tiny-bars`` and a few
tiny β-VAE runs trained once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture(autouse=True)
def tiny_registered(monkeypatch):
    from vaecore.datasets import registry

    monkeypatch.setitem(registry._REGISTRY, "tiny-bars", ("perturb_tiny", "TinyBars"))


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory):
    """Tiny runs on TinyBars: three β-VAEs (seeds 0–2), one over-pruned β-VAE (β = 40) and one AE."""
    import torch

    from vaecore.datasets import registry
    import perturb_tiny

    registry._REGISTRY["tiny-bars"] = ("perturb_tiny", "TinyBars")
    root = tmp_path_factory.mktemp("tiny_runs")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = [root / "sweep" / f"bvae{s}" for s in range(3)]
        for s, d in enumerate(runs):
            perturb_tiny.train_tiny(d, seed=s)
        pruned = root / "sweep" / "pruned"
        perturb_tiny.train_tiny(pruned, seed=0, beta=40.0, steps=60)
        ae = root / "ae0"
        perturb_tiny.train_tiny(ae, seed=0, model="ae", steps=10)
    finally:
        torch.set_num_threads(before)
        registry._REGISTRY.pop("tiny-bars", None)
    return {"bvae": runs, "pruned": pruned, "ae": ae, "sweep": root / "sweep"}


@pytest.fixture(scope="session")
def tiny_manipulator(tiny_runs, tmp_path_factory):
    """A manipulator trained for 30 iterations (ε = 0.1) between two tiny β-VAEs: its folder and
    the training result."""
    import torch

    from vaecore.datasets import registry
    from vaecore.perturb import train_manipulator
    import perturb_tiny

    out = tmp_path_factory.mktemp("tiny_manipulator")
    registry._REGISTRY["tiny-bars"] = ("perturb_tiny", "TinyBars")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        res = train_manipulator(tiny_runs["bvae"][0], tiny_runs["bvae"][1], eps=0.1, steps=30, out=out,
                                dataset=perturb_tiny.TinyBars(), lr=1e-3, batch_size=16, latent_samples=2,
                                log_every=5, checkpoint_every=10, progress=False)
    finally:
        torch.set_num_threads(before)
        registry._REGISTRY.pop("tiny-bars", None)
    return out, res
