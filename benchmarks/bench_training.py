"""Training-loop overhead: ``vaecore.train`` vs a bare hand-written torch loop, same model and data.

Case "dsprites-mlp": the dSprites MLP β-VAE of Table 3.1 (encoder 4096-1200-1200-10 ReLU, decoder 5-1200-1200-1200-4096
tanh, Bernoulli, AdaGrad 1e-2, β = 4), batch 64, on random binary 64 × 64 images held in memory
(the data's content does not change the cost of a step). Both sides run the same number of steps;
``vaecore.train`` includes its setup (model build, data preload, the polarized monitor at the first
and last step on a 64-image probe), so the ratio is an upper bound of the per-step overhead.
Case "synth-lin": the quick Synth. Lin. linear β-VAE (batch 256, Adam), where per-step Python work
matters most (a step is ~1 ms).

Run: ``PYTHONPATH=$PWD pytest benchmarks/bench_training.py --benchmark-enable``.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vaecore.training import ArrayDataset, TrainConfig, train
from vaecore.training.run import make_model

# The first optimizer built in a process imports torch._dynamo (seconds): do it before timing.
torch.optim.Adagrad([torch.zeros(1, requires_grad=True)])


def _setup(case, quick):
    rng = np.random.default_rng(0)
    if case == "synth-lin":
        x = rng.random((10_000, 3)).astype(np.float32)
        cfg = TrainConfig.preset("synth-lin", scale="quick", steps=200 if quick else 4000)
        return ArrayDataset(x), cfg
    n = 512 if quick else 2048
    steps = 3 if quick else 30
    x = (rng.random((n, 1, 64, 64)) < 0.1).astype(np.float32)
    ds = ArrayDataset(x, is_image=True)
    cfg = TrainConfig.preset("dsprites", scale="thesis", steps=steps, probe_size=64, log_every=20)
    if quick:
        cfg = cfg.replace(encoder_hidden=(64,), decoder_hidden=(64,))
    return ds, cfg


def _bare_loop(ds, cfg):
    """What a researcher would write by hand: the same model, optimizer and batch order."""
    shape = tuple(ds.observation_shape)
    model = make_model(cfg, shape, "bernoulli" if ds.is_image else "gaussian")
    opt_cls = torch.optim.Adagrad if cfg.optimizer == "adagrad" else torch.optim.Adam
    opt = opt_cls(model.parameters(), lr=cfg.lr)
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
        if ds.is_image:
            recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        else:
            recon = (logits - x).pow(2).sum() / x.shape[0]
        kl = 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum() / x.shape[0]
        loss = recon + cfg.beta * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


@pytest.mark.parametrize("loop", ["vaecore.train", "bare"])
@pytest.mark.parametrize("case", ["dsprites-mlp", "synth-lin"])
def test_training_overhead(benchmark, loop, case, quick):
    ds, cfg = _setup(case, quick)
    benchmark.group = (
        "training loop: dSprites MLP beta-VAE, batch 64" if case == "dsprites-mlp"
        else "training loop: Synth. Lin. linear beta-VAE, batch 256 (1 torch thread)"
    )
    benchmark.extra_info.update(
        {"steps": cfg.steps, "batch_size": cfg.batch_size, "torch": torch.__version__,
         "threads": torch.get_num_threads()}
    )
    if loop == "vaecore.train":
        run = benchmark.pedantic(lambda: train(cfg, progress=False, dataset=ds), rounds=3, iterations=1)
        assert run.step == cfg.steps
    else:
        before = torch.get_num_threads()
        if case == "synth-lin":
            torch.set_num_threads(1)  # as vaecore.train does for tiny models
        try:
            benchmark.pedantic(lambda: _bare_loop(ds, cfg), rounds=3, iterations=1)
        finally:
            torch.set_num_threads(before)
