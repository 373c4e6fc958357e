"""The ``vaecore`` command.

Subcommands live in :mod:`vaecore.commands`, one module each with a
``register(subparsers)`` function; this file only assembles them, so adding a
command touches one line here.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

import vaecore

# Order = order in `vaecore --help`.
COMMAND_MODULES: tuple[str, ...] = (
    "vaecore.commands.info",
    "vaecore.commands.datasets",
    "vaecore.commands.train",
    "vaecore.commands.evaluate",
    "vaecore.commands.sweep",
    "vaecore.commands.reproduce",
    "vaecore.commands.report",
    "vaecore.commands.plot",
    "vaecore.commands.select",
    "vaecore.commands.tune_beta",
    "vaecore.commands.perturb",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vaecore",
        description="Train VAEs, measure disentanglement and orthogonality, reproduce the thesis.",
    )
    parser.add_argument("--version", action="version", version=f"vaecore {vaecore.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as exc:
        print(f"vaecore {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
