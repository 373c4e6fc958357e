"""The ``vaecore`` command.

Subcommands live in :mod:`vaecore.commands`, one module each with a
``register(subparsers)`` function; this file only assembles them, so adding a
command touches one line here. It also holds the argument types commands share
(:func:`nonempty_path`, :func:`metric_list`) and the error policy: every expected
failure (:data:`EXPECTED_ERRORS`: a bad config, file, store or checkpoint, a
non-finite loss, an I/O error) prints one line ``vaecore COMMAND: error: ...`` on
stderr and exits 1 (130 on Ctrl-C); ``--debug`` anywhere on the command line shows
the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pickle
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

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
    "vaecore.commands.export",
    "vaecore.commands.perturb",
)


# what a user can cause: bad input, files, stores and checkpoints (ValueError covers
# StoreError, CheckpointError, JSON/TOML/UTF-8 decoding), I/O, a non-finite loss
# (FloatingPointError), a damaged pickle; anything else is a bug and keeps its traceback
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, TypeError, OSError, RuntimeError, FloatingPointError, EOFError,
    sqlite3.Error, pickle.UnpicklingError,
)
_FILE_ARGS = ("config", "dir", "experiment", "out")


def nonempty_path(text: str) -> Path:
    """Argument type of output/input folders: refuses ``""`` (which would mean the current folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder path; got an empty string")
    return Path(text)


def metric_list(text: str) -> str:
    """Argument type of ``--metrics``: ``"dto, ds"`` → ``"dto,ds"``; refuses a list without names."""
    names = [m.strip() for m in text.split(",") if m.strip()]
    if not names:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated metric names such as dto,ds; got {text!r}")
    return ",".join(names)


def describe_error(exc: BaseException, args: argparse.Namespace) -> str:
    """One line for an expected failure; decoding errors that lack a file name get the command's
    file arguments (``config``, ``dir`` ...)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, FloatingPointError) and type(exc) is not FloatingPointError:
        text = f"{type(exc).__name__}: {text}"
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)) or type(exc).__name__ == "TOMLDecodeError":
        given = [f"{k} {str(getattr(args, k))!r}" for k in _FILE_ARGS if getattr(args, k, None)]
        kind = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else "cannot be parsed"
        text = f"a file read for {' / '.join(given) or 'this command'} {kind}: {text}"
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vaecore",
        description="Train VAEs, measure disentanglement and orthogonality, reproduce the thesis.",
    )
    parser.add_argument("--version", action="version", version=f"vaecore {vaecore.__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (anywhere on the command line)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        from vaecore.experiments.runfns import load_plugins

        load_plugins()  # $VAECORE_PLUGINS: the user's explicit opt-in for run-function plugins
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"vaecore {args.command}: interrupted", file=sys.stderr)
        return 130
    except EXPECTED_ERRORS as exc:
        if debug:
            raise
        print(f"vaecore {args.command}: error: {describe_error(exc, args)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
