"""Chapter 4 in the report: Tables 4.2–4.5 from one sweep, the effect check, Fig. 4.3 and 4.8.

* :func:`split_tables`: an experiment whose ``[report] tables`` maps metrics to table ids is
  shown as one table per metric (its runs under ``<experiment>--<metric>``), each beside the
  thesis table of that id; runs a gate skipped (``skipped = 1``) are left out.
* :func:`effect_check`: SPEC-ch4 §10 check 8 computed from the store — the gate (MIG spread of the
  selection restarts, which chain ran), the β-VAE's mean MIG drop original → modified over paired
  seeds, how many seeds drop, and the noise ablation's drop. Nothing is hard-coded but the
  thresholds of the check.
* :func:`draw_chapter4_figures`: Fig. 4.3 (the perturbation stage's preview), Fig. 4.8 (β-VAE MIG
  histograms original vs modified, 10 bins on [0, 1]) and Fig. 4.9 (per-factor MIG, mean ± std).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vaecore.experiments.record import ExperimentRecord

__all__ = ["EffectCheck", "draw_chapter4_figures", "effect_check", "split_tables"]

MIN_DROP = 0.10      # SPEC-ch4 §10 check 8: mean paired MIG drop orig → mod
MIN_DROPPING = 0.75  # ≥ 3 of 4 paired seeds drop


def _skipped(rec) -> bool:
    return bool((rec.metrics or {}).get("skipped"))


def split_tables(records: Iterable, exps: Mapping[str, ExperimentRecord]) -> tuple[list, dict]:
    """``(records, experiments)`` with every ``layout["tables"]`` experiment split per metric."""
    out_recs, out_exps = [], {}
    split: dict[str, dict[str, ExperimentRecord]] = {}
    for name, exp in exps.items():
        tables = exp.layout.get("tables") or {}
        if not tables:
            out_exps[name] = exp
            continue
        from vaecore.report.thesis import thesis_table

        split[name] = {}
        for metric, tid in tables.items():
            layout = {k: v for k, v in exp.layout.items() if k != "tables"} | {"table": tid}
            title = f"{_TITLES.get(tid.rsplit('-', 1)[0], tid)} — {tid.rsplit('-', 1)[-1]}"
            sub = ExperimentRecord(name=f"{name}--{metric}", title=title, layout=layout, metrics=(metric,),
                                   thesis=thesis_table(tid), labels=dict(exp.labels),
                                   runs=exp.runs)
            split[name][metric] = out_exps[sub.name] = sub
    for rec in records:
        if _skipped(rec):
            continue
        if rec.experiment in split:
            out_recs += [dataclasses.replace(rec, experiment=sub.name) for sub in split[rec.experiment].values()]
        else:
            out_recs.append(rec)
    return out_recs, out_exps


_TITLES = {"table-4.2": "Table 4.2 — MIG", "table-4.3": "Table 4.3 — DCI disentanglement",
           "table-4.4": "Table 4.4 — FactorVAE score", "table-4.5": "Table 4.5 — SAP"}


@dataclasses.dataclass(frozen=True)
class EffectCheck:
    """SPEC-ch4 §10 check 8 for one dataset's β-VAE: paired MIG drops and the noise ablation."""

    dataset: str
    drops: tuple[float, ...]          # MIG(orig) − MIG(mod), per paired seed
    noise_drops: tuple[float, ...]    # MIG(orig) − MIG(noisy), per paired seed
    fallback: bool

    @property
    def mean_drop(self) -> float:
        return float(np.mean(self.drops)) if self.drops else math.nan

    @property
    def dropping(self) -> int:
        return int(sum(d > 0 for d in self.drops))

    @property
    def mean_noise_drop(self) -> float:
        return float(np.mean(self.noise_drops)) if self.noise_drops else math.nan

    @property
    def passed(self) -> bool:
        """Drop ≥ 0.10, ≥ 3/4 of the seeds dropping, noise drop < ½ the mod drop (< the mod drop
        on the dSprites fallback, as the thesis's dSprites β-VAE row)."""
        if not self.drops:
            return False
        limit = self.mean_drop if self.fallback else 0.5 * self.mean_drop
        noise_ok = bool(self.noise_drops) and self.mean_noise_drop < limit
        return (self.mean_drop >= MIN_DROP and self.dropping >= MIN_DROPPING * len(self.drops) and noise_ok)

    def line(self) -> str:
        noise = (f"noise ablation drop {self.mean_noise_drop:+.3f} over {len(self.noise_drops)} seeds "
                 f"(must be < {'the' if self.fallback else '½ the'} mod drop)") if self.noise_drops else "no noise runs"
        return (f"- β-VAE {self.dataset}: mean MIG drop original → modified {self.mean_drop:+.3f} "
                f"(≥ {MIN_DROP:.2f} required), {self.dropping}/{len(self.drops)} paired seeds drop; {noise}: "
                f"**{'PASS' if self.passed else 'FAIL'}**")


def _beta_mig(records: Iterable, exps: Mapping[str, ExperimentRecord], *,
              per_factor: bool = False) -> dict[str, dict[str, dict[int, Any]]]:
    """dataset → data variant → seed → MIG (``per_factor``: the tuple of ``mig_factor_k``; runs
    without them left out) of the done β-VAE runs of the split-table experiments."""
    out: dict[str, dict[str, dict[int, float]]] = {}
    for rec in records:
        exp = exps.get(rec.experiment)
        if exp is None or not exp.layout.get("tables") or rec.status != "done" or _skipped(rec):
            continue
        group, params = rec.config.get("group", {}), rec.config.get("params", {})
        mig = (rec.metrics or {}).get("mig")
        if per_factor:
            keys = sorted((k for k in (rec.metrics or {}) if k.startswith("mig_factor_")),
                          key=lambda k: int(k.rsplit("_", 1)[-1]))
            mig = tuple(float(rec.metrics[k]) for k in keys) if keys else None
            if mig is None or not all(math.isfinite(v) for v in mig):
                continue
        if group.get("model", params.get("model")) != "beta-vae" or params.get("multiplier", 1.0) != 1.0:
            continue
        if per_factor or (isinstance(mig, (int, float)) and math.isfinite(mig)):
            ds = str(params.get("dataset", group.get("dataset", "?")))
            value = mig if per_factor else float(mig)
            out.setdefault(ds, {}).setdefault(str(group.get("data", params.get("data"))), {})[rec.seed] = value
    return out


def effect_check(records: Iterable, exps: Mapping[str, ExperimentRecord]) -> tuple[list[EffectCheck], str]:
    """The checks and their Markdown section (empty string: no chapter-4 runs in the store)."""
    records = list(records)
    gates = [(rec.experiment, rec.metrics) for rec in records
             if rec.status == "done" and "gate_spread" in (rec.metrics or {})]
    migs = _beta_mig(records, exps)
    if not migs and not gates:
        return [], ""
    lines = ["## Chapter 4 — the effect (SPEC-ch4 §10 check 8, computed from the store)", ""]
    if gates:
        g = gates[0][1]
        spread, passed = float(g["gate_spread"]), bool(g["gate_passed"])
        lines.append(f"- gate: MIG spread of the {int(g.get('gate_runs', 0))} usable Shapes3D selection restarts "
                     f"{spread:.3f} ({'≥' if passed else '<'} {float(g.get('gate_min_spread', 0.15)):.2f}): "
                     + ("the Shapes3D chain ran" if passed else "the dSprites fallback ran"))
    checks = []
    for ds, by in sorted(migs.items()):
        orig, mod, noise = by.get("original", {}), by.get("modified", {}), by.get("noisy", {})
        paired = sorted(set(orig) & set(mod))
        check = EffectCheck(dataset=ds, drops=tuple(orig[s] - mod[s] for s in paired),
                            noise_drops=tuple(orig[s] - noise[s] for s in sorted(set(orig) & set(noise))),
                            fallback=ds.startswith("dsprites") and bool(gates) and not bool(gates[0][1]["gate_passed"]))
        checks.append(check)
        lines.append(check.line())
    return checks, "\n".join(lines) + "\n"


def draw_chapter4_figures(records: Iterable, exps: Mapping[str, ExperimentRecord], out_dir: Path) -> list[Path]:
    """Fig. 4.3 (copied from each perturbation run), Fig. 4.8 and 4.9 (per dataset); the paths written."""
    from vaecore._io import atomic_write_bytes

    written: list[Path] = []
    fig_dir = Path(out_dir) / "figures"
    for rec in records:
        src = Path(rec.artifacts or "") / "fig-4.3.png"
        if rec.status == "done" and rec.config.get("runner") == "perturb" and src.is_file():
            dst = fig_dir / f"fig-4.3-{rec.experiment}.png"
            dst.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(dst, src.read_bytes())
            written.append(dst)
    for ds, by in sorted(_beta_mig(records, exps).items()):
        if by.get("original") and by.get("modified"):
            written.append(_histogram(ds, by, fig_dir / f"fig-4.8-{ds}.png"))
    for ds, by in sorted(_beta_mig(records, exps, per_factor=True).items()):
        if by.get("original") and by.get("modified"):
            written.append(_per_factor(ds, by, fig_dir / f"fig-4.9-{ds}.png"))
    return written


def _per_factor(ds: str, by: dict, path: Path) -> Path:
    """Fig. 4.9: per-factor MIG (``mig_factor_k``), mean ± std over seeds, original vs modified."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 3.0), layout="constrained")
    ax = fig.subplots()
    for j, (data, color) in enumerate((("original", "tab:blue"), ("modified", "tab:red"))):
        rows = np.array([v for v in by[data].values()], dtype=float)
        x = np.arange(rows.shape[1]) + (j - 0.5) * 0.38
        ax.bar(x, rows.mean(axis=0), 0.38, yerr=rows.std(axis=0, ddof=1) if len(rows) > 1 else None,
               color=color, alpha=0.8, label=f"{data} (n={len(rows)})")
    ax.set_xticks(range(rows.shape[1]))
    ax.set_xlabel("factor (scored)")
    ax.set_ylabel("MIG")
    ax.set_title(f"Fig. 4.9 — β-VAE per-factor MIG, {ds}", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _histogram(ds: str, by: dict, path: Path) -> Path:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 3.0), layout="constrained")
    ax = fig.subplots()
    bins = np.linspace(0.0, 1.0, 11)
    for data, color in (("original", "tab:blue"), ("modified", "tab:red")):
        vals = list(by.get(data, {}).values())
        ax.hist(vals, bins=bins, alpha=0.6, color=color, label=f"{data} (n={len(vals)})")
    ax.set_xlabel("MIG")
    ax.set_ylabel("runs")
    ax.set_title(f"Fig. 4.8 — β-VAE MIG, {ds}", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    import io

    from vaecore._io import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buf.getvalue())
    return path

