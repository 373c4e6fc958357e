"""Step (i) of the perturbation pipeline (thesis §4.2.3; SPEC-ch4 §6.1): pick the most disentangled
and the most entangled β-VAE restarts by MIG, and order each model's latents by variance.

Runs with fewer active units (E σ² < 0.8, §4.3.4) than varying factors are over-pruned and dropped
(**decision**: a collapsed latent makes a run trivially "entangled"). Scores are computed from the
models themselves on the run's dataset — over the whole grid when it has at most ``max_points``
points, else over a seeded sample — so a selection is reproducible from the run folders alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaecore._validation import check_array, check_int, check_option

__all__ = ["BETA_VAE_MODELS", "RunScore", "Selection", "find_runs", "principal_order", "select_models"]

BETA_VAE_MODELS = ("beta-vae", "vae")
METRICS = ("mig",)


def principal_order(logvar: Any) -> np.ndarray:
    """Latents sorted by mean posterior variance ⟨σ_l²⟩, smallest first (eq. 4.7–4.8): entry j is
    k(j), the latent holding the j-th nonlinear principal component. ``logvar``: (n, n_latents)."""
    lv = check_array("principal_order", "logvar", logvar, ndim=2, min_rows=1)
    return np.argsort(np.exp(lv).mean(axis=0), kind="stable")


@dataclass(frozen=True)
class RunScore:
    """The selection statistics of one run."""

    run: str
    seed: int
    beta: float
    mig: float
    active_units: int
    n_factors: int
    order: tuple[int, ...]
    mean_var: tuple[float, ...]

    @property
    def usable(self) -> bool:
        """Not over-pruned: at least as many active units as varying factors."""
        return self.active_units >= self.n_factors


@dataclass(frozen=True)
class Selection:
    """The result of :func:`select_models`: ``disentangled`` (top-n MIG) and ``entangled``
    (bottom-n MIG) run folders, best first resp. worst first, and every run's score."""

    n: int
    metric: str
    scores: tuple[RunScore, ...]
    disentangled: tuple[str, ...]
    entangled: tuple[str, ...]
    runs: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def value(self) -> float:
        """MIG of the best disentangled run minus that of the worst entangled run."""
        by = {s.run: s.mig for s in self.scores}
        return float(by[self.disentangled[0]] - by[self.entangled[0]])

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "metric": self.metric, "disentangled": list(self.disentangled),
                "entangled": list(self.entangled),
                "scores": [{**s.__dict__, "order": list(s.order), "mean_var": list(s.mean_var),
                            "usable": s.usable} for s in self.scores]}

    def markdown(self) -> str:
        role = {r: "disentangled" for r in self.disentangled} | {r: "entangled" for r in self.entangled}
        lines = ["| run | seed | β | MIG | active | order (eq. 4.8) | role |", "|---|---|---|---|---|---|---|"]
        for s in sorted(self.scores, key=lambda s: -s.mig):
            r = role.get(s.run, "" if s.usable else "dropped (over-pruned)")
            lines.append(f"| {s.run} | {s.seed} | {s.beta:g} | {s.mig:.3f} | {s.active_units}/{s.n_factors} "
                         f"| {' '.join(map(str, s.order))} | {r} |")
        return "\n".join(lines) + "\n"


def find_runs(path: str | Path) -> list[Path]:
    """Run folders under ``path``: a sweep's store (its ``done`` runs' artifact folders), one run
    folder, or a folder holding run folders (searched recursively)."""
    from vaecore.experiments.store import ResultsStore, is_store

    p = Path(path)
    if is_store(p):
        with ResultsStore(p) as store:
            folders = [Path(r.artifacts) for r in store.runs(status="done") if r.artifacts]
        found = [f for f in folders if (f / "config.json").is_file() and (f / "checkpoint.pt").is_file()]
    elif (p / "config.json").is_file():
        found = [p]
    elif p.is_dir():
        found = sorted(c.parent for c in p.rglob("config.json") if (c.parent / "checkpoint.pt").is_file())
    else:
        raise FileNotFoundError(f"find_runs: path must be a store, a run folder or a folder of runs; "
                                f"got {str(p)!r}, which does not exist")
    return found


def _as_runs(runs: Any) -> list[Any]:
    from vaecore.training.run import Run, load_run

    if isinstance(runs, (str, Path)):
        runs = find_runs(runs)
    out = []
    for r in runs:
        out.append(r if isinstance(r, Run) else load_run(r))
    return out


def check_beta_vaes(func: str, runs: Sequence[Any]) -> None:
    """``ValueError`` unless every run is a β-VAE of one dataset (same name and options)."""
    for r in runs:
        if r.config.model not in BETA_VAE_MODELS:
            raise ValueError(f"{func}: runs must be β-VAEs (model in {BETA_VAE_MODELS}); got "
                             f"{r.config.model!r} in {str(r.dir)!r}")
    keys = {(r.config.dataset, json.dumps(r.config.dataset_options, sort_keys=True)) for r in runs}
    if len(keys) > 1:
        raise ValueError(f"{func}: runs must share one dataset and its options; got {sorted(keys)}")


@torch.no_grad()
def posterior(model: Any, dataset: Any, idx: np.ndarray, batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """(μ, log σ²) float64 ``(len(idx), latent_dim)`` of the images at ``idx`` (eval mode)."""
    param = next(model.parameters())
    model.eval()
    mus, lvs = [], []
    for i in range(0, len(idx), batch):
        x = torch.as_tensor(np.asarray(dataset.observations_at(idx[i : i + batch]), np.float32))
        mu, lv = model.encode(x.to(param.device, param.dtype))
        mus.append(mu.double().cpu().numpy())
        lvs.append(lv.double().cpu().numpy())
    return np.concatenate(mus), np.concatenate(lvs)


def score_run(run: Any, dataset: Any, idx: np.ndarray, label: str) -> RunScore:
    """MIG, active units and principal order of ``run`` on ``dataset``'s points ``idx``."""
    from vaecore.metrics import active_units, mig

    mu, lv = posterior(run.model, dataset, idx)
    factors = np.asarray(dataset.factors_at(idx))
    varying = int(sum(len(np.unique(factors[:, j])) > 1 for j in range(factors.shape[1])))
    value = mig(mu, factors, drop_constant=True).value if mu.shape[1] >= 2 else 0.0
    mean_var = np.exp(lv).mean(axis=0)
    return RunScore(run=label, seed=int(run.config.seed), beta=float(run.config.beta), mig=float(value),
                    active_units=int(active_units(lv).value), n_factors=varying,
                    order=tuple(int(k) for k in principal_order(lv)),
                    mean_var=tuple(float(v) for v in mean_var))


def select_models(
    runs: str | Path | Iterable[Any],
    *,
    n: int = 1,
    metric: str = "mig",
    seed: int = 0,
    max_points: int = 10_000,
    dataset: Any = None,
) -> Selection:
    """Choose the n most disentangled and the n most entangled β-VAE runs by MIG (thesis §4.2.3).

    Parameters
    ----------
    runs : a store / folder (see :func:`find_runs`) or an iterable of runs or run folders.
    n : models per side (1; 4 for the Shapes3D ensembles of §4.3.1); needs 2n usable runs.
    metric : "mig".
    seed : seed of the point sample on datasets larger than ``max_points``.
    dataset : the runs' dataset object (default: loaded from their config).

    Raises
    ------
    ValueError : a run that is not a β-VAE, runs of different datasets, fewer than two (or 2n)
        usable runs.
    """
    func = "select_models"
    n = check_int(func, "n", n, minimum=1)
    check_option(func, "metric", metric, METRICS)
    seed = check_int(func, "seed", seed, minimum=0)
    max_points = check_int(func, "max_points", max_points, minimum=2)
    loaded = _as_runs(runs)
    check_beta_vaes(func, loaded)
    if len(loaded) < 2:
        raise ValueError(f"{func}: runs must hold at least two β-VAE runs; got {len(loaded)}")
    ds = dataset if dataset is not None else loaded[0].dataset
    idx = np.arange(len(ds), dtype=np.int64)
    if len(ds) > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(len(ds), max_points, replace=False))
    labels = [str(r.dir) if r.dir is not None else f"run{i}" for i, r in enumerate(loaded)]
    scores = tuple(score_run(r, ds, idx, lab) for r, lab in zip(loaded, labels))
    usable = sorted((s for s in scores if s.usable), key=lambda s: (-s.mig, s.run))
    if len(usable) < max(2, 2 * n):
        dropped = [f"{s.run} ({s.active_units} active < {s.n_factors})" for s in scores if not s.usable]
        raise ValueError(f"{func}: runs must hold at least {max(2, 2 * n)} usable (not over-pruned) runs "
                         f"for n={n}; got {len(usable)} of {len(scores)} (dropped: {dropped})")
    return Selection(n=n, metric=metric, scores=scores,
                     disentangled=tuple(s.run for s in usable[:n]),
                     entangled=tuple(s.run for s in usable[::-1][:n]),
                     runs=dict(zip(labels, loaded)))
