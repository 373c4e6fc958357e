"""Unsupervised model selection by DtO (a tool beyond the thesis).

Table 3.3 and Fig. 3.4 show that DtO — computable without labels — tracks DS. So among
the restarts of one configuration (same experiment and group, different seeds), pick the
run with the lowest DtO; where ground-truth factors exist, measure how good that choice
is: the Spearman rank correlation of −DtO with DS (and MIG) over the restarts, and the
selected run's DS against the mean and the best DS of the restarts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Selection:
    """The DtO choice among the restarts of one configuration."""

    experiment: str
    group: dict
    n_runs: int
    selected_id: str
    selected_seed: int
    selected_dto: float
    selected: dict  # the selected run's other metrics
    mean: dict  # mean of each metric over the restarts
    best: dict  # best value of each supervised metric over the restarts
    spearman: dict  # rho(-DtO, metric) over the restarts

    @property
    def value(self) -> float:
        """Spearman ρ(−DtO, DS) (NaN when DS is absent)."""
        return float(self.spearman.get("ds", float("nan")))

    def as_dict(self) -> dict:
        return asdict(self)


SUPERVISED = ("ds", "mig", "dci", "sap", "factor_vae", "beta_vae")


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def select_by_dto(records: Iterable, *, experiment: str | None = None) -> list[Selection]:
    """Rank the restarts of every configuration by DtO; see the module docstring.

    Parameters
    ----------
    records : iterable of RunRecord
        Runs of a store; only ``done`` runs with a finite ``dto`` are used.
    experiment : str, optional
        Restrict to one experiment.
    """
    from scipy.stats import spearmanr

    groups: dict[tuple[str, str], list] = {}
    for rec in records:
        if rec.status != "done" or not _finite((rec.metrics or {}).get("dto")):
            continue
        if experiment is not None and rec.experiment != experiment:
            continue
        key = (rec.experiment, json.dumps(rec.config.get("group", {}), sort_keys=True))
        groups.setdefault(key, []).append(rec)
    out = []
    for (exp, group), recs in groups.items():
        dto = np.array([r.metrics["dto"] for r in recs])
        best = recs[int(np.argmin(dto))]
        metrics = sorted({m for r in recs for m in r.metrics if m in SUPERVISED})
        rho, mean, top = {}, {}, {}
        for m in metrics:
            pairs = [(-r.metrics["dto"], r.metrics[m]) for r in recs if _finite(r.metrics.get(m))]
            vals = [p[1] for p in pairs]
            if vals:
                mean[m] = float(np.mean(vals))
                top[m] = float(np.max(vals))
            if len(pairs) >= 3 and len({p[1] for p in pairs}) > 1 and len({p[0] for p in pairs}) > 1:
                a, b = zip(*pairs)
                rho[m] = float(spearmanr(a, b).statistic)
            else:
                rho[m] = float("nan")
        out.append(Selection(
            experiment=exp, group=json.loads(group), n_runs=len(recs), selected_id=best.id,
            selected_seed=best.seed, selected_dto=float(best.metrics["dto"]),
            selected={m: best.metrics.get(m) for m in metrics}, mean=mean, best=top, spearman=rho,
        ))
    return out


def selections_markdown(selections: list[Selection]) -> str:
    """A Markdown table of :func:`select_by_dto`'s result."""
    metrics = sorted({m for s in selections for m in s.selected})
    head = ["experiment", "group", "runs", "selected (seed)", "DtO"]
    for m in metrics:
        head += [f"{m} selected", f"{m} mean", f"{m} best", f"ρ(−DtO, {m})"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]

    def f(x):
        return "–" if x is None or not _finite(x) else f"{x:.3f}"

    for s in selections:
        group = ", ".join(f"{k}={v}" for k, v in s.group.items() if v is not None)
        row = [s.experiment, group, str(s.n_runs), f"{s.selected_id} ({s.selected_seed})",
               f(s.selected_dto)]
        for m in metrics:
            row += [f(s.selected.get(m)), f(s.mean.get(m)), f(s.best.get(m)), f(s.spearman.get(m))]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"
