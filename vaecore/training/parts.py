"""What a training run is made of: :class:`TrainingParts` (data sampler, model, optimizers, noise
generator, probe batch) and :func:`torch_threads`, the loop's thread policy.

Randomness: three seeds derived from ``config.seed`` (``numpy.random.SeedSequence``) drive the
parameter initialisation (inside ``torch.random.fork_rng``, so torch's global RNG is untouched;
see :func:`vaecore.training.run.make_model`), the batch order and the posterior noise /
permutations (two ``torch.Generator`` s); a fourth picks the probe batch. The states are part of
the checkpoint (:meth:`TrainingParts.state_dict`), so N steps + resume + N steps equals 2N steps
bit for bit on the CPU.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaecore.models import LatentModel
from vaecore.training.checkpoint import load_model_state
from vaecore.training.config import TrainConfig
from vaecore.training.data import BatchSampler
from vaecore.training.paired import PairBatches
from vaecore.training.run import make_model
from vaecore.training.speed import prepare_model

__all__ = ["TINY_WORK", "TrainingParts", "choose_threads", "torch_threads"]

TINY_WORK = 5_000_000
_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "adagrad": torch.optim.Adagrad,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}


def resolve_device(name: str) -> torch.device:
    """``config.device`` as a torch device ("auto": CUDA when available)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train: device 'cuda' requested but torch sees no CUDA device")
    return torch.device(name)


def main_optimizer(name: str, params: list, lr: float, options: Mapping[str, Any]) -> torch.optim.Optimizer:
    """The optimizer of the ``"main"`` parameter group from the config's settings."""
    opts = {k: tuple(v) if isinstance(v, list) else v for k, v in dict(options).items()}
    try:
        return _OPTIMIZERS[name](params, lr=lr, **opts)
    except TypeError as exc:
        raise ValueError(f"train: optimizer_options {dict(options)!r} do not fit {name}: {exc}") from exc


def seeds(seed: int) -> tuple[int, int, int]:
    """Seeds of the batch order, the posterior noise and the probe (the init seed is the first)."""
    s = np.random.SeedSequence(seed).generate_state(4)
    return int(s[1]), int(s[2]), int(s[3])


def choose_threads(config: TrainConfig, model: torch.nn.Module) -> int:
    """``config.threads``, or for 0: 1 thread for tiny models (batch × parameters < TINY_WORK,
    where thread hand-offs cost more than they save), torch's current setting otherwise."""
    if config.threads:
        return config.threads
    n_params = sum(p.numel() for p in model.parameters())
    return 1 if config.batch_size * n_params < TINY_WORK else torch.get_num_threads()


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads; the previous setting is restored."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _hook_up(model: LatentModel, dataset: Any, sampler: BatchSampler | PairBatches) -> None:
    """Model-specific data hooks: ``model.check_dataset(dataset)`` (the weak GAN: latent dim =
    number of factors) and ``model.draw`` as the pair batches' drawer (PCL: grid negatives from
    the pair sampler's own generator, so they resume with it)."""
    check = getattr(model, "check_dataset", None)
    if check is not None:
        check(dataset)
    draw = getattr(model, "draw", None)
    if draw is not None and isinstance(sampler, PairBatches):
        sampler.draw = draw


@dataclass
class TrainingParts:
    """The stateful parts of a run; :meth:`state_dict` is what a checkpoint holds of them."""

    model: LatentModel
    optimizers: dict[str, torch.optim.Optimizer]
    sampler: BatchSampler | PairBatches
    noise: torch.Generator
    probe: torch.Tensor
    observation_shape: tuple[int, ...]
    likelihood: str
    total_steps: int
    device: torch.device

    @classmethod
    def build(cls, config: TrainConfig, dataset: Any, device: torch.device) -> TrainingParts:
        """Load the data (``dataset`` or ``config.dataset``), build the model and optimizers."""
        if dataset is None:
            from vaecore import datasets as _datasets

            dataset = _datasets.load(config.dataset, **config.dataset_options)
        shape = tuple(int(s) for s in dataset.observation_shape)
        likelihood = config.likelihood or ("bernoulli" if getattr(dataset, "is_image", False) else "gaussian")
        train_idx = np.asarray(dataset.split(seed=config.split_seed)[0])
        if config.max_train is not None:
            train_idx = train_idx[: config.max_train]
        data_seed, noise_seed, probe_seed = seeds(config.seed)
        sampler: BatchSampler | PairBatches
        if config.resolved_pairing is None:
            sampler = BatchSampler(dataset, train_idx, batch_size=config.batch_size, seed=data_seed, device=device)
        else:
            sampler = PairBatches(dataset, train_idx, model=config.model, kind=config.resolved_pairing,
                                  rate=config.pair_rate, k=config.pair_k, batch_size=config.batch_size,
                                  seed=data_seed, device=device)
        total = config.steps if config.steps is not None else config.epochs * sampler.steps_per_epoch
        model = prepare_model(make_model(config, shape, likelihood).to(device), config.architecture, device)
        groups = model.optimizer_groups()
        optimizers = {}
        if "main" in groups:  # the weak GAN has only its three players' optimizers
            optimizers["main"] = main_optimizer(config.optimizer, groups["main"], config.lr, config.optimizer_options)
        optimizers.update({g: model.make_optimizer(g, p) for g, p in groups.items() if g != "main"})
        _hook_up(model, dataset, sampler)
        noise = torch.Generator(device=device).manual_seed(noise_seed)
        n_probe = min(config.probe_size, sampler.n)
        probe_pos = np.sort(np.random.default_rng(probe_seed).choice(sampler.n, size=n_probe, replace=False))
        probe = sampler.observations(probe_pos)
        return cls(model, optimizers, sampler, noise, probe, shape, likelihood, int(total), device)

    @property
    def monitor_on(self) -> bool:
        """Whether the polarized-regime monitor runs (stochastic encoders, ≥ 2 probe points)."""
        return bool(self.model.stochastic) and self.probe.shape[0] >= 2

    @property
    def steps_itself(self) -> bool:
        """Whether the model updates itself in ``train_step`` (the weak GAN's three players)."""
        return bool(getattr(self.model, "steps_itself", False))

    def step(self) -> dict[str, torch.Tensor]:
        """Draw a batch and compute its loss terms (no update: see :meth:`update`); a model that
        :attr:`steps_itself` does its whole update here (``model.train_step``)."""
        if self.steps_itself:
            return self.model.train_step(self.sampler.next(), self.optimizers, self.noise)
        return self.model.losses(self.sampler.next(), self.noise)

    def update(self, terms: dict[str, torch.Tensor]) -> None:
        """Back-propagate ``terms`` (``model.backward``), step every optimizer, then call
        ``model.after_step()`` where defined (PCL's clamp); nothing for a model that
        :attr:`steps_itself`."""
        if self.steps_itself:
            return
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=True)
        self.model.backward(terms)
        for opt in self.optimizers.values():
            opt.step()
        after = getattr(self.model, "after_step", None)
        if after is not None:
            after()

    def state_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "sampler": self.sampler.state_dict(),
            "noise": self.noise.get_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any], where: str | Path | None) -> None:
        load_model_state(self.model, state["model"], where or "memory")
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        self.sampler.load_state_dict(state["sampler"])
        self.noise.set_state(state["noise"])
