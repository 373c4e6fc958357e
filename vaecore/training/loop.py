"""``vaecore.train``: one loop for every objective (SPEC §5; thesis §3.3.1).

Per step: draw a batch and compute the model's loss terms (:class:`TrainingParts`), stop with
:class:`NonFiniteLossError` when a term is not finite (before any update or file write;
:class:`LossTally`), back-propagate (``model.backward``) and step every optimizer. Every
``log_every`` steps the averaged terms go to the history (and the progress bar), every
``monitor_every`` steps the polarized monitor runs, every ``checkpoint_every`` steps (and at the
end) an atomic checkpoint is written (:class:`RunState`). Seeds and bit-exact resume:
:mod:`vaecore.training.parts`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vaecore.training.config import TrainConfig
from vaecore.training.live import LiveEval, TrainingLog
from vaecore.training.monitor import monitor_record
from vaecore.training.parts import TrainingParts, choose_threads, resolve_device, torch_threads
from vaecore.training.run import Run
from vaecore.training.state import RunState
from vaecore.training.tally import LossTally, NonFiniteLossError

__all__ = ["NonFiniteLossError", "coerce_config", "train"]


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


def _progress_bar(show: bool, state: RunState, config: TrainConfig) -> Any:
    if not show:
        return contextlib.nullcontext()
    from tqdm.auto import tqdm

    return tqdm(total=state.total, initial=state.step, desc=f"{config.model} on {config.dataset}", leave=False)


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

    ``config``: a :class:`TrainConfig`, a dict with its keys, or a TOML/JSON file. ``out``: run
    folder for ``config.json``, checkpoints and ``run.json`` (None: in memory only). ``resume``:
    continue from a checkpoint in ``out`` of the same config (only steps/epochs/device/logging may
    differ; a finished run is returned as is); ``overwrite`` with ``resume=False`` starts over in
    a folder that holds one. ``progress``: a tqdm bar with the loss terms. ``dataset``: an
    already loaded dataset to use instead of ``vaecore.datasets.load(config.dataset, ...)``.

    Raises :class:`NonFiniteLossError` when a loss term becomes NaN/inf, naming the step and every
    term; the last checkpoint written before stays untouched and ``run.json`` says "failed".
    """
    config = coerce_config(config)
    state = RunState(out, config, resume=resume, overwrite=overwrite)
    parts = TrainingParts.build(config, dataset, resolve_device(config.device))
    state.restore(parts, parts.total_steps)
    state.start()
    model, total = parts.model, state.total
    state.monitor_on = parts.monitor_on
    if state.monitor_on and not state.records:
        state.records.append(monitor_record(model, parts.probe, state.step))
    tally = LossTally(on_cpu=parts.device.type == "cpu")
    live = LiveEval(config, parts.sampler.dataset, parts.device)
    log = TrainingLog(state.dir, step=state.step, tensorboard=config.tensorboard)
    model.train()
    with torch_threads(choose_threads(config, model)), _progress_bar(progress and state.step < total, state, config) as bar:
        try:
            while state.step < total:
                terms = parts.step()
                tally.add(terms, state.step + 1)
                parts.update(terms)
                state.step = step = state.step + 1
                if state.monitor_on and (step % config.monitor_every == 0 or step == total):
                    state.records.append(monitor_record(model, parts.probe, step))
                if live.due(step, total):
                    live(model)
                if step % config.log_every == 0 or step == total:
                    state.history.append(tally.flush(step))
                    log.write(state.history[-1], parts.optimizers, state.records, live.take())
                    if bar is not None:
                        bar.update(step - bar.n)
                        shown = {**state.history[-1], **{f"eval_{k}": v for k, v in live.last.items()}}
                        bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items() if k != "step"}, refresh=False)
                if step % config.checkpoint_every == 0 or step == total:
                    tally.check(step)  # never checkpoint after an unchecked NaN
                    state.checkpoint(parts)
        except BaseException as exc:
            state.fail(exc)
            raise
        finally:
            log.close()
    if state.last_saved != state.step:
        state.checkpoint(parts)
    state.write_info("finished")
    model.eval()
    return Run(
        config=config, model=model, history=state.history, polarized=state.polarized(), dir=state.dir,
        step=state.step, observation_shape=parts.observation_shape, likelihood=parts.likelihood,
        monitor=state.records, _dataset=parts.sampler.dataset,
    )
