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
    p.add_argument("--dci-estimator", choices=("sklearn", "lightgbm"), default="sklearn",
                   help="tree estimator of DCI (default sklearn, whatever is installed)")
    p.add_argument("--json", action="store_true", help="print one JSON object, one key per metric")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vaecore._io import atomic_write_json
    from vaecore.evaluation import evaluate

    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if not names:
        raise ValueError(f"evaluate: --metrics must name at least one metric; got {args.metrics!r}")
    options = {"dci": {"estimator": args.dci_estimator}} if "dci" in names else None
    results = evaluate(args.dir, names, seed=args.seed, n_points=args.n_points, errors="record",
                       options=options)
    path = Path(args.dir) / "metrics.json"
    stored = json.loads(path.read_text()) if path.is_file() else {}
    stored.update(results)
    atomic_write_json(path, json.loads(json.dumps(stored, default=float)))
    if args.json:
        print(json.dumps(results, default=float))
    else:
        for name, res in results.items():
            shown = res.get("error") or res["value"]
            print(f"{name}: {shown}")
    return 1 if any("error" in r for r in results.values()) else 0
