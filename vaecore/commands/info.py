"""``vaecore info``: what was built (compiler, kernel families, threads, CUDA)."""

from __future__ import annotations

import argparse
import json

from vaecore._native import build_info


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="print build information of the compiled core as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(json.dumps(build_info(), indent=2, default=str))
    return 0
