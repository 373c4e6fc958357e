"""Step (ii) of the perturbation pipeline: train m_ψ against frozen encoders (thesis §4.2.4,
§4.3.1, Fig. 4.2; SPEC-ch4 §6.4).

Per iteration: ``decoder_updates`` times {fresh batch; x'' with ψ fixed; one Adam step per decoder
on ℓ(x'', G(μ + σξ)) over ``latent_samples`` draws}; then {fresh batch; one Adam step on ψ for
L_m = mean_k L_ent,k(x'') − mean_k L_dis,k(x''), decoders fixed}. Adam lr 1e-4, (0.9, 0.999),
ε 1e-7 for all networks (§4.3.1). Every ``log_every`` iterations (and at 0 and the end) L_ent,
L_dis and Δ = L_dis − L_ent are measured on a fixed probe of ``probe_size`` points with fixed
draws, with the largest |x'' − x| and the ratio of the total pixel variance of x'' to that of x
over the probe (the thesis's "mild" claim), and appended to ``log.jsonl``. ``checkpoint.pt`` (weights, optimizers, RNG states, history)
is written every ``checkpoint_every`` iterations; a resumed training continues bit for bit. The
decoders' own fine-tuning moves Δ too, so the record also holds Δ at the end with m ≡ 0 and the
final decoders (``gap_final_without_m``): m's share of the growth is ``gap_final`` minus that.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaecore._io import atomic_write_text
from vaecore._validation import check_float, check_int, check_option
from vaecore.perturb.artifact import BaseRecord, PerturbationRecord, save_manipulator
from vaecore.perturb.encoding import FactorEncoding
from vaecore.perturb.ensemble import LOSSES, Member
from vaecore.perturb.manipulator import Manipulator, ManipulatorSpec, reflect
from vaecore.perturb.select import _as_runs, check_beta_vaes

__all__ = ["PerturbConfig", "PerturbationResult", "train_manipulator"]

CHECKPOINT = "checkpoint.pt"
LOG = "log.jsonl"
# settings that may change between a checkpoint and its resumption
RESUMABLE = frozenset({"steps", "log_every", "checkpoint_every", "device"})


@dataclass(frozen=True)
class PerturbConfig:
    """Settings of :func:`train_manipulator` (defaults: §4.3.1 and SPEC-ch4 §6.4)."""

    eps: float
    steps: int = 20_000
    decoder_updates: int = 3
    latent_samples: int = 5
    batch_size: int = 64
    lr: float = 1e-4
    m_lr: float | None = None
    betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-7
    loss: str | None = None
    seed: int = 0
    probe_size: int = 1024
    log_every: int = 100
    checkpoint_every: int = 1000
    architecture: str | None = None
    device: str = "cpu"

    def __post_init__(self) -> None:
        f = "train_manipulator"
        eps = check_float(f, "eps", self.eps, minimum=0.0, strict=True)
        if eps > 1.0:
            raise ValueError(f"{f}: eps must be in (0, 1] (images live in [0, 1]); got {self.eps!r}")
        for name, lo in (("steps", 0), ("decoder_updates", 0), ("latent_samples", 1), ("batch_size", 1),
                         ("seed", 0), ("probe_size", 1), ("log_every", 1), ("checkpoint_every", 1)):
            check_int(f, name, getattr(self, name), minimum=lo)
        check_float(f, "lr", self.lr, minimum=0.0, strict=True)
        if self.m_lr is not None:
            check_float(f, "m_lr", self.m_lr, minimum=0.0, strict=True)
        check_float(f, "adam_eps", self.adam_eps, minimum=0.0, strict=True)
        b = tuple(float(v) for v in self.betas)
        if len(b) != 2 or not all(0.0 <= v < 1.0 for v in b):
            raise ValueError(f"{f}: betas must be two numbers in [0, 1); got {self.betas!r}")
        object.__setattr__(self, "betas", b)
        if self.loss is not None:
            check_option(f, "loss", self.loss, LOSSES)
        if self.architecture is not None:
            check_option(f, "architecture", self.architecture, ("conv", "mlp"))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d


@dataclass
class PerturbationResult:
    """A trained manipulator, its record (``perturbation.json``), the probe log and its folder."""

    manipulator: Manipulator
    record: PerturbationRecord
    history: list[dict[str, Any]]
    dir: Path | None = None

    @property
    def gap_gain(self) -> float:
        """Δ_final − Δ_0 on the probe."""
        return float(self.history[-1]["gap"] - self.history[0]["gap"])


def _seed(*keys: int) -> int:
    return int(np.random.SeedSequence(list(keys)).generate_state(1)[0])


class _Trainer:
    """State of one perturbation training: members, manipulator, RNGs, probe, history."""

    def __init__(self, cfg: PerturbConfig, dis: list[Any], ent: list[Any], dataset: Any, loss: str) -> None:
        self.cfg, self.dataset = cfg, dataset
        self.device = torch.device(cfg.device)
        self.encoding = FactorEncoding.of(dataset)
        n = len(dataset)
        self.w = torch.as_tensor(self.encoding.encode(dataset.factors_at(np.arange(n, dtype=np.int64))))
        self.w = self.w.to(self.device)
        pixels = n * math.prod(dataset.observation_shape)
        self.images = None
        if pixels * 4 <= 2**28:  # keep small datasets in memory (≤ 256 MB)
            self.images = torch.as_tensor(dataset.observations_at(np.arange(n, dtype=np.int64))).to(self.device)
        opt = dict(loss=loss, lr=cfg.lr, betas=cfg.betas, adam_eps=cfg.adam_eps, device=cfg.device)
        self.members = [Member(r, dataset, role="dis", **opt) for r in dis]
        self.members += [Member(r, dataset, role="ent", **opt) for r in ent]
        spec = ManipulatorSpec.default(self.encoding.dim, dataset.observation_shape)
        if cfg.architecture is not None:
            spec = ManipulatorSpec(spec.encoding_dim, spec.observation_shape, cfg.architecture)
        self.m = Manipulator(spec, seed=_seed(cfg.seed, 1)).to(self.device)
        m_lr = cfg.lr if cfg.m_lr is None else cfg.m_lr
        self.opt = torch.optim.Adam(self.m.parameters(), lr=m_lr, betas=cfg.betas, eps=cfg.adam_eps)
        self.rng = np.random.default_rng(_seed(cfg.seed, 2))
        self.gen = torch.Generator(device=self.device).manual_seed(_seed(cfg.seed, 3))
        probe_rng = np.random.default_rng(_seed(cfg.seed, 4))
        self.probe = np.sort(probe_rng.choice(n, min(cfg.probe_size, n), replace=False))
        pg = torch.Generator(device=self.device).manual_seed(_seed(cfg.seed, 5))
        self.probe_noise = [torch.randn((cfg.latent_samples, len(self.probe), mb.mu.shape[1]), generator=pg,
                                        device=self.device) for mb in self.members]
        self.step, self.history, self.wall = 0, [], 0.0

    def batch(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        t = torch.as_tensor(idx, device=self.device)
        if self.images is not None:
            x = self.images[t]
        else:
            x = torch.as_tensor(self.dataset.observations_at(idx)).to(self.device)
        return t, x, self.w[t]

    def noise(self, member: Member, b: int) -> torch.Tensor:
        return torch.randn((self.cfg.latent_samples, b, member.mu.shape[1]), generator=self.gen, device=self.device)

    def iteration(self) -> float:
        cfg = self.cfg
        for _ in range(cfg.decoder_updates):
            t, x, w = self.batch(self.rng.integers(0, len(self.dataset), cfg.batch_size))
            with torch.no_grad():
                xpp = reflect(x, self.m(w), cfg.eps)
            for mb in self.members:
                _finite(self.step, {f"decoder {mb.role} {mb.label}": mb.step(xpp, t, self.noise(mb, len(t)))})
        t, x, w = self.batch(self.rng.integers(0, len(self.dataset), cfg.batch_size))
        xpp = reflect(x, self.m(w), cfg.eps)
        terms = {"dis": [], "ent": []}
        for mb in self.members:
            terms[mb.role].append(mb.loss(xpp, t, self.noise(mb, len(t)), grad_decoder=False))
        l_ent, l_dis = torch.stack(terms["ent"]).mean(), torch.stack(terms["dis"]).mean()
        loss = l_ent - l_dis
        _finite(self.step, {"L_ent": float(l_ent.detach()), "L_dis": float(l_dis.detach())})
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.step += 1
        return float(loss.detach())

    @torch.no_grad()
    def measure(self, *, without_m: bool = False) -> dict[str, Any]:
        """Probe losses; ``without_m``: the same decoders on the original images (m ≡ 0), the
        control that separates m's effect on Δ from the decoders' own fine-tuning."""
        sums = {"dis": 0.0, "ent": 0.0}
        absmax = 0.0
        moments = torch.zeros((4, *self.dataset.observation_shape), dtype=torch.float64, device=self.device)
        for a in range(0, len(self.probe), 256):
            t, x, w = self.batch(self.probe[a : a + 256])
            m = self.m(w) * (0.0 if without_m else 1.0)
            absmax = max(absmax, float(m.abs().max()) * self.cfg.eps)
            xpp = reflect(x, m, self.cfg.eps)
            for k, v in enumerate((x, x * x, xpp, xpp * xpp)):
                moments[k] += v.double().sum(0)
            for mb, noise in zip(self.members, self.probe_noise):
                share = len(t) / len(self.probe) / sum(o.role == mb.role for o in self.members)
                sums[mb.role] += share * float(mb.loss(xpp, t, noise[:, a : a + 256], grad_decoder=False))
        moments /= len(self.probe)
        var0 = float((moments[1] - moments[0] ** 2).sum())
        var1 = float((moments[3] - moments[2] ** 2).sum())
        return {"step": self.step, "l_ent": sums["ent"], "l_dis": sums["dis"], "gap": sums["dis"] - sums["ent"],
                "max_abs_perturbation": absmax, "variance_ratio": var1 / var0 if var0 > 0 else None}

    def state(self) -> dict[str, Any]:
        return {"format": 1, "step": self.step, "config": json.dumps(self.cfg.as_dict()),
                "members": [mb.label for mb in self.members], "manipulator": self.m.state_dict(),
                "optimizer": self.opt.state_dict(), "decoders": [mb.state() for mb in self.members],
                "rng": json.dumps(self.rng.bit_generator.state), "torch_rng": self.gen.get_state(),
                "history": json.dumps(self.history), "wall": self.wall}

    def load(self, state: dict[str, Any], where: Path) -> None:
        old = json.loads(state["config"])
        new = self.cfg.as_dict()
        diff = [k for k in new if k not in RESUMABLE and old.get(k) != new[k]]
        if diff or state["members"] != [mb.label for mb in self.members]:
            what = f"settings {diff}" if diff else "selected runs"
            raise ValueError(f"train_manipulator: {str(where)!r} holds a training with other {what}; pass "
                             f"resume=False and overwrite=True to start over, or another out")
        self.step, self.wall = int(state["step"]), float(state["wall"])
        self.m.load_state_dict(state["manipulator"])
        self.opt.load_state_dict(state["optimizer"])
        for mb, s in zip(self.members, state["decoders"]):
            mb.load(s)
        self.rng.bit_generator.state = json.loads(state["rng"])
        self.gen.set_state(state["torch_rng"])
        self.history = json.loads(state["history"])


def _finite(step: int, terms: dict[str, float]) -> None:
    bad = {k: v for k, v in terms.items() if not math.isfinite(v)}
    if bad:
        raise FloatingPointError(f"train_manipulator: non-finite loss at iteration {step}: {bad} (all: {terms})")


def _load_side(func: str, name: str, runs: Any) -> list[Any]:
    items = [runs] if isinstance(runs, (str, Path)) or hasattr(runs, "model") else list(runs)
    loaded = _as_runs(items)
    if not loaded:
        raise ValueError(f"{func}: {name} must name at least one run; got none")
    return loaded


def _open(trainer: _Trainer, out: Path | None, resume: bool, overwrite: bool) -> None:
    if out is None or not (out / CHECKPOINT).is_file():
        return
    if resume:
        from vaecore.training.checkpoint import load_checkpoint

        trainer.load(load_checkpoint(out / CHECKPOINT, required=("format", "step", "config")), out)
    elif not overwrite:
        raise FileExistsError(f"train_manipulator: {str(out)!r} holds a checkpoint; pass resume=True to "
                              f"continue it or overwrite=True to start over")


def _log(trainer: _Trainer, out: Path | None, checkpoint: bool) -> None:
    if out is None:
        return
    from vaecore.training.checkpoint import save_checkpoint

    atomic_write_text(out / LOG, "".join(json.dumps(h) + "\n" for h in trainer.history))
    if checkpoint:
        save_checkpoint(out / CHECKPOINT, trainer.state())


def train_manipulator(dis: Any, ent: Any, *, eps: float, steps: int = 20_000, out: str | Path | None = None,
                      dataset: Any = None, progress: bool = True, resume: bool = True, overwrite: bool = False,
                      **options: Any) -> PerturbationResult:
    """Train a manipulation network that fosters ``ent`` and hinders ``dis`` (see module docstring).

    Parameters
    ----------
    dis, ent : the disentangled resp. entangled β-VAE runs (a run, a run folder, or several: an
        ensemble), e.g. ``selection.disentangled`` / ``selection.entangled`` of :func:`select_models`.
    eps : ε of x' = x + ε m(w) (0.1 dSprites, 0.175 Shapes3D).
    steps : manipulator updates.
    out : folder for ``checkpoint.pt``, ``log.jsonl``, ``manipulator.pt``, ``perturbation.json``.
    dataset : the runs' dataset object (default: loaded from their config).
    **options : the other fields of :class:`PerturbConfig` (``decoder_updates=3, latent_samples=5,
        batch_size=64, lr=1e-4`` (all networks), ``m_lr=None`` (the manipulator's own learning rate;
        None = ``lr``, as the thesis), ``betas, adam_eps=1e-7, loss=None`` (= the decoders' likelihood:
        "bernoulli" or "l2"), ``seed, probe_size=1024, log_every=100, checkpoint_every=1000,
        architecture, device``).
    """
    func = "train_manipulator"
    valid = {f for f in PerturbConfig.__dataclass_fields__} - {"eps", "steps"}
    for key in options:
        if key not in valid:
            raise ValueError(f"{func}: unknown option {key!r}; valid options are {sorted(valid)}")
    cfg = PerturbConfig(eps=eps, steps=steps, **options)
    dis_runs, ent_runs = _load_side(func, "dis", dis), _load_side(func, "ent", ent)
    runs = dis_runs + ent_runs
    check_beta_vaes(func, runs)
    likelihoods = {r.model.decoder.likelihood for r in runs}
    loss = cfg.loss or ("bernoulli" if likelihoods == {"bernoulli"} else "l2")
    if loss == "bernoulli" and likelihoods != {"bernoulli"}:
        raise ValueError(f"{func}: loss 'bernoulli' needs Bernoulli decoders; got likelihoods {sorted(likelihoods)}")
    ds = dataset if dataset is not None else runs[0].dataset
    if any(tuple(r.observation_shape) != tuple(ds.observation_shape) for r in runs):
        raise ValueError(f"{func}: every run must be built for the dataset's observation shape "
                         f"{tuple(ds.observation_shape)}; got {sorted({tuple(r.observation_shape) for r in runs})}")
    trainer = _Trainer(cfg, dis_runs, ent_runs, ds, loss)
    out_dir = None if out is None else Path(out)
    _open(trainer, out_dir, resume, overwrite)
    if not trainer.history:
        trainer.history.append(trainer.measure())
    _loop(trainer, out_dir, progress)
    base = BaseRecord.of(ds, runs[0].config.dataset, runs[0].config.dataset_options)
    summary = {"steps": trainer.step, "loss": loss, "config": cfg.as_dict(), "wall_s": trainer.wall,
               "disentangled": [str(r.dir) for r in dis_runs], "entangled": [str(r.dir) for r in ent_runs],
               "gap_initial": trainer.history[0]["gap"], "gap_final": trainer.history[-1]["gap"],
               "gap_final_without_m": trainer.measure(without_m=True)["gap"]}
    record = save_manipulator(out_dir, trainer.m, eps=cfg.eps, base=base, encoding=trainer.encoding,
                              training=summary)
    trainer.m.eval()
    return PerturbationResult(trainer.m, record, trainer.history, out_dir)


def _loop(trainer: _Trainer, out: Path | None, progress: bool) -> None:
    from tqdm.auto import tqdm

    cfg = trainer.cfg
    bar = tqdm(total=cfg.steps, initial=min(trainer.step, cfg.steps), desc="perturb", disable=not progress,
               leave=False)
    with bar:
        while trainer.step < cfg.steps:
            t0 = time.perf_counter()
            l_m = trainer.iteration()
            trainer.wall += time.perf_counter() - t0
            bar.update(1)
            last = trainer.step == cfg.steps
            if trainer.step % cfg.log_every == 0 or last:
                trainer.history.append({**trainer.measure(), "l_m": l_m, "wall_s": round(trainer.wall, 3)})
                bar.set_postfix(gap=f"{trainer.history[-1]['gap']:.3f}")
            if trainer.step % cfg.checkpoint_every == 0 or last:
                _log(trainer, out, True)
            elif trainer.step % cfg.log_every == 0:
                _log(trainer, out, False)
    if out is not None and not (out / CHECKPOINT).is_file():
        _log(trainer, out, True)
