"""Training-loop overhead: ``vaecore.train`` vs a bare hand-written torch loop, same model and data.

The dSprites MLP β-VAE of Table 3.1 (encoder 4096-1200-1200-10 ReLU, decoder 5-1200-1200-1200-4096
tanh, Bernoulli, AdaGrad 1e-2, β = 4), batch 64, on random binary 64 × 64 images held in memory
(the data's content does not change the cost of a step). Both sides run the same number of steps;
``vaecore.train`` includes its setup (model build, data preload, the polarized monitor at the first
and last step on a 64-image probe), so the ratio is an upper bound of the per-step overhead.

Run: ``PYTHONPATH=$PWD pytest benchmarks/bench_training.py --benchmark-enable``.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vaecore.training import ArrayDataset, TrainConfig, train
from vaecore.training.run import make_model


def _setup(quick):
    n = 512 if quick else 2048
    steps = 3 if quick else 40
    rng = np.random.default_rng(0)
    x = (rng.random((n, 1, 64, 64)) < 0.1).astype(np.float32)
    ds = ArrayDataset(x, is_image=True)
    cfg = TrainConfig.preset("dsprites", scale="thesis", steps=steps, probe_size=64, log_every=20)
    if quick:
        cfg = cfg.replace(encoder_hidden=(64,), decoder_hidden=(64,))
    return ds, cfg


def _bare_loop(ds, cfg):
    """What a researcher would write by hand: the same model, optimizer and batch order."""
    model = make_model(cfg, (1, 64, 64), "bernoulli")
    opt = torch.optim.Adagrad(model.parameters(), lr=cfg.lr)
    data = torch.from_numpy(ds.observations_at(ds.split(seed=0)[0]))
    g = torch.Generator().manual_seed(0)
    n = data.shape[0]
    perm, pos = torch.randperm(n, generator=g), 0
    k = cfg.latent_dim
    for _ in range(cfg.steps):
        if pos + cfg.batch_size > n:
            perm, pos = torch.randperm(n, generator=g), 0
        x = data[perm[pos : pos + cfg.batch_size]]
        pos += cfg.batch_size
        h = model.encoder(x)
        mu, logvar = h[:, :k], h[:, k:]
        z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=g)
        logits = model.decoder(z)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum() / x.shape[0]
        loss = recon + cfg.beta * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@pytest.mark.parametrize("loop", ["vaecore.train", "bare"])
def test_training_overhead(benchmark, loop, quick):
    ds, cfg = _setup(quick)
    benchmark.group = "training loop: dSprites MLP beta-VAE, batch 64"
    benchmark.extra_info.update(
        {"steps": cfg.steps, "batch_size": cfg.batch_size, "torch": torch.__version__,
         "threads": torch.get_num_threads()}
    )
    if loop == "vaecore.train":
        run = benchmark.pedantic(lambda: train(cfg, progress=False, dataset=ds), rounds=3, iterations=1)
        assert run.step == cfg.steps
    else:
        benchmark.pedantic(lambda: _bare_loop(ds, cfg), rounds=3, iterations=1)
