"""``vaecore report DIR``: tables (Markdown + CSV) beside the thesis's numbers, and figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vaecore.experiments.store import ResultsStore, is_store
from vaecore.report.tables import build_tables, layouts_from_store_dir, write_tables


def write_report(out: str | Path, *, figures: bool = True, experiments=None,
                 report_dir: str | Path | None = None) -> str:
    """Build the report of the store in ``out``; write it to ``report_dir`` (default OUT/report).

    Returns the Markdown text.
    """
    out = Path(out)
    if not is_store(out):
        raise FileNotFoundError(f"report: no results store in {str(out)!r} (run 'vaecore sweep' first)")
    report_dir = Path(report_dir) if report_dir is not None else out / "report"
    with ResultsStore(out) as store:
        records = store.runs()
    if experiments is not None:
        records = [r for r in records if r.experiment in set(experiments)]
    layouts = layouts_from_store_dir(out)
    tables = build_tables(records, layouts)
    written = write_tables(tables, report_dir)
    if figures:
        kinds = {}
        for name, lay in layouts.items():
            kinds[lay["report"].get("table", name)] = lay["report"].get("figure", "none")
        for t in tables:
            if t.id not in kinds:
                from vaecore.report.tables import _layout

                for exp in t.experiments:
                    kinds[t.id] = _layout(exp, layouts)["report"].get("figure", "none")
        try:
            from vaecore.report.figures import draw_figures

            written += draw_figures(tables, kinds, report_dir)
            written += _eigenfaces(records, layouts, report_dir)
        except RuntimeError as exc:  # matplotlib missing
            print(f"report: figures skipped: {exc}", file=sys.stderr)
    md = "\n".join(t.to_markdown() for t in tables)
    return md + "\n" + "\n".join(f"wrote {p}" for p in written) + "\n"


def _eigenfaces(records, layouts, report_dir: Path) -> list[Path]:
    """Fig. 3.6 for every done run of an experiment whose figure is ``eigenfaces``."""
    from vaecore.commands.plot import draw_eigenfaces

    written: list[Path] = []
    for rec in records:
        lay = layouts.get(rec.experiment, {})
        if lay.get("report", {}).get("figure") != "eigenfaces" or rec.status != "done":
            continue
        if not rec.artifacts or not Path(rec.artifacts).is_dir():
            continue
        try:
            written += draw_eigenfaces(rec.artifacts, report_dir / "figures" / f"eigenfaces-{rec.id}")
        except (ImportError, ValueError, FileNotFoundError) as exc:
            print(f"report: eigenfaces of run {rec.id} skipped: {exc}", file=sys.stderr)
    return written


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="print and write the tables (and figures) of a results store")
    p.add_argument("dir", type=Path, help="output directory of a sweep (holds results.sqlite)")
    p.add_argument("--out", type=Path, default=None, help="where to write (default DIR/report)")
    p.add_argument("--no-figures", action="store_true", help="tables only")
    p.add_argument("--failed", action="store_true", help="print the tracebacks of failed runs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(write_report(args.dir, figures=not args.no_figures, report_dir=args.out))
    with ResultsStore(args.dir) as store:
        counts = store.counts()
        failed = store.runs(status="failed") if args.failed else []
    print("runs: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for rec in failed:
        print(f"\n--- failed run {rec.id} ({rec.experiment}, seed {rec.seed}, "
              f"{rec.config.get('group')}):\n{rec.error}")
    return 0
