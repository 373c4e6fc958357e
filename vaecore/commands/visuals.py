"""``vaecore plot traversals|reconstructions RUN``: the traversal grid over every latent (+ GIF)
and the reconstructions grid of a trained run (:mod:`vaecore.report.visuals`).

:func:`register_plot_kinds` adds the two kinds to the ``plot`` command's sub-parsers.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register_plot_kinds(psub: argparse._SubParsersAction) -> None:
    """Add ``traversals`` and ``reconstructions`` to ``vaecore plot``."""
    t = psub.add_parser(
        "traversals",
        help="every latent traversed, rows sorted by mean KL on the test split, collapsed ones grey",
    )
    t.add_argument("run", type=Path, help="a run directory (vaecore train --out / sweep artifacts)")
    t.add_argument("--out", type=Path, default=None, help="file stem (default RUN/traversals)")
    t.add_argument("--n", type=int, default=256, help="test-split probe batch size (default 256)")
    t.add_argument("--seed", type=int, default=0, help="seed of the probe batch (default 0)")
    t.add_argument("--steps", type=int, default=9, help="traversal values per latent (default 9)")
    t.add_argument("--span", type=float, default=2.0, help="traverse ±SPAN (default 2)")
    t.add_argument("--mode", choices=("fitted", "fixed"), default="fitted",
                   help="fitted: ±SPAN std of the aggregate posterior (default); fixed: ±SPAN")
    t.add_argument("--gif", action="store_true", help="also write an animated GIF (needs Pillow)")
    t.set_defaults(func=run_traversals)
    r = psub.add_parser("reconstructions", help="test-split inputs (top) above their reconstructions")
    r.add_argument("run", type=Path, help="a run directory")
    r.add_argument("--out", type=Path, default=None, help="file stem (default RUN/reconstructions)")
    r.add_argument("--n", type=int, default=8, help="number of columns (default 8)")
    r.add_argument("--seed", type=int, default=0, help="seed of the test-split sample (default 0)")
    r.set_defaults(func=run_reconstructions)


def run_traversals(args: argparse.Namespace) -> int:
    from vaecore.report.visuals import draw_traversals

    paths = draw_traversals(args.run, args.out or Path(args.run) / "traversals", n_probe=args.n,
                            steps=args.steps, span=args.span, mode=args.mode, seed=args.seed,
                            gif=args.gif)
    for p in paths:
        print(f"wrote {p}")
    return 0


def run_reconstructions(args: argparse.Namespace) -> int:
    from vaecore.report.visuals import draw_reconstructions

    for p in draw_reconstructions(args.run, args.out or Path(args.run) / "reconstructions",
                                  n=args.n, seed=args.seed):
        print(f"wrote {p}")
    return 0
