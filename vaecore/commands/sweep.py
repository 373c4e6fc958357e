"""``vaecore sweep CONFIG``: expand an experiment config into runs, execute, record in a store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vaecore.cli import nonempty_path
from vaecore.experiments import (
    ResultsStore,
    make_executor,
    parse_overrides,
    plan_stages,
    resolve_experiments,
    run_stages,
)
from vaecore.experiments.executors import EXECUTORS

EXIT_RUNS_FAILED = 3


def add_execution_args(p: argparse.ArgumentParser, *, default_workers: int = 1) -> None:
    """Options shared by ``sweep`` and ``reproduce``."""
    p.add_argument("--seeds", type=int, default=None,
                   help="number of seeds 0..N-1 (default: the config's, per scale)")
    p.add_argument("--executor", choices=EXECUTORS, default=None,
                   help="where runs execute: local (default; sequential or a process pool) or "
                        "ray (optional extra)")
    p.add_argument("--backend", choices=EXECUTORS, default=None, dest="backend_alias",
                   help="deprecated name of --executor")
    p.add_argument("--workers", type=int, default=None,
                   help=f"runs in flight at once (local: default {default_workers}, >1 = a process "
                        "pool; ray: default = the cluster's CPUs / --threads)")
    p.set_defaults(default_workers=default_workers)
    p.add_argument("--threads", type=int, default=1, help="torch threads per worker (default 1)")
    p.add_argument("--address", default=None,
                   help="Ray cluster address to join (default: a local Ray bound to 127.0.0.1)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a run parameter in every run (TOML value), e.g. --set steps=100")
    p.add_argument("--out", required=True, type=nonempty_path,
                   help="output directory (store + artifacts)")


def executor_name(args: argparse.Namespace) -> str:
    """``--executor``, or the deprecated ``--backend`` (with a warning on stderr)."""
    alias = getattr(args, "backend_alias", None)
    if alias is None:
        return args.executor or "local"
    print("vaecore: warning: --backend is deprecated; use --executor", file=sys.stderr)
    if args.executor not in (None, alias):
        raise ValueError(f"--executor {args.executor} and --backend {alias} disagree; give --executor only")
    return alias


def run_sweeps(specs, args: argparse.Namespace, *, scale: str) -> int:
    """Sweep every spec into ``args.out``; return the number of failed runs."""
    overrides = parse_overrides(args.overrides)
    stages = plan_stages(specs, scale=scale, seeds=args.seeds, overrides=overrides)
    name = executor_name(args)
    workers = args.workers
    if workers is None and name == "local":
        workers = args.default_workers
    executor = make_executor(name, workers=workers, address=args.address, threads=args.threads)
    try:
        with ResultsStore(args.out) as store:
            result = run_stages(stages, store, executor=executor, out=args.out)
    finally:
        executor.close()
    print(f"sweep: {result.total} runs: {result.skipped} already done, {result.done} done now, "
          f"{result.failed} failed; store: {Path(args.out) / 'results.sqlite'}", file=sys.stderr)
    return result.failed + len(result.blocked)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="run an experiment config (all variants x grid x seeds) into a results store",
        description="Expand CONFIG (a shipped experiment name, a group such as 'synthetic', or a "
                    "path to a .toml file) into runs, train and evaluate each, and record them in "
                    "OUT/results.sqlite. Rerunning skips runs already done. Exit status 3 when "
                    "some runs failed (their tracebacks are in the store).",
    )
    p.add_argument("config", help="experiment name, group name or path to a TOML config")
    p.add_argument("--scale", choices=("quick", "thesis"), default="thesis",
                   help="the thesis's settings (default) or the quick CPU scale")
    p.add_argument("--quick", action="store_const", dest="scale", const="quick",
                   help="same as --scale quick")
    add_execution_args(p)
    p.set_defaults(func=run)


def check_utf8(config: str) -> None:
    """Refuse a config file that is not UTF-8 text, naming it (TOML decoders do not)."""
    path = Path(config)
    if path.is_file():
        try:
            path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"sweep: config {config!r} is not UTF-8 text ({exc.reason} at byte "
                             f"{exc.start})") from None


def run(args: argparse.Namespace) -> int:
    check_utf8(args.config)
    specs = resolve_experiments(args.config)
    failed = run_sweeps(specs, args, scale=args.scale)
    return EXIT_RUNS_FAILED if failed else 0
