"""``vaecore evaluate DIR --metrics dto,ds[,...] [--json]``: metrics of a trained run."""

from __future__ import annotations

import argparse
import json

from vaecore.cli import metric_list


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="evaluate a trained run (DtO, DS, polarized regime, ... on the test split)",
        description="Compute metrics of the run in DIR and store them in DIR/metrics.json.",
    )
    p.add_argument("dir", help="run folder written by `vaecore train`")
    p.add_argument("--metrics", default="dto,ds", type=metric_list,
                   help="comma-separated metric names (default dto,ds)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-points", type=int, default=None, dest="n_points")
    p.add_argument("--json", action="store_true", help="print one JSON object, one key per metric")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vaecore.evaluation import evaluate
    from vaecore.training.checkpoint import write_json_atomic

    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    results = evaluate(args.dir, names, seed=args.seed, n_points=args.n_points, errors="record")
    path = Path(args.dir) / "metrics.json"
    stored = json.loads(path.read_text()) if path.is_file() else {}
    stored.update(results)
    write_json_atomic(path, json.loads(json.dumps(stored, default=float)))
    if args.json:
        print(json.dumps(results, default=float))
    else:
        for name, res in results.items():
            shown = res.get("error") or res["value"]
            print(f"{name}: {shown}")
    return 1 if any("error" in r for r in results.values()) else 0
