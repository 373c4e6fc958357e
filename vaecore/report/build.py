"""``report(store_path, out_dir)``: every table and figure of a results store, from the store alone.

The tables are laid out by the experiment records the sweep wrote into the store
(:mod:`vaecore.report.sources`); everything is written inside ``out_dir``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vaecore._io import atomic_write_text
from vaecore._paths import check_component
from vaecore.experiments.store import ResultsStore, is_store
from vaecore.report.aggregate import build_tables
from vaecore.report.chapter4 import draw_chapter4_figures, effect_check, split_tables
from vaecore.report.provenance import provenance_markdown
from vaecore.report.sources import experiment_records
from vaecore.report.tables import Table, write_tables

__all__ = ["Report", "report"]


@dataclass(frozen=True)
class Report:
    """What :func:`report` built: the tables, the files written and the Markdown text."""

    tables: tuple[Table, ...]
    written: tuple[Path, ...]
    markdown: str
    counts: dict

    @property
    def value(self) -> int:
        """Cells outside the thesis's mean ± std, over all tables."""
        return sum(t.value for t in self.tables)


def report(store_path: str | Path, out_dir: str | Path | None = None, *, figures: bool = True,
           experiments: Iterable[str] | None = None, log=None) -> Report:
    """Build the report of the results store at ``store_path`` into ``out_dir``.

    Parameters
    ----------
    store_path : path
        A sweep's output folder (holding ``results.sqlite``) or the database file.
    out_dir : path, optional
        Where ``report.md``, one ``<table>.csv`` per table and ``figures/`` go (default:
        ``report`` beside the store). Nothing is written outside it.
    figures : bool
        Draw the figures the experiments ask for (needs matplotlib; skipped with a note
        without it).
    experiments : iterable of str, optional
        Only these experiments (default: every experiment in the store).
    log : callable, optional
        Receives notes about skipped figures (default: stderr).
    """
    log = log or (lambda line: print(line, file=sys.stderr))
    if not is_store(store_path):
        raise FileNotFoundError(f"report: no results store in {str(store_path)!r} (run 'vaecore sweep' first)")
    with ResultsStore(store_path) as store:
        out_dir = Path(out_dir) if out_dir is not None else Path(store.path).parent / "report"
        records = store.runs()
        counts = store.counts()
        if experiments is not None:
            wanted = set(experiments)
            records = [r for r in records if r.experiment in wanted]
        exps = experiment_records(store, sorted({r.experiment for r in records}))
    split_records, split_exps = split_tables(records, exps)  # chapter 4: one table per metric
    tables = build_tables(split_records, split_exps)
    written = write_tables(tables, out_dir)
    markdown = "\n".join(t.to_markdown() for t in tables)
    _, effect = effect_check(records, exps)
    extra = [part for part in (effect, provenance_markdown(records)) if part]
    if extra:  # the chapter-4 check and the provenance table go into report.md
        markdown += "\n" + "\n".join(extra)
        atomic_write_text(out_dir / "report.md", markdown)
    if effect:
        written.append(atomic_write_text(out_dir / "chapter4-check.md", effect))
    if figures:
        written += _figures(tables, split_records, split_exps, out_dir, log)
        if effect:
            try:
                written += draw_chapter4_figures(records, exps, out_dir)
            except ImportError as exc:
                log(f"report: chapter-4 figures skipped: {exc}")
    return Report(tables=tuple(tables), written=tuple(written), markdown=markdown, counts=counts)


def _figures(tables, records, exps, out_dir: Path, log) -> list[Path]:
    kinds = {rec.table: rec.figure for rec in exps.values() if rec.figure != "none"}
    try:
        from vaecore.report.figures import draw_figures

        written = draw_figures(tables, kinds, out_dir)
    except RuntimeError as exc:  # matplotlib missing
        log(f"report: figures skipped: {exc}")
        return []
    from vaecore.report.traversals import draw_eigenfaces

    for rec in records:
        exp = exps.get(rec.experiment)
        if exp is None or exp.figure != "eigenfaces" or rec.status != "done":
            continue
        if not rec.artifacts or not Path(rec.artifacts).is_dir():
            continue
        try:
            name = check_component(f"eigenfaces-{rec.id}", what="run id")
            written += draw_eigenfaces(rec.artifacts, out_dir / "figures" / name)
        except (ImportError, ValueError, FileNotFoundError) as exc:
            log(f"report: eigenfaces of run {rec.id} skipped: {exc}")
    return written
