"""``vaecore tune-beta``: raise β until one latent's mean posterior variance is ≈ 1 (§3.3.6)."""

from __future__ import annotations

import argparse
import json
import sys

from vaecore.experiments.shipped import parse_overrides
from vaecore.experiments.tune import train_mean_variances, tune_beta


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tune-beta",
        help="find β where the model enters the polarized regime (rule of thesis §3.3.6)",
    )
    p.add_argument("--dataset", required=True)
    p.add_argument("--model", default="beta-vae")
    p.add_argument("--scale", choices=("quick", "thesis"), default="quick")
    p.add_argument("--start", type=float, default=1e-4, help="first β (default 1e-4)")
    p.add_argument("--factor", type=float, default=2.0, help="geometric step (default 2)")
    p.add_argument("--max-iter", type=int, default=16)
    p.add_argument("--threshold", type=float, default=0.9,
                   help="stop when max_j E sigma_j^2 >= this (default 0.9, i.e. ≈ 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fn = train_mean_variances(args.dataset, args.model, scale=args.scale, seed=args.seed,
                              overrides=parse_overrides(args.overrides))
    result = tune_beta(fn, start=args.start, factor=args.factor, max_iter=args.max_iter,
                       threshold=args.threshold, log=lambda s: print(s, file=sys.stderr))
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    elif result.value is None:
        print(f"tune-beta: no latent reached E sigma^2 >= {args.threshold} up to "
              f"beta={result.steps[-1].beta:.4g}; raise --max-iter or --start")
    else:
        last = result.steps[-1]
        print(f"tune-beta: beta = {result.value:.4g} (active units there: {last.active_units}; "
              f"E sigma^2 = {[round(v, 3) for v in last.mean_variance]})")
    return 0 if result.value is not None else 1
