"""A tiny ground-truth image dataset for the perturbation tests: 2 shapes × 4 × 4 positions of a
3 × 3 sprite on a 1 × 10 × 10 canvas (32 binary images), plus helpers training tiny β-VAEs on it.

Imported by name (``perturb_tiny``) after the tests' fixture put this folder on ``sys.path``.
"""

from __future__ import annotations

import numpy as np

from vaecore.datasets.base import GridDataset

SPRITES = (
    np.ones((3, 3), np.float32),
    np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.float32),
)


class TinyBars(GridDataset):
    """2 shapes × 4 posX × 4 posY, binary 1 × 10 × 10 images."""

    name = "tiny-bars"
    factor_names = ("shape", "posX", "posY")
    factor_sizes = (2, 4, 4)
    factor_kinds = ("categorical", "ordinal", "ordinal")
    factor_values = (np.arange(2.0), np.arange(4.0), np.arange(4.0))
    observation_shape = (1, 10, 10)
    is_image = True

    def __init__(self) -> None:
        pass

    def observations_at(self, indices):
        idx = self._check_indices("observations_at", indices)
        f = self.index_to_factors(idx)
        out = np.zeros((len(idx), 1, 10, 10), np.float32)
        for k, (s, px, py) in enumerate(f):
            r, c = 1 + 2 * int(py), 1 + 2 * int(px)
            out[k, 0, r : r + 3, c : c + 3] = SPRITES[int(s)]
        return out


def train_tiny(out, *, seed: int, beta: float = 0.5, steps: int = 200, model: str = "beta-vae"):
    """A tiny MLP β-VAE on TinyBars (latent 3), written to ``out``."""
    import vaecore

    cfg = vaecore.TrainConfig(dataset="tiny-bars", model=model, beta=beta, latent_dim=3, architecture="mlp",
                              encoder_hidden=(32,), decoder_hidden=(32,), likelihood="bernoulli", lr=1e-2,
                              batch_size=16, steps=steps, seed=seed, monitor_every=10_000, log_every=steps,
                              checkpoint_every=10_000, threads=1)
    return vaecore.train(cfg, out=out, progress=False, dataset=TinyBars())
