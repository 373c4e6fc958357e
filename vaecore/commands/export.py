"""``vaecore export RUN`` (model weights as safetensors + JSON) and ``vaecore runs DIR`` (CSV / JSON lines)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a trained run's model (safetensors weights + config JSON)")
    p.add_argument("run", help="run folder written by `vaecore train`")
    p.add_argument("--format", default="safetensors", choices=["safetensors"])
    p.add_argument("--out", required=True, help="folder for model.safetensors and model.json")
    p.set_defaults(func=run_export)
    r = sub.add_parser("runs", help="list the runs of a results store as CSV or JSON lines")
    r.add_argument("dir", help="sweep output folder (holding results.sqlite) or the store file")
    r.add_argument("--format", default="csv", choices=["csv", "jsonl"])
    r.add_argument("--out", default=None, help="file to write (default: standard output)")
    r.set_defaults(func=run_runs)


def run_export(args: argparse.Namespace) -> int:
    from vaecore.export import export_model

    folder = export_model(args.run, args.out, format=args.format)
    print(f"wrote {folder}/model.safetensors and {folder}/model.json")
    return 0


def run_runs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vaecore.export import write_runs

    path = Path(args.dir)
    store = path / "results.sqlite" if path.is_dir() else path
    if not store.is_file():
        raise FileNotFoundError(f"runs: no results store at {str(store)!r}")
    if args.out == "":
        raise ValueError("runs: --out must name a file; got an empty string")
    text = write_runs(store, args.out, format=args.format)
    if args.out is None:
        sys.stdout.write(text)
    return 0
