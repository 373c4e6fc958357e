"""Training-loop overhead: ``vaecore.train`` vs a bare hand-written torch loop, same model and data.

Case "dsprites-mlp": the dSprites MLP β-VAE of Table 3.1 (encoder 4096-1200-1200-10 ReLU, decoder 5-1200-1200-1200-4096
tanh, Bernoulli, AdaGrad 1e-2, β = 4), batch 64, on random binary 64 × 64 images held in memory
(the data's content does not change the cost of a step). Both sides run the same number of steps;
``vaecore.train`` includes its setup (model build, data preload, the polarized monitor at the first
and last step on a 64-image probe), so the ratio is an upper bound of the per-step overhead.
Case "synth-lin": the quick Synth. Lin. linear β-VAE (batch 256, Adam), where per-step Python work
matters most (a step is ~1 ms).

Case "dsprites-conv" (``test_conv_step_interleaved``): disentanglement_lib's conv β-VAE (SPEC-ch4
§1, Adam 1e-4, β = 8, batch 64) on random binary 64 × 64 images, one torch thread. Four loops
alternate in one process, several rounds: the bare loop in NCHW (the step as it was), the bare
loop in channels-last, ``vaecore.train`` with :data:`vaecore.training.speed.CONV_CHANNELS_LAST`
off (as it was) and on (now). Printed: process CPU ms per step (``train`` includes its setup), the overhead
of ``train`` over the bare loop of the same format, and the speed-up of channels-last.

Run: ``PYTHONPATH=$PWD pytest benchmarks/bench_training.py --benchmark-enable -s``.
"""

import statistics
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vaecore.training import ArrayDataset, TrainConfig, speed, train
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


def _bare_loop(ds, cfg, channels_last=False):
    """What a researcher would write by hand: the same model, optimizer and batch order."""
    shape = tuple(ds.observation_shape)
    model = make_model(cfg, shape, "bernoulli" if ds.is_image else "gaussian")
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
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


def _time(fn):
    """Process CPU seconds of ``fn()`` (one torch thread: the work done, which other jobs on a
    shared machine distort far less than wall time)."""
    t = time.process_time()
    fn()
    return time.process_time() - t


def test_conv_step_interleaved(quick):
    rng = np.random.default_rng(0)
    ds = ArrayDataset((rng.random((512, 1, 64, 64)) < 0.1).astype(np.float32), is_image=True)
    steps = 2 if quick else 10
    cfg = TrainConfig.preset("dsprites-ch4", scale="thesis", steps=steps, probe_size=64, threads=1,
                             log_every=steps, monitor_every=steps)
    before = (torch.get_num_threads(), speed.CONV_CHANNELS_LAST)

    def run_train(channels_last):
        speed.CONV_CHANNELS_LAST = channels_last
        train(cfg, progress=False, dataset=ds)

    loops = {
        "bare NCHW": lambda: _bare_loop(ds, cfg, channels_last=False),
        "bare channels-last": lambda: _bare_loop(ds, cfg, channels_last=True),
        "train NCHW": lambda: run_train(False),
        "train channels-last": lambda: run_train(True),
    }
    times = {k: [] for k in loops}
    torch.set_num_threads(1)
    try:
        for fn in loops.values():  # warm-up
            fn()
        for _ in range(1 if quick else 3):
            for name, fn in loops.items():
                times[name].append(_time(fn) / steps * 1e3)
    finally:
        torch.set_num_threads(before[0])
        speed.CONV_CHANNELS_LAST = before[1]
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nconv beta-VAE, batch 64, 1 thread, {steps} steps, CPU ms/step (median; rounds):")
    for k, v in times.items():
        print(f"  {k:22s} {med[k]:8.1f}  {[round(x) for x in v]}")
    print(f"  train overhead NCHW {med['train NCHW'] / med['bare NCHW'] - 1:+.1%}, "
          f"channels-last {med['train channels-last'] / med['bare channels-last'] - 1:+.1%}")
    print(f"  speed-up channels-last: bare {med['bare NCHW'] / med['bare channels-last']:.2f}x, "
          f"train {med['train NCHW'] / med['train channels-last']:.2f}x")
