"""``vaecore select DIR``: rank restarts by DtO alone (unsupervised model selection)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vaecore.experiments.select import select_by_dto, selections_markdown
from vaecore.experiments.store import ResultsStore, is_store


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "select",
        help="pick the restart with the lowest DtO (no labels) and score that choice by DS/MIG",
    )
    p.add_argument("dir", type=Path, help="output directory of a sweep (holds results.sqlite)")
    p.add_argument("--experiment", default=None, help="only this experiment")
    p.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not is_store(args.dir):
        raise FileNotFoundError(f"select: no results store in {str(args.dir)!r}")
    with ResultsStore(args.dir) as store:
        selections = select_by_dto(store.runs(status="done"), experiment=args.experiment)
    if not selections:
        raise ValueError("select: no done runs with a DtO value in this store")
    if args.json:
        print(json.dumps([s.as_dict() for s in selections], indent=2))
    else:
        print(selections_markdown(selections))
    return 0
