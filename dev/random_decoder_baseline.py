"""Table 3.3's random-decoder column: DtO of untrained decoders of Table 3.1's architectures.

For each dataset's thesis-scale preset, build the model with ``seed`` 0..N-1 exactly as
``vaecore.train`` does (``make_model``: PyTorch's default initialisation), take the decoder
Jacobians at 1,000 samples of the prior N(0, I) (the ``dto`` evaluator's ``points="prior"``)
and report mean ± std of the DtO over seeds beside the thesis's value. No data is needed.

    python dev/random_decoder_baseline.py [--seeds 20]

Measured (20 seeds, 2 CPU cores, 30 s): Synth. Lin. 0.73 ± 0.30 (thesis 0.79 ± 0.21), Synth.
Non-Lin. 0.60 ± 0.16 (0.89 ± 0.16), MNIST 1.95 ± 0.05 (2.11 ± 0.11), dSprites 1.64 ± 0.06
(1.86 ± 0.11). Fashion-MNIST has MNIST's decoder (Table 3.1) and the same thesis value.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from vaecore import jacobians
from vaecore.metrics import dto
from vaecore.training import TrainConfig
from vaecore.training.run import make_model

# dataset: (observation shape, likelihood, thesis value mean ± std from Table 3.3)
ARCHITECTURES = {
    "synth-lin": ((3,), "gaussian", "0.79 ± 0.21"),
    "synth-nonlin": ((6,), "gaussian", "0.89 ± 0.16"),
    "mnist": ((28, 28), "bernoulli", "2.11 ± 0.11"),
    "dsprites": ((64, 64), "bernoulli", "1.86 ± 0.11"),
}


def untrained_dto(dataset: str, seed: int, n_points: int = 1000) -> float:
    shape, likelihood, _ = ARCHITECTURES[dataset]
    config = TrainConfig.preset(dataset, scale="thesis", model="beta-vae", seed=seed, steps=0)
    model = make_model(config, shape, likelihood)
    z = np.random.default_rng(seed).standard_normal((n_points, config.latent_dim))
    return dto(jacobians(model.decoder, torch.as_tensor(z, dtype=torch.float32), of="mean")).value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    for dataset, (_, _, thesis) in ARCHITECTURES.items():
        values = [untrained_dto(dataset, seed) for seed in range(args.seeds)]
        print(f"{dataset:13s} untrained DtO {np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}"
              f"  (min {min(values):.2f}, max {max(values):.2f}; thesis {thesis})", flush=True)


if __name__ == "__main__":
    main()
