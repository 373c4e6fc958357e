"""UDR (Duan et al. 2020) beside DtO as an unsupervised choice among restarts (``vaecore select --udr``).

For each group of restarts that :func:`vaecore.experiments.select.select_by_dto` ranked, the runs
are loaded from their folders, encoded on the same ``n_points`` test-split inputs of the first
run's dataset (disentanglement_lib's UDR uses 1,000), and scored with :func:`vaecore.metrics.udr`
(Lasso correlations, KL filter 0.01 — dlib's defaults). UDR picks the run with the highest model
score; the comparison reports both choices, whether they agree, each choice's supervised metrics
and the Spearman correlation of the UDR score with DS / MIG over the restarts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from vaecore.experiments.select import SUPERVISED, Selection

UDR_POINTS = 1000


@dataclass(frozen=True)
class UDRComparison:
    """DtO's and UDR's choice among the restarts of one configuration."""

    experiment: str
    group: dict
    n_runs: int
    dto_seed: int
    udr_seed: int
    agree: bool
    udr_scores: dict  # seed -> UDR model score
    dto_choice: dict  # supervised metrics of DtO's choice
    udr_choice: dict  # supervised metrics of UDR's choice
    spearman_udr: dict  # rho(UDR score, metric) over the restarts

    @property
    def value(self) -> bool:
        return self.agree

    def as_dict(self) -> dict:
        return asdict(self)


def _codes(run, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import torch

    x = torch.as_tensor(np.asarray(run.dataset.observations_at(idx)), dtype=torch.float32)
    with torch.no_grad():
        mu, logvar = run.model.encode(x)
    return mu.double().numpy(), logvar.double().numpy()


def compare_udr(selection: Selection, records: list, *, seed: int = 0, n_points: int = UDR_POINTS) -> UDRComparison:
    """UDR over the restarts of ``selection`` (``records``: the same group's done runs)."""
    from scipy.stats import spearmanr

    from vaecore.metrics.udr import gaussian_kl_per_latent, udr
    from vaecore.training.run import load_run

    recs = [r for r in records if r.artifacts]
    if len(recs) < 2:
        raise ValueError(f"select --udr: {selection.experiment}: UDR needs at least 2 restarts with run "
                         f"folders; got {len(recs)}")
    runs = [load_run(r.artifacts) for r in recs]
    test = runs[0].split()[2]
    idx = np.sort(np.random.default_rng(seed).choice(test, size=min(n_points, test.size), replace=False))
    codes, kls = [], []
    for run in runs:
        mu, logvar = _codes(run, idx)
        codes.append(mu)
        kls.append(gaussian_kl_per_latent(mu, logvar))
    res = udr(codes, kls)
    scores = np.asarray(res.model_scores, dtype=float)
    pick = recs[int(res.best)]
    metrics = sorted({m for r in recs for m in (r.metrics or {}) if m in SUPERVISED})
    rho = {}
    for m in metrics:
        pairs = [(s, r.metrics[m]) for s, r in zip(scores, recs)
                 if isinstance(r.metrics.get(m), (int, float)) and math.isfinite(r.metrics[m])]
        ok = len(pairs) >= 3 and len({p[0] for p in pairs}) > 1 and len({p[1] for p in pairs}) > 1
        rho[m] = float(spearmanr(*zip(*pairs)).statistic) if ok else float("nan")
    return UDRComparison(
        experiment=selection.experiment, group=selection.group, n_runs=len(recs),
        dto_seed=selection.selected_seed, udr_seed=pick.seed, agree=pick.id == selection.selected_id,
        udr_scores={int(r.seed): float(s) for r, s in zip(recs, scores)},
        dto_choice=dict(selection.selected), udr_choice={m: pick.metrics.get(m) for m in metrics},
        spearman_udr=rho,
    )


def comparisons_markdown(rows: list[UDRComparison]) -> str:
    """A Markdown table of DtO's and UDR's choices."""
    metrics = sorted({m for c in rows for m in c.udr_choice})
    head = ["experiment", "group", "runs", "DtO seed", "UDR seed", "agree"]
    for m in metrics:
        head += [f"{m} DtO choice", f"{m} UDR choice", f"ρ(UDR, {m})"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]

    def f(x):
        return "–" if not isinstance(x, (int, float)) or not math.isfinite(x) else f"{x:.3f}"

    for c in rows:
        group = ", ".join(f"{k}={v}" for k, v in c.group.items() if v is not None)
        row = [c.experiment, group, str(c.n_runs), str(c.dto_seed), str(c.udr_seed), "yes" if c.agree else "no"]
        for m in metrics:
            row += [f(c.dto_choice.get(m)), f(c.udr_choice.get(m)), f(c.spearman_udr.get(m))]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
