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
    """Four β-VAE runs (seeds 0–3) and one AE run on TinyBars: their folders."""
    import torch

    from vaecore.datasets import registry
    import perturb_tiny

    registry._REGISTRY["tiny-bars"] = ("perturb_tiny", "TinyBars")
    root = tmp_path_factory.mktemp("tiny_runs")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = [root / f"bvae{s}" for s in range(4)]
        for s, d in enumerate(runs):
            perturb_tiny.train_tiny(d, seed=s)
        ae = root / "ae0"
        perturb_tiny.train_tiny(ae, seed=0, model="ae")
    finally:
        torch.set_num_threads(before)
        registry._REGISTRY.pop("tiny-bars", None)
    return {"bvae": runs, "ae": ae, "root": root}
