"""``Run``: a trained model with its config, history, polarized-regime summary and folder;
``load_run`` reads one back from its folder.

A run folder holds ``config.json`` (:meth:`TrainConfig.to_dict`), ``checkpoint.pt`` (model,
optimizers, RNG states, sampler state, history, monitor records; ``weights_only``-loadable) and
``run.json`` (status, step, observation shape, likelihood, polarized summary, last losses).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaecore.models import LatentModel
from vaecore.training.checkpoint import CHECKPOINT, load_checkpoint, load_model_state
from vaecore.training.config import TrainConfig

__all__ = ["Run", "load_run", "make_model"]


def make_model(config: TrainConfig, observation_shape: tuple[int, ...], likelihood: str) -> LatentModel:
    """Build the model of ``config`` with parameters initialised from ``config.seed``."""
    from vaecore.models import registry

    seed = int(np.random.SeedSequence(config.seed).generate_state(1)[0])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return registry.build(config.model, config.networks(observation_shape, likelihood), config.model_options)


@dataclass
class Run:
    """A training run.

    Attributes
    ----------
    config
        The :class:`TrainConfig`.
    model
        The trained model (``encode``, ``decode``, ``decoder``, ``represent``, ``latent_dim``).
    history
        Loss terms averaged over every ``log_every`` steps: dicts with ``step`` and the terms.
    polarized
        Summary of the polarized-regime monitor: ``fraction_polarized`` (Table 3.2) and the last
        record (ΔKL, L_KL, L≈KL, active set, √var μ_j, E σ_j², active units).
    monitor
        All monitor records.
    dir
        The run folder, or None for a run kept in memory.
    step
        Training steps done.
    observation_shape, likelihood
        What the model was built for.
    """

    config: TrainConfig
    model: LatentModel
    history: list[dict[str, Any]]
    polarized: dict[str, Any]
    dir: Path | None
    step: int
    observation_shape: tuple[int, ...]
    likelihood: str
    monitor: list[dict[str, Any]] = field(default_factory=list)
    _dataset: Any = field(default=None, repr=False)

    @property
    def dataset(self) -> Any:
        """The run's dataset (loaded on first use for runs read from disk)."""
        if self._dataset is None:
            from vaecore import datasets

            self._dataset = datasets.load(self.config.dataset, **self.config.dataset_options)
        return self._dataset

    def split(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(train, eval, test) indices of the run's dataset (``split_seed`` of the config)."""
        return self.dataset.split(seed=self.config.split_seed)

    def represent(self, x: Any) -> Any:
        """Posterior means of ``x`` (see :meth:`LatentModel.represent`)."""
        return self.model.represent(x)


def load_run(path: str | Path, *, device: str = "cpu") -> Run:
    """Load a run folder written by :func:`vaecore.train` (model weights from ``checkpoint.pt``).

    Raises
    ------
    FileNotFoundError
        When the folder has no ``config.json`` or ``checkpoint.pt``.
    """
    d = Path(path)
    for name in ("config.json", CHECKPOINT):
        if not (d / name).is_file():
            raise FileNotFoundError(f"load_run: {str(d)!r} is not a run folder (no {name})")
    config = TrainConfig.from_json(d / "config.json")
    ckpt = load_checkpoint(d / CHECKPOINT)
    shape = tuple(int(s) for s in ckpt["observation_shape"])
    likelihood = str(ckpt["likelihood"])
    model = make_model(config, shape, likelihood)
    load_model_state(model, ckpt["model"], d)
    model.to(device)
    model.eval()
    info: dict[str, Any] = {}
    if (d / "run.json").is_file():
        info = json.loads((d / "run.json").read_text())
    from vaecore.training.monitor import summarize

    monitor = list(ckpt.get("monitor", []))
    polarized = info.get("polarized") or summarize(monitor, int(ckpt["step"]))
    return Run(
        config=config,
        model=model,
        history=list(ckpt.get("history", [])),
        polarized=polarized,
        dir=d,
        step=int(ckpt["step"]),
        observation_shape=shape,
        likelihood=likelihood,
        monitor=monitor,
    )
