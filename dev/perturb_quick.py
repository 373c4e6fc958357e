"""Quick-scale perturbation (SPEC-ch4 §8, dSprites fallback): two conv β-VAEs (β 8, latent 2) on the
posX × posY subgrid of dSprites (shape square, scale 1, orientation 0; 1,024 images), selection by
MIG, a manipulator trained 200 iterations (ε 0.1, batch 32, 2 latent samples, thesis Adam), then
gap before/after, total pixel variance of the altered vs original subgrid, wall times.

    OMP_NUM_THREADS=1 python dev/perturb_quick.py OUT [--vae-steps 600] [--steps 200]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import vaecore
from vaecore import perturb
from vaecore._io import atomic_write_json
from vaecore.datasets import DSprites
from vaecore.datasets.base import GridDataset


class DSpritesXY(GridDataset):
    """posX × posY of dSprites at shape 0, scale index 5, orientation 0; images held in memory."""

    name = "dsprites-xy"
    factor_names = ("posX", "posY")
    factor_sizes = (32, 32)
    factor_kinds = ("ordinal", "ordinal")
    factor_values = (np.linspace(0, 1, 32), np.linspace(0, 1, 32))
    observation_shape = (1, 64, 64)
    is_image = True

    def __init__(self) -> None:
        full = DSprites()
        f = np.array([[0, 5, 0, x, y] for x in range(32) for y in range(32)])
        self._x = full.observations_at(full.factors_to_index(f))

    def observations_at(self, indices):
        return self._x[self._check_indices("observations_at", indices)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--vae-steps", type=int, default=600)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    a = ap.parse_args()
    torch.set_num_threads(1)
    ds = DSpritesXY()
    result: dict = {"vae_steps": a.vae_steps, "steps": a.steps, "runs": {}}
    for s in a.seeds:
        t = time.perf_counter()
        cfg = vaecore.TrainConfig(dataset="dsprites-xy", model="beta-vae", beta=8.0, latent_dim=2,
                                  architecture="conv", likelihood="bernoulli", lr=5e-4, batch_size=64,
                                  steps=a.vae_steps, seed=s, monitor_every=10_000, log_every=100,
                                  checkpoint_every=10_000, threads=1)
        vaecore.train(cfg, out=a.out / f"bvae{s}", progress=False, dataset=ds)
        result["runs"][s] = {"wall_s": time.perf_counter() - t}
    t = time.perf_counter()
    sel = perturb.select_models(a.out, n=1, dataset=ds)
    result["selection"] = sel.as_dict()
    result["selection_wall_s"] = time.perf_counter() - t
    print(sel.markdown(), flush=True)
    t = time.perf_counter()
    res = perturb.train_manipulator([sel.runs[r] for r in sel.disentangled], [sel.runs[r] for r in sel.entangled],
                                    eps=0.1, steps=a.steps, out=a.out / "mod", dataset=ds, batch_size=32,
                                    latent_samples=2, log_every=20, progress=False)
    result["perturb_wall_s"] = time.perf_counter() - t
    mod = vaecore.datasets.load("perturbed", base=ds, manipulator=a.out / "mod")
    idx = np.arange(len(ds))
    x, xpp = ds.observations_at(idx), mod.observations_at(idx)
    result.update(gap_initial=res.history[0]["gap"], gap_final=res.history[-1]["gap"],
                  history=res.history, variance_original=float(x.var(0).sum()),
                  variance_altered=float(xpp.var(0).sum()),
                  max_abs_change=float(np.abs(xpp - x).max()))
    result["variance_ratio"] = result["variance_altered"] / result["variance_original"]
    atomic_write_json(a.out / "quick.json", result)
    print(json.dumps({k: v for k, v in result.items() if k not in ("history", "selection")}, indent=1))


if __name__ == "__main__":
    main()
