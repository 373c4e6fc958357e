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
        description="Among the restarts (seeds) of each configuration of the latest sweep in DIR, "
                    "pick the run with the lowest DtO and report its DS/MIG beside the mean and "
                    "best over the restarts, and the Spearman correlation of -DtO with them.",
    )
    p.add_argument("dir", type=Path, help="output directory of a sweep (holds results.sqlite)")
    p.add_argument("--experiment", default=None, help="only this experiment")
    p.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    p.add_argument("--udr", action="store_true",
                   help="also rank the restarts by UDR (Duan et al. 2020) and compare its choice with DtO's")
    p.add_argument("--seed", type=int, default=0, help="seed of the UDR inputs (test split)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not is_store(args.dir):
        raise FileNotFoundError(f"select: no results store in {str(args.dir)!r}")
    from vaecore.report.sources import experiment_records

    with ResultsStore(args.dir) as store:
        done = store.runs(status="done")
        exps = experiment_records(store, sorted({r.experiment for r in done}))
    current = {n: set(rec.runs) for n, rec in exps.items() if rec.runs}
    records = [r for r in done if r.experiment not in current or r.id in current[r.experiment]]
    selections = select_by_dto(records, experiment=args.experiment)
    if not selections:
        raise ValueError("select: no done runs with a DtO value in this store")
    comparisons = _udr(selections, records, args.seed) if args.udr else []
    if args.json:
        out = [s.as_dict() for s in selections]
        if args.udr:
            out = {"dto": out, "udr": [c.as_dict() for c in comparisons]}
        print(json.dumps(out, indent=2))
    else:
        print(selections_markdown(selections))
        if args.udr:
            from vaecore.experiments.select_udr import comparisons_markdown

            print("UDR (Duan et al. 2020) beside DtO:\n")
            print(comparisons_markdown(comparisons))
    return 0


def _udr(selections, records, seed: int) -> list:
    from vaecore.experiments.select_udr import compare_udr

    out = []
    for s in selections:
        group = [r for r in records if r.experiment == s.experiment
                 and json.dumps(r.config.get("group", {}), sort_keys=True) == json.dumps(s.group, sort_keys=True)
                 and isinstance((r.metrics or {}).get("dto"), (int, float))]
        out.append(compare_udr(s, group, seed=seed))
    return out
