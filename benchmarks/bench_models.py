"""Per-model training-step time on disentanglement_lib's conv net (SPEC-ch4 §1, §8; issue 12).

One step = loss terms + backward + every optimizer's step, on random 64 × 64 × 3 images held in
memory, for each chapter-4 model built from the ``shapes3d`` preset at the thesis scale (Glorot
init, Adam 1e-4, its Table 4.1 hyperparameter). Batch: 64 images for the unpaired models, 32 pairs
(= 64 images) for SlowVAE as its source, 64 pairs (= 128 images) for Ada-GVAE / Ada-ML-VAE. One
torch thread (chapter 4's quick scale runs 2 single-thread workers). Compare the medians: the
ratio to the β-VAE's is the cost of a model's step.

Run: ``PYTHONPATH=$PWD pytest benchmarks/bench_models.py --benchmark-enable``.
"""

import pytest
import torch

from vaecore.training import TrainConfig
from vaecore.training.run import make_model

MODELS = ("beta-vae", "beta-tcvae", "factor-vae", "slow-vae", "ada-gvae", "ada-ml-vae")


@pytest.mark.parametrize("name", MODELS)
def test_model_step(benchmark, name, quick):
    cfg = TrainConfig.preset("shapes3d", scale="thesis", model=name)
    model = make_model(cfg, (3, 64, 64), "bernoulli")
    optimizers = [torch.optim.Adam(p, lr=1e-4) for p in model.optimizer_groups().values()]
    g = torch.Generator().manual_seed(0)
    n = 4 if quick else cfg.batch_size
    x1 = (torch.rand(n, 3, 64, 64, generator=g) < 0.5).float()
    batch = x1 if model.pairing is None else (x1, (torch.rand(n, 3, 64, 64, generator=g) < 0.5).float(), None)

    def step():
        terms = model.losses(batch, g)
        for opt in optimizers:
            opt.zero_grad(set_to_none=True)
        model.backward(terms)
        for opt in optimizers:
            opt.step()
        return terms

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        terms = step()  # warm-up, and a finite loss before timing
        assert torch.isfinite(terms["loss"])
        benchmark.group = "chapter-4 model step, dlib conv net, 1 torch thread"
        benchmark.extra_info.update({"batch_size": n, "paired": model.pairing is not None,
                                     "torch": torch.__version__})
        benchmark.pedantic(step, rounds=2 if quick else 10, iterations=1)
    finally:
        torch.set_num_threads(before)
