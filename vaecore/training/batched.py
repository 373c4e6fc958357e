"""``vaecore.train_seeds``: runs that differ only by seed, trained as one batched model.

Each seed s gets the :class:`TrainingParts` its separate run (``train(config.replace(seed=s))``)
builds — its own initialisation, batch sampler and noise generator — and its own
:class:`RunState` (run folder, checkpoint, ``run.json``). The models are then stacked
(:class:`vaecore.models.stacked.StackedModel`) and one optimizer steps the stacked parameters.
Per step, every seed draws its batch from its own sampler and its noise from its own generator
exactly as its separate run does, so each seed's losses equal those of its separate run up to
float rounding (batched matrix products sum in another order). At every checkpoint the stacked
weights and optimizer state are split back into the per-seed parts and each seed writes the
checkpoint its separate run would: every folder is a normal run (``load_run``, ``evaluate``,
``train(..., resume=True)`` work on it), resumable per seed or again as a group.

Configs that cannot be stacked (:func:`vaecore.models.stacked.stackable`), and groups whose
checkpoints stand at different steps, are trained one seed after the other with :func:`train`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from vaecore.models.stacked import StackedModel, stackable
from vaecore.training.config import TrainConfig
from vaecore.training.loop import _progress_bar, coerce_config, train
from vaecore.training.monitor import monitor_record
from vaecore.training.parts import TINY_WORK, TrainingParts, main_optimizer, resolve_device, torch_threads
from vaecore.training.run import Run
from vaecore.training.stack_state import split_optimizer_state, stack_optimizer_state
from vaecore.training.state import RunState
from vaecore.training.tally import LossTally, NonFiniteLossError

__all__ = ["group_by_seed", "seed_folders", "train_seeds"]

_FUSED = ("adam", "adamw", "adagrad", "sgd")


def seed_folders(out: Any, seeds: Sequence[int]) -> list[Path | None]:
    """Run folders of ``seeds``: None (in memory), a list (one per seed), a string with
    ``{seed}`` (formatted), or a folder ``OUT`` (then ``OUT/seed-<seed>``)."""
    if out is None:
        return [None] * len(seeds)
    if isinstance(out, (list, tuple)):
        if len(out) != len(seeds):
            raise ValueError(f"train_seeds: out must have one folder per seed ({len(seeds)}); got {len(out)}")
        return [Path(o) for o in out]
    if isinstance(out, (str, Path)):
        text = str(out)
        return [Path(text.format(seed=s)) if "{seed}" in text else Path(text) / f"seed-{s}" for s in seeds]
    raise TypeError(f"train_seeds: out must be None, a folder, a '{{seed}}' template or a list; got {type(out).__name__}")


def _check_seeds(seeds: Any) -> list[int]:
    if not isinstance(seeds, Sequence) or isinstance(seeds, str) or not seeds:
        raise TypeError(f"train_seeds: seeds must be a non-empty list of ints; got {seeds!r}")
    if any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds):
        raise ValueError(f"train_seeds: seeds must be ints >= 0; got {list(seeds)!r}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"train_seeds: seeds must be distinct; got {list(seeds)!r}")
    return [int(s) for s in seeds]


def group_by_seed(configs: Sequence[TrainConfig | Mapping[str, Any]]) -> list[list[int]]:
    """Indices of ``configs`` grouped into batches :func:`train_seeds` can train as one model:
    configs equal in everything but ``seed`` (distinct seeds) whose model and architecture stack
    on the CPU. Every index appears once; unstackable configs form groups of one; groups keep
    the order of their first member."""
    groups: dict[Any, list[int]] = {}
    seen: dict[Any, set[int]] = {}
    for i, c in enumerate(configs):
        cfg = coerce_config(c)
        d = cfg.to_dict()
        d.pop("seed", None)
        ok = stackable(cfg.model, cfg.architecture) is None and cfg.device == "cpu" and cfg.resolved_pairing is None
        key: Any = repr(sorted(d.items())) if ok else ("single", i)
        if key in seen and cfg.seed in seen[key]:
            key = ("single", i)  # a repeated seed trains on its own
        groups.setdefault(key, []).append(i)
        seen.setdefault(key, set()).add(cfg.seed)
    return list(groups.values())


def train_seeds(
    config: TrainConfig | Mapping[str, Any] | str | Path,
    seeds: Sequence[int],
    *,
    out: Any = None,
    resume: bool = True,
    progress: bool = True,
    overwrite: bool = False,
    dataset: Any = None,
) -> list[Run]:
    """Train ``config`` once per seed of ``seeds`` as one batched model (module docstring).

    ``out``: see :func:`seed_folders`. ``resume``/``overwrite``/``progress``/``dataset``: as in
    :func:`vaecore.train`, per seed. Returns one :class:`Run` per seed, in the order of
    ``seeds``. A non-finite loss stops only its seed (its ``run.json`` says "failed", its last
    checkpoint is kept); the others finish, then :class:`NonFiniteLossError` names the failed seeds.
    """
    config = coerce_config(config)
    seed_list = _check_seeds(seeds)
    folders = seed_folders(out, seed_list)
    configs = [config.replace(seed=s) for s in seed_list]
    if stackable(config.model, config.architecture) is not None or config.resolved_pairing is not None:
        return [train(c, out=f, resume=resume, progress=progress, overwrite=overwrite, dataset=dataset)
                for c, f in zip(configs, folders)]
    if dataset is None:
        from vaecore import datasets as _datasets

        dataset = _datasets.load(config.dataset, **config.dataset_options)
    states = [RunState(f, c, resume=resume, overwrite=overwrite) for c, f in zip(configs, folders)]
    device = resolve_device(config.device)
    parts = [TrainingParts.build(c, dataset, device) for c in configs]
    for p in parts[1:]:  # same split: share one preloaded copy of the data
        if p.sampler.data is not None and parts[0].sampler.data is not None:
            p.sampler.data = parts[0].sampler.data
    for st, p in zip(states, parts):
        st.restore(p, p.total_steps)
        st.start()
        st.monitor_on = p.monitor_on
        if st.monitor_on and not st.records:
            st.records.append(monitor_record(p.model, p.probe, st.step))
    active = [i for i, st in enumerate(states) if st.step < st.total]
    if len({states[i].step for i in active}) > 1:  # checkpoints at different steps: one by one
        return [train(c, out=f, resume=True, progress=progress, dataset=dataset) for c, f in zip(configs, folders)]
    failed = _train_group([states[i] for i in active], [parts[i] for i in active], config, progress)
    for st, p in zip(states, parts):
        if st not in failed:
            if st.last_saved != st.step:
                st.checkpoint(p)
            st.write_info("finished")
        p.model.eval()
    if failed:
        raise NonFiniteLossError("train_seeds: " + "; ".join(f"seed {configs[states.index(st)].seed}: {msg}"
                                                            for st, msg in failed.items()))
    return [_run(c, st, p) for c, st, p in zip(configs, states, parts)]


def _run(config: TrainConfig, st: RunState, p: TrainingParts) -> Run:
    return Run(config=config, model=p.model, history=st.history, polarized=st.polarized(), dir=st.dir,
               step=st.step, observation_shape=p.observation_shape, likelihood=p.likelihood,
               monitor=st.records, _dataset=p.sampler.dataset)


def _threads(config: TrainConfig, stacked: StackedModel) -> int:
    if config.threads:
        return config.threads
    n_params = sum(p.numel() for p in stacked.params()) // stacked.n  # one seed's work, as train()
    return 1 if config.batch_size * n_params < TINY_WORK else torch.get_num_threads()


def _stacked_optimizer(config: TrainConfig, params: list) -> torch.optim.Optimizer:
    """The main optimizer over the stacked parameters: torch's fused kernel (one kernel per
    parameter instead of ~10 elementwise ops, same update formula up to rounding) where torch
    has one for this optimizer and the config does not choose an implementation itself."""
    options = dict(config.optimizer_options)
    if not {"fused", "foreach"} & set(options) and config.optimizer in _FUSED:
        try:
            return main_optimizer(config.optimizer, params, config.lr, {**options, "fused": True})
        except (ValueError, RuntimeError):
            pass
    return main_optimizer(config.optimizer, params, config.lr, options)


class _Group:
    """The stacked model and optimizer of the seeds still training, with the per-seed parts."""

    def __init__(self, states: list[RunState], parts: list[TrainingParts], config: TrainConfig) -> None:
        self.states, self.parts = states, parts
        self.models = [p.model for p in parts]
        self.stacked = StackedModel(self.models)
        self.opt = _stacked_optimizer(config, self.stacked.params())
        stack_optimizer_state([p.optimizers["main"] for p in parts], self.opt)
        self.tallies = [_SeedTally(on_cpu=True) for _ in parts]
        self.all_alive = True
        self.alive = torch.ones(len(parts), dtype=torch.bool)
        self.noise_shape = (parts[0].sampler.batch_size, self.stacked.latent_dim)

    def step(self) -> dict[str, torch.Tensor]:
        x = torch.stack([p.sampler.next() for p in self.parts])
        eps = None
        if self.stacked.stochastic:
            eps = torch.stack([torch.randn(self.noise_shape, generator=p.noise, dtype=x.dtype, device=x.device)
                               for p in self.parts])
        return self.stacked.losses(x, eps)

    def update(self, terms: dict[str, torch.Tensor]) -> None:
        self.opt.zero_grad(set_to_none=True)
        loss = terms["loss"]
        (loss.sum() if self.all_alive else loss[self.alive].sum()).backward()
        self.opt.step()

    def sync(self) -> None:
        """Write the stacked weights and optimizer state back into the per-seed parts."""
        self.stacked.write_back(self.models)
        split_optimizer_state(self.opt, [p.optimizers["main"] for p in self.parts])


class _SeedTally(LossTally):
    """A :class:`LossTally` fed with one seed's terms as floats (one device sync for all seeds)."""

    def add_values(self, names: list[str], values: list[float], step: int) -> None:
        if self.names is None:
            self.names, self._sums = names, [0.0] * len(names)
        if not all(map(math.isfinite, values)):
            raise self._error(values, f"at step {step}")
        self._sums = [a + b for a, b in zip(self._sums, values)]
        self.count += 1


def _tally(group: _Group, terms: dict[str, torch.Tensor], step: int, failed: dict[RunState, str]) -> None:
    values = torch.stack([t.detach() for t in terms.values()], 1).tolist()
    names = list(terms)
    for i, (st, tally) in enumerate(zip(group.states, group.tallies)):
        if st in failed:
            continue
        try:
            tally.add_values(names, values[i], step)
        except NonFiniteLossError as exc:
            failed[st] = str(exc)
            st.fail(exc)
            group.alive[i] = False
            group.all_alive = False


def _train_group(states: list[RunState], parts: list[TrainingParts], config: TrainConfig,
                 progress: bool) -> dict[RunState, str]:
    """Train the seeds of ``states``/``parts`` (all at one step) to the end; the failed ones."""
    failed: dict[RunState, str] = {}
    if not states:
        return failed
    group = _Group(states, parts, config)
    total, lead = states[0].total, states[0]
    with torch_threads(_threads(config, group.stacked)), _progress_bar(progress and lead.step < total, lead, config) as bar:
        try:
            while lead.step < total:
                terms = group.step()
                step = lead.step + 1
                _tally(group, terms, step, failed)
                group.update(terms)
                for st in states:
                    st.step = step
                _log(group, step, total, config, failed, bar)
        except BaseException as exc:
            for st in states:
                if st not in failed:
                    st.fail(exc)
            raise
    group.sync()
    return failed


def _log(group: _Group, step: int, total: int, config: TrainConfig, failed: dict[RunState, str], bar: Any) -> None:
    """History, monitor and checkpoints of ``step`` for every seed still training."""
    log = step % config.log_every == 0 or step == total
    monitor = group.states[0].monitor_on and (step % config.monitor_every == 0 or step == total)
    save = step % config.checkpoint_every == 0 or step == total
    if not (log or monitor or save):
        return
    if monitor or save:
        group.sync()
    for st, p, tally in zip(group.states, group.parts, group.tallies):
        if st in failed:
            continue
        if log:
            st.history.append(tally.flush(step))
        if monitor:
            st.records.append(monitor_record(p.model, p.probe, step))
        if save:
            st.checkpoint(p)
    if log and bar is not None:
        bar.update(step - bar.n)
