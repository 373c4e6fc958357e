"""Self-contained training of the paired chapter-4 models PCL and the weak GAN (SPEC-ch4 §4–§5).

Small loops, separate from :func:`vaecore.train` (which also trains both, as ``pcl`` and
``weak-gan``, with checkpoints and resume):
each step draws one batch from a pair sampler (:func:`vaecore.datasets.pairs` or any object
with the same ``batch(n)`` / ``sample_grid(n)`` / ``render(indices)`` methods) and hands it to
the model's ``train_step(batch, optimizers, generator)``, which does the whole update (PCL:
one Adam step and the clamp of ``a``; the weak GAN: D + E step, then G step). Randomness:
the sampler's own seed for the data, ``seed`` for the model-side noise (PCL's batch
negatives, the GAN's fake codes); build models with :func:`build_seeded` for seeded weights.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from vaecore._validation import check_float, check_int
from vaecore.datasets.pairs import pairs
from vaecore.models.pcl import PCL
from vaecore.models.weak_gan import WeakGAN

__all__ = ["PairedTrainResult", "build_seeded", "paired_sampler", "train_pcl", "train_weak_gan"]

Progress = Callable[[dict[str, float]], None]


@dataclass(frozen=True)
class PairedTrainResult:
    """``steps`` run, ``history`` (one entry per ``log_every`` steps: ``step`` and the mean of
    every loss term over the window) and wall-clock ``seconds``."""

    steps: int
    history: tuple[dict[str, float], ...]
    seconds: float


def build_seeded(cls: Any, observation_shape: Sequence[int], latent_dim: int, options: Any = None,
                 *, seed: int = 0) -> Any:
    """``cls.build(observation_shape, latent_dim, options)`` with torch's RNG seeded by ``seed``
    inside ``torch.random.fork_rng`` (the global RNG is left as it was)."""
    seed = check_int("build_seeded", "seed", seed, minimum=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return cls.build(observation_shape, latent_dim, options)


def paired_sampler(model: Any, ds: Any, *, seed: int = 0, indices: Any = None, rate: float = 1.0) -> Any:
    """The pair sampler a paired model trains on: ``laplace`` pairs for PCL, the options'
    ``pairing`` (share / change) for the weak GAN. Raises ``ValueError`` for a dataset without a
    full factor grid (via :func:`pairs`) and, for the weak GAN, when its ``latent_dim`` is not
    the dataset's number of factors (the label y indexes the factors)."""
    if isinstance(model, PCL):
        kind = "laplace"
    elif isinstance(model, WeakGAN):
        kind = model.options.pairing
    else:
        raise TypeError(f"paired_sampler: model must be a PCL or WeakGAN; got {type(model).__name__}")
    sampler = pairs(ds, kind, rate=rate, indices=indices, seed=seed)
    if isinstance(model, WeakGAN) and ds.n_factors != model.latent_dim:
        raise ValueError(f"paired_sampler: the weak GAN's latent_dim must equal the number of factors "
                         f"of {ds.name!r} ({ds.n_factors}: {', '.join(ds.factor_names)}); got "
                         f"latent_dim={model.latent_dim}")
    return sampler


def _progress(progress: bool | Progress, total: int, desc: str) -> tuple[Progress | None, Any]:
    if callable(progress):
        return progress, None
    if not progress:
        return None, None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, leave=False)

    def show(entry: dict[str, float]) -> None:
        bar.update(int(entry["step"]) - bar.n)
        bar.set_postfix({k: f"{v:.4g}" for k, v in entry.items() if k != "step"}, refresh=False)

    return show, bar


def _run(model: Any, draw: Callable[[], Any], optimizers: dict[str, torch.optim.Optimizer], *, steps: int,
         seed: int, log_every: int, progress: bool | Progress, desc: str) -> PairedTrainResult:
    """The shared step loop: draw, ``model.train_step``, NaN check, windowed means, progress."""
    noise = torch.Generator().manual_seed(seed)
    report, bar = _progress(progress, steps, desc)
    history: list[dict[str, float]] = []
    sums: dict[str, float] = {}
    n_acc, start = 0, time.perf_counter()
    model.train()
    try:
        for step in range(1, steps + 1):
            terms = model.train_step(draw(), optimizers, noise)
            values = {k: float(v.detach().item()) for k, v in terms.items()}
            if not all(map(math.isfinite, values.values())):
                from vaecore.training import NonFiniteLossError

                parts = ", ".join(f"{k}={v:.6g}" for k, v in values.items())
                raise NonFiniteLossError(f"{desc}: non-finite loss at step {step} ({parts}); lower "
                                         "the learning rate or check the data")
            sums = {k: sums.get(k, 0.0) + v for k, v in values.items()}
            n_acc += 1
            if step % log_every == 0 or step == steps:
                entry = {"step": float(step), **{k: v / n_acc for k, v in sums.items()}}
                history.append(entry)
                sums, n_acc = {}, 0
                if report is not None:
                    report(entry)
    finally:
        if bar is not None:
            bar.close()
        model.eval()
    return PairedTrainResult(steps, tuple(history), time.perf_counter() - start)


def _check_common(func: str, steps: int, batch_size: int, seed: int, log_every: int) -> None:
    check_int(func, "steps", steps, minimum=1)
    check_int(func, "batch_size", batch_size, minimum=2)
    check_int(func, "seed", seed, minimum=0)
    check_int(func, "log_every", log_every, minimum=1)


def train_pcl(model: PCL, sampler: Any, *, steps: int, batch_size: int = 64, lr: float = 1e-4,
              betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, seed: int = 0,
              log_every: int = 100, progress: bool | Progress = False) -> PairedTrainResult:
    """Train PCL for ``steps`` Adam steps (SPEC-ch4 §4 decision: Adam 1e-4, (0.9, 0.999), 1e-8;
    batch 64 real + 64 contrast pairs). ``sampler`` gives laplace pairs (and grid-uniform
    contrast images with ``negatives="grid"``; :meth:`PCL.draw`). Returns the logged history
    (``loss``, ``accuracy``, mean real / contrast logits); raises ``NonFiniteLossError`` on
    NaN."""
    func = "train_pcl"
    if not isinstance(model, PCL):
        raise TypeError(f"{func}: model must be a PCL; got {type(model).__name__}")
    _check_common(func, steps, batch_size, seed, log_every)
    check_float(func, "lr", lr, minimum=0.0, strict=True)
    kind = getattr(sampler, "kind", "laplace")
    if kind != "laplace":
        raise ValueError(f"{func}: sampler must give 'laplace' pairs (SPEC-ch4 §4); got kind {kind!r}")
    device = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=tuple(betas), eps=eps)  # type: ignore[arg-type]
    return _run(model, lambda: model.draw(sampler, batch_size, device), {"main": opt}, steps=steps,
                seed=seed, log_every=log_every, progress=progress, desc="pcl")


def train_weak_gan(model: WeakGAN, sampler: Any, *, steps: int, batch_size: int = 64, seed: int = 0,
                   log_every: int = 100, progress: bool | Progress = False) -> PairedTrainResult:
    """Train the weak GAN for ``steps`` iterations (each: D + E step, then G step; Adam per
    player from its options, SPEC-ch4 §5: lr 1e-3, (0.5, 0.999), 1e-8; batch 64). ``sampler``
    gives pairs of the options' ``pairing`` whose labels index the model's latents."""
    func = "train_weak_gan"
    if not isinstance(model, WeakGAN):
        raise TypeError(f"{func}: model must be a WeakGAN; got {type(model).__name__}")
    _check_common(func, steps, batch_size, seed, log_every)
    kind = getattr(sampler, "kind", model.options.pairing)
    if kind != model.options.pairing:
        raise ValueError(f"{func}: sampler must give {model.options.pairing!r} pairs (the model's "
                         f"pairing); got kind {kind!r}")
    n_factors = len(getattr(sampler, "sizes", range(model.latent_dim)))
    if n_factors != model.latent_dim:
        raise ValueError(f"{func}: the sampler's dataset has {n_factors} factors; the model's "
                         f"latent_dim must equal it; got {model.latent_dim}")
    device = next(model.parameters()).device
    return _run(model, lambda: sampler.batch(batch_size, device), model.make_optimizers(), steps=steps,
                seed=seed, log_every=log_every, progress=progress, desc="weak-gan")
