"""Report figures (matplotlib, optional extra ``plot``; PNG and PDF) — SPEC §6.

* :func:`plot_scatter` — Fig. 3.4: DtO vs DS, one point per run, coloured by training length.
* :func:`plot_line_search` — Fig. 3.7: DS (top) and DtO (bottom) vs β, mean ± std over seeds.
* :func:`plot_ratio` — Table 3.4: DS and DtO vs the Synth. Lin. ratio, ours beside the thesis's.

All draw on a :class:`matplotlib.figure.Figure` (no pyplot global state) and are written
atomically by :func:`save_figure`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from vaecore._io import atomic_write
from vaecore._paths import check_component
from vaecore.report.tables import Table


def _figure(*, nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (5.0, 4.0)):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise RuntimeError(
            "figures need matplotlib: pip install 'vaecore[plot]'"
        ) from None
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig, path: str | Path, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Save ``fig`` as ``path.<fmt>`` for each format, each atomically (:mod:`vaecore._io`)."""
    path = Path(path)
    written = []
    for fmt in formats:
        final = path.parent / f"{path.name}.{fmt}"
        written.append(atomic_write(final, lambda fh, fmt=fmt: fig.savefig(fh, format=fmt, dpi=150)))
    return written


def _as_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def plot_scatter(table: Table):
    """Fig. 3.4: DtO (x) vs DS (y), one point per run; Spearman ρ in the title."""
    from scipy.stats import spearmanr

    fig, axes = _figure()
    ax = axes[0, 0]
    xs_all, ys_all = [], []
    for ci, col in enumerate(table.columns):
        xs, ys = [], []
        for row in table.rows:
            a, b = table.cells.get((row, "dto", col)), table.cells.get((row, "ds", col))
            if a and b and len(a.values) == len(b.values):
                xs += list(a.values)
                ys += list(b.values)
        if xs:
            ax.scatter(xs, ys, label=f"{table.columns_key} {col}", color=f"C{ci}", s=18)
            xs_all += xs
            ys_all += ys
    ax.set_xlabel("DtO ↓")
    ax.set_ylabel("DS ↑")
    if len(xs_all) > 2:
        rho = spearmanr(xs_all, ys_all).statistic
        ax.set_title(f"{table.title}\nSpearman ρ(DtO, DS) = {rho:.2f}", fontsize=9)
    else:
        ax.set_title(table.title, fontsize=9)
    ax.legend(fontsize=8)
    return fig


def _errorbar_panels(table: Table, metrics: Sequence[str], *, logx: bool, thesis: bool):
    fig, axes = _figure(nrows=len(metrics), size=(5.0, 2.6 * len(metrics)))
    xs = np.array([_as_float(c) for c in table.columns])
    order = np.argsort(xs)
    for mi, metric in enumerate(metrics):
        ax = axes[mi, 0]
        for ri, row in enumerate(table.rows):
            cells = [table.cells.get((row, metric, table.columns[i])) for i in order]
            pts = [(xs[i], c.mean, c.std) for i, c in zip(order, cells) if c and c.mean is not None]
            if pts:
                x, m, s = map(np.array, zip(*pts))
                ax.errorbar(x, m, yerr=s, marker="o", capsize=3, color=f"C{ri}", label=f"{row} (ours)")
            if thesis:
                tp = [(xs[i], c.thesis_mean, c.thesis_std or 0.0) for i, c in zip(order, cells)
                      if c and c.thesis_mean is not None]
                if tp:
                    x, m, s = map(np.array, zip(*tp))
                    ax.errorbar(x + 0.01, m, yerr=s, marker="s", capsize=3, linestyle="--",
                                color=f"C{ri}", alpha=0.6, label=f"{row} (thesis)")
        if logx:
            ax.set_xscale("log")
        ax.set_ylabel(table.label(metric))
        ax.legend(fontsize=7)
    axes[-1, 0].set_xlabel(table.columns_key)
    axes[0, 0].set_title(table.title, fontsize=9)
    return fig


def plot_line_search(table: Table):
    """Fig. 3.7: DS and DtO vs β (log scale), mean ± std over seeds, one line per dataset."""
    return _errorbar_panels(table, [m for m in ("ds", "dto") if m in table.metrics], logx=True,
                            thesis=False)


def plot_ratio(table: Table):
    """Table 3.4 as a plot: DS and DtO vs the ratio, ours beside the thesis's."""
    return _errorbar_panels(table, [m for m in ("ds", "dto") if m in table.metrics], logx=False,
                            thesis=True)


FIGURES = {"scatter": plot_scatter, "line": plot_line_search, "ratio": plot_ratio}


def draw_figures(tables: Iterable[Table], kinds: dict[str, str], out: str | Path) -> list[Path]:
    """Draw the figure of every table whose experiment asks for one (``kinds``: table → kind)."""
    written: list[Path] = []
    for table in tables:
        kind = kinds.get(table.id, "none")
        if kind in FIGURES and table.cells:
            fig = FIGURES[kind](table)
            name = check_component(table.id, what="report table id")
            written += save_figure(fig, Path(out) / "figures" / name)
    return written
