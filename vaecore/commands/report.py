"""``vaecore report DIR``: tables (Markdown + CSV) beside the thesis's numbers, and figures.

Argument parsing only; the report is :func:`vaecore.report.report`.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="print and write the tables (and figures) of a results store")
    p.add_argument("dir", type=Path, help="output directory of a sweep (holds results.sqlite)")
    p.add_argument("--out", type=Path, default=None, help="where to write (default DIR/report)")
    p.add_argument("--no-figures", action="store_true", help="tables only")
    p.add_argument("--failed", action="store_true", help="print the tracebacks of failed runs")
    p.set_defaults(func=run)


def print_report(result) -> None:
    """Print a :class:`vaecore.report.Report`: its Markdown and the files written."""
    print(result.markdown)
    print("\n".join(f"wrote {p}" for p in result.written))


def run(args: argparse.Namespace) -> int:
    from vaecore.experiments.store import ResultsStore
    from vaecore.report import report

    result = report(args.dir, args.out, figures=not args.no_figures)
    print_report(result)
    print("runs: " + ", ".join(f"{k} {v}" for k, v in result.counts.items()))
    if args.failed:
        with ResultsStore(args.dir) as store:
            for rec in store.runs(status="failed"):
                print(f"\n--- failed run {rec.id} ({rec.experiment}, seed {rec.seed}, "
                      f"{rec.config.get('group')}):\n{rec.error}")
    return 0
