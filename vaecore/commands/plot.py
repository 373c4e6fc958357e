"""``vaecore plot traversal|eigenfaces RUN``: latent traversals of a trained run."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def _load(run_dir: Path):
    from vaecore import load_run

    return load_run(run_dir)


def _parse_latents(text: str) -> tuple[int, int]:
    try:
        i, j = (int(t) for t in text.split(","))
    except ValueError:
        raise ValueError(f"plot traversal: --latents must be two integers 'i,j'; got {text!r}") from None
    return i, j


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="draw latent traversals of a trained run (PNG + PDF)")
    psub = p.add_subparsers(dest="plot_kind", metavar="KIND", required=True)
    t = psub.add_parser("traversal", help="2-D traversal grid of two latents")
    t.add_argument("run", type=Path, help="a run directory (vaecore train --out / sweep artifacts)")
    t.add_argument("--latents", required=True, help="two latent indices 'i,j'")
    t.add_argument("--range", type=float, default=2.5, help="traverse ±RANGE (default 2.5)")
    t.add_argument("--steps", type=int, default=7, help="values per axis (default 7)")
    t.add_argument("--n-samples", type=int, default=300,
                   help="test-split points for the mean latent")
    t.add_argument("--seed", type=int, default=0, help="seed of the sample of the run's test split")
    t.add_argument("--out", type=Path, default=None, help="file stem (default RUN/traversal_i_j)")
    t.set_defaults(func=run_traversal)
    e = psub.add_parser("eigenfaces", help="Fig. 3.6: ±alpha along the k latents of smallest mean σ")
    e.add_argument("run", type=Path)
    e.add_argument("--alpha", type=float, default=2.5)
    e.add_argument("--k", type=int, default=5)
    e.add_argument("--n-samples", type=int, default=300)
    e.add_argument("--seed", type=int, default=0, help="seed of the sample of the run's test split")
    e.add_argument("--out", type=Path, default=None, help="file stem (default RUN/eigenfaces)")
    e.set_defaults(func=run_eigenfaces)
    from vaecore.commands.visuals import register_plot_kinds

    register_plot_kinds(psub)  # traversals, reconstructions


def run_traversal(args: argparse.Namespace) -> int:
    from vaecore.report.figures import save_figure
    from vaecore.report.traversals import (
        latent_statistics,
        observation_shape,
        plot_traversal_grid,
        sample_observations,
        traverse_2d,
    )

    i, j = _parse_latents(args.latents)
    if args.steps < 2:
        raise ValueError(f"plot traversal: --steps must be >= 2; got {args.steps}")
    run = _load(args.run)
    d = int(run.model.latent_dim)
    for name, v in (("i", i), ("j", j)):
        if not 0 <= v < d or i == j:
            raise ValueError(f"plot traversal: --latents must be two distinct indices in [0, {d}); "
                             f"got {args.latents!r}")
    z0, _ = latent_statistics(run.model, sample_observations(run, args.n_samples, args.seed))
    values = np.linspace(-args.range, args.range, args.steps)
    grid = traverse_2d(run.model, z0, i, j, values)
    fig = plot_traversal_grid(grid, values, (i, j), observation_shape(run))
    for p in save_figure(fig, args.out or Path(args.run) / f"traversal_{i}_{j}"):
        print(f"wrote {p}")
    return 0


def run_eigenfaces(args: argparse.Namespace) -> int:
    from vaecore.report.traversals import draw_eigenfaces

    paths = draw_eigenfaces(args.run, args.out or Path(args.run) / "eigenfaces", alpha=args.alpha,
                            k=args.k, n_samples=args.n_samples, seed=args.seed)
    for p in paths:
        print(f"wrote {p}")
    return 0
