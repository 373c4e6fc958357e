"""``vaecore.train``: one loop for every objective (SPEC §5; thesis §3.3.1).

Per step: draw a batch (:class:`BatchSampler`), compute the model's loss terms, stop with
:class:`NonFiniteLossError` when the loss is not finite (before any update or file write), back-
propagate (``model.backward``), step every optimizer. Every ``log_every`` steps the averaged terms
go to the history (and the progress bar), every ``monitor_every`` steps the polarized monitor
runs, every ``checkpoint_every`` steps (and at the end) an atomic checkpoint is written.

Randomness: three seeds derived from ``config.seed`` (``numpy.random.SeedSequence``) drive the
parameter initialisation (inside ``torch.random.fork_rng``, so torch's global RNG is untouched),
the batch order and the posterior noise / permutations (two ``torch.Generator`` s). All three
states are checkpointed: N steps + resume + N steps equals 2N steps bit for bit on the CPU.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaecore.training.checkpoint import (
    CHECKPOINT,
    load_checkpoint,
    load_model_state,
    save_checkpoint,
    write_json_atomic,
)
from vaecore.training.config import RESUMABLE_CHANGES, TrainConfig
from vaecore.training.data import BatchSampler
from vaecore.training.monitor import monitor_record, summarize
from vaecore.training.run import Run, make_model

__all__ = ["NonFiniteLossError", "coerce_config", "train"]

TINY_WORK = 5_000_000


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN/inf loss; the message names the step and every loss term."""


def coerce_config(config: Any) -> TrainConfig:
    """Accept a :class:`TrainConfig`, a dict, or a path to a TOML/JSON file."""
    if isinstance(config, TrainConfig):
        config.validate()
        return config
    if isinstance(config, Mapping):
        return TrainConfig.from_dict(config)
    if isinstance(config, (str, Path)):
        p = Path(config)
        return TrainConfig.from_json(p) if p.suffix == ".json" else TrainConfig.from_toml(p)
    raise TypeError(
        f"train: config must be a TrainConfig, a dict or a path to a TOML file; got {type(config).__name__}"
    )


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("train: device 'cuda' requested but torch sees no CUDA device")
    return torch.device(name)


def _optimizer(name: str, params: list, lr: float, options: Mapping[str, Any]) -> torch.optim.Optimizer:
    table = {
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "adagrad": torch.optim.Adagrad,
        "sgd": torch.optim.SGD,
        "rmsprop": torch.optim.RMSprop,
    }
    opts = {k: tuple(v) if isinstance(v, list) else v for k, v in dict(options).items()}
    try:
        return table[name](params, lr=lr, **opts)
    except TypeError as exc:
        raise ValueError(f"train: optimizer_options {dict(options)!r} do not fit {name}: {exc}") from exc


def _seeds(seed: int) -> tuple[int, int, int]:
    s = np.random.SeedSequence(seed).generate_state(4)
    return int(s[1]), int(s[2]), int(s[3])  # data, noise, probe (s[0]: init, see make_model)


def _check_resumable(saved: Mapping[str, Any], config: TrainConfig, path: Path) -> None:
    now = config.to_dict()
    diff = sorted(k for k in set(saved) | set(now) if k not in RESUMABLE_CHANGES and saved.get(k) != now.get(k))
    if diff:
        k = diff[0]
        raise ValueError(
            f"train: the checkpoint in {str(path)!r} was made with {k}={saved.get(k)!r}, this config "
            f"has {k}={now.get(k)!r}; pass resume=False and overwrite=True to start over, or use "
            f"another out folder (only {sorted(RESUMABLE_CHANGES)} may change on resume)"
        )


def train(
    config: TrainConfig | Mapping[str, Any] | str | Path,
    *,
    out: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
    overwrite: bool = False,
    dataset: Any = None,
) -> Run:
    """Train a model of the VAE family (SPEC §5; thesis §3.3, Table 3.1).

    Parameters
    ----------
    config
        A :class:`TrainConfig`, a dict with its keys, or a TOML/JSON file.
    out
        Run folder for ``config.json``, checkpoints and ``run.json``; None keeps the run in
        memory only.
    resume
        When ``out`` holds a checkpoint of the same config (only steps/epochs/device/logging
        may differ), continue from it; a finished run is returned as is.
    progress
        Show a tqdm progress bar with the loss terms.
    overwrite
        With ``resume=False``, allow starting over in a folder that holds a checkpoint.
    dataset
        An already loaded dataset object with the :class:`vaecore.datasets` interface to use
        instead of ``vaecore.datasets.load(config.dataset, **config.dataset_options)``.

    Returns
    -------
    Run

    Raises
    ------
    NonFiniteLossError
        When a loss term becomes NaN/inf; names the step and every term. The last checkpoint
        written before stays untouched.
    """
    config = coerce_config(config)
    out_dir = Path(out) if out is not None else None
    ckpt_path = out_dir / CHECKPOINT if out_dir is not None else None
    state = None
    if ckpt_path is not None and ckpt_path.is_file():
        if resume:
            state = load_checkpoint(ckpt_path)
            _check_resumable(state["config"], config, out_dir)
        elif not overwrite:
            raise FileExistsError(
                f"train: {str(out_dir)!r} already holds a run; pass resume=True to continue it or "
                "overwrite=True to start over"
            )
    device = _device(config.device)

    if dataset is None:
        from vaecore import datasets as _datasets

        dataset = _datasets.load(config.dataset, **config.dataset_options)
    observation_shape = tuple(int(s) for s in dataset.observation_shape)
    likelihood = config.likelihood or ("bernoulli" if getattr(dataset, "is_image", False) else "gaussian")
    train_idx = np.asarray(dataset.split(seed=config.split_seed)[0])
    if config.max_train is not None:
        train_idx = train_idx[: config.max_train]

    data_seed, noise_seed, probe_seed = _seeds(config.seed)
    sampler = BatchSampler(dataset, train_idx, batch_size=config.batch_size, seed=data_seed, device=device)
    total = config.steps if config.steps is not None else config.epochs * sampler.steps_per_epoch
    model = make_model(config, observation_shape, likelihood).to(device)
    groups = model.optimizer_groups()
    optimizers = {"main": _optimizer(config.optimizer, groups["main"], config.lr, config.optimizer_options)}
    if "discriminator" in groups:
        optimizers["discriminator"] = torch.optim.Adam(
            groups["discriminator"], lr=config.discriminator_lr, betas=(0.5, 0.9)
        )
    noise = torch.Generator(device=device).manual_seed(noise_seed)
    probe_pos = np.sort(
        np.random.default_rng(probe_seed).choice(sampler.n, size=min(config.probe_size, sampler.n), replace=False)
    )
    probe = sampler.observations(probe_pos)
    monitor_on = model.stochastic and probe.shape[0] >= 2

    step = 0
    history: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    if state is not None:
        if int(state["step"]) > total:
            raise ValueError(
                f"train: the checkpoint in {str(out_dir)!r} is at step {int(state['step'])}, beyond the "
                f"{total} steps of this config"
            )
        load_model_state(model, state["model"], out_dir)
        for name, opt in optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        sampler.load_state_dict(state["sampler"])
        noise.set_state(state["noise"])
        step = int(state["step"])
        history = list(state["history"])
        records = list(state["monitor"])

    last_saved = int(state["step"]) if state is not None else None

    def checkpoint() -> None:
        nonlocal last_saved
        if ckpt_path is None:
            return
        last_saved = step
        save_checkpoint(
            ckpt_path,
            {
                "format": 1,
                "step": step,
                "config": config.to_dict(),
                "observation_shape": list(observation_shape),
                "likelihood": likelihood,
                "model": model.state_dict(),
                "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                "sampler": sampler.state_dict(),
                "noise": noise.get_state(),
                "history": history,
                "monitor": records,
            },
        )

    def write_info(status: str, error: str | None = None) -> None:
        if out_dir is None:
            return
        info = {
            "status": status,
            "step": step,
            "total_steps": total,
            "observation_shape": list(observation_shape),
            "likelihood": likelihood,
            "polarized": summarize(records, step) if monitor_on else {"fraction_polarized": None},
            "last": history[-1] if history else None,
            "error": error,
        }
        write_json_atomic(out_dir / "run.json", json.loads(json.dumps(info, default=float)))

    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out_dir / "config.json", config.to_dict())
    if monitor_on and not records:
        records.append(monitor_record(model, probe, step))

    n_threads = config.threads
    if n_threads == 0:
        n_params = sum(p.numel() for p in model.parameters())
        n_threads = 1 if config.batch_size * n_params < TINY_WORK else torch.get_num_threads()
    threads_before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    on_cpu = device.type == "cpu"
    names: list[str] | None = None
    # Loss terms of the current logging window: Python floats on the CPU (``.item()`` is a
    # copy, ~1 µs), one stacked tensor on accelerators (no device sync per step).
    sums: list[float] = []
    acc: torch.Tensor | None = None
    n_acc = 0
    bar = None
    if progress and step < total:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=step, desc=f"{config.model} on {config.dataset}", leave=False)
    model.train()

    def fail(values: list[float], when: str) -> NonFiniteLossError:
        parts = ", ".join(f"{k}={v:.6g}" for k, v in zip(names or [], values))
        return NonFiniteLossError(
            f"train: non-finite loss {when} ({parts}); the last checkpoint (if any) is kept. "
            "Lower the learning rate or check the data."
        )

    try:
        while step < total:
            batch = sampler.next()
            terms = model.losses(batch, noise)
            if names is None:
                names = list(terms)
                sums = [0.0] * len(names)
            if on_cpu:
                values = [t.item() for t in terms.values()]
                if not all(map(math.isfinite, values)):
                    raise fail(values, f"at step {step + 1}")
            else:
                stacked = torch.stack([t.detach() for t in terms.values()])
            for opt in optimizers.values():
                opt.zero_grad(set_to_none=True)
            model.backward(terms)
            for opt in optimizers.values():
                opt.step()
            if on_cpu:
                sums = [a + b for a, b in zip(sums, values)]
            else:
                acc = stacked if acc is None else acc + stacked
            n_acc += 1
            step += 1
            if step % config.log_every == 0 or step == total:
                mean = [v / n_acc for v in sums] if on_cpu else (acc / n_acc).tolist()  # type: ignore[operator]
                if not all(map(math.isfinite, mean)):
                    raise fail(mean, f"in steps {step - n_acc + 1}-{step}")
                entry = {"step": step, **{k: float(v) for k, v in zip(names, mean)}}
                history.append(entry)
                acc, n_acc, sums = None, 0, [0.0] * len(names)
                if bar is not None:
                    bar.update(step - bar.n)
                    bar.set_postfix({k: f"{v:.4g}" for k, v in zip(names, mean)}, refresh=False)
            if monitor_on and (step % config.monitor_every == 0 or step == total):
                records.append(monitor_record(model, probe, step))
            if step % config.checkpoint_every == 0 or step == total:
                if acc is not None:  # accelerators: never checkpoint after an unchecked NaN
                    pending = (acc / n_acc).tolist()
                    if not all(map(math.isfinite, pending)):
                        raise fail(pending, f"in steps {step - n_acc + 1}-{step}")
                checkpoint()
    except BaseException as exc:
        torch.set_num_threads(threads_before)
        if bar is not None:
            bar.close()
        try:
            write_info("failed", f"{type(exc).__name__}: {exc}")
        except OSError:
            pass
        raise
    torch.set_num_threads(threads_before)
    if bar is not None:
        bar.close()
    if last_saved != step:
        checkpoint()
    write_info("finished")
    model.eval()
    return Run(
        config=config,
        model=model,
        history=history,
        polarized=summarize(records, step) if monitor_on else {"fraction_polarized": None},
        dir=out_dir,
        step=step,
        observation_shape=observation_shape,
        likelihood=likelihood,
        monitor=records,
        _dataset=dataset,
    )
