"""``vaecore perturb``: the perturbed datasets of thesis chapter 4 (§4.2.3–4.3.1).

    vaecore perturb select DIR [--n 4]                          # top/bottom MIG β-VAEs of a sweep
    vaecore perturb train --dis RUN... --ent RUN... --eps 0.175 --out DIR [--steps N]
    vaecore perturb train --select DIR --n 4 --eps 0.175 --out DIR
    vaecore perturb preview DIR [--out FIG]                     # Fig. 4.3 as PNG + PDF
    vaecore perturb export DIR --out FILE                       # the whole altered dataset
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("perturb", help="select β-VAEs, train a manipulator, preview and export perturbed datasets")
    inner = p.add_subparsers(dest="perturb_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    q = inner.add_parser("select", help="rank β-VAE runs by MIG; pick the top-n / bottom-n (§4.2.3)")
    q.add_argument("dir", type=Path, help="a sweep's output folder (store), a run folder or a folder of runs")
    q.add_argument("--n", type=int, default=1, help="models per side (1; 4 for ensembles)")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--max-points", type=int, default=10_000, help="grid points scored (sampled above)")
    q.add_argument("--json", type=Path, default=None, help="also write the selection as JSON here")
    q.set_defaults(func=run_select)

    q = inner.add_parser("train", help="train the manipulation network m(w) (§4.2.4, Fig. 4.2)")
    q.add_argument("--dis", nargs="+", type=Path, default=None, help="disentangled run folder(s)")
    q.add_argument("--ent", nargs="+", type=Path, default=None, help="entangled run folder(s)")
    q.add_argument("--select", type=Path, default=None, help="select dis/ent from this folder instead")
    q.add_argument("--n", type=int, default=1, help="with --select: models per side")
    q.add_argument("--eps", type=float, required=True, help="0.1 dSprites, 0.175 Shapes3D")
    q.add_argument("--out", type=Path, required=True)
    q.add_argument("--steps", type=int, default=20_000, help="manipulator updates")
    for flag, kind, default in (("--decoder-updates", int, 3), ("--latent-samples", int, 5),
                                ("--batch-size", int, 64), ("--lr", float, 1e-4), ("--seed", int, 0),
                                ("--probe-size", int, 1024), ("--log-every", int, 100),
                                ("--checkpoint-every", int, 1000)):
        q.add_argument(flag, type=kind, default=default)
    q.add_argument("--m-lr", type=float, default=None, help="the manipulator's learning rate (default: --lr)")
    q.add_argument("--loss", choices=("bernoulli", "l2"), default=None,
                   help="default: the decoders' likelihood")
    q.add_argument("--restart", action="store_true", help="start over instead of resuming a checkpoint in --out")
    q.add_argument("--no-progress", action="store_true")
    q.set_defaults(func=run_train)

    q = inner.add_parser("preview", help="draw Fig. 4.3: original | manipulation | altered")
    q.add_argument("dir", type=Path, help="manipulator folder")
    q.add_argument("--out", type=Path, default=None, help="figure path without suffix (default DIR/fig-4.3)")
    q.add_argument("--n", type=int, default=3)
    q.add_argument("--seed", type=int, default=0)
    q.set_defaults(func=run_preview)

    q = inner.add_parser("export", help="write the whole altered dataset in the base dataset's file layout")
    q.add_argument("dir", type=Path, help="manipulator folder")
    q.add_argument("--out", type=Path, required=True, help=".npz (dSprites, other) or .h5 (Shapes3D)")
    q.add_argument("--image-dtype", choices=("float32", "float16"), default="float32",
                   help="dtype of the .npz images")
    q.add_argument("--overwrite", action="store_true")
    q.set_defaults(func=run_export)


def run_select(args: argparse.Namespace) -> int:
    from vaecore._io import atomic_write_json
    from vaecore.perturb import select_models

    sel = select_models(args.dir, n=args.n, seed=args.seed, max_points=args.max_points)
    print(sel.markdown(), end="")
    if args.json is not None:
        atomic_write_json(args.json, sel.as_dict())
    return 0


def run_train(args: argparse.Namespace) -> int:
    from vaecore._io import atomic_write_json
    from vaecore.perturb import select_models, train_manipulator

    if (args.select is None) == (args.dis is None or args.ent is None):
        raise ValueError("perturb train: give either --dis RUN... and --ent RUN..., or --select DIR")
    if args.select is not None:
        sel = select_models(args.select, n=args.n, seed=args.seed)
        dis = [sel.runs[r] for r in sel.disentangled]
        ent = [sel.runs[r] for r in sel.entangled]
        atomic_write_json(args.out / "selection.json", sel.as_dict())
    else:
        dis, ent = args.dis, args.ent
    res = train_manipulator(
        dis, ent, eps=args.eps, steps=args.steps, out=args.out, progress=not args.no_progress,
        resume=not args.restart, overwrite=args.restart, decoder_updates=args.decoder_updates,
        latent_samples=args.latent_samples, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
        probe_size=args.probe_size, log_every=args.log_every, checkpoint_every=args.checkpoint_every,
        loss=args.loss, m_lr=args.m_lr)
    first, last = res.history[0], res.history[-1]
    print(json.dumps({"out": str(args.out), "steps": last["step"], "gap_initial": first["gap"],
                      "gap_final": last["gap"], "l_ent": last["l_ent"], "l_dis": last["l_dis"]}))
    return 0


def run_preview(args: argparse.Namespace) -> int:
    from vaecore.perturb import preview

    paths = preview(args.dir, args.out if args.out is not None else args.dir / "fig-4.3", n=args.n, seed=args.seed)
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def run_export(args: argparse.Namespace) -> int:
    from vaecore.perturb import export

    path = export(args.dir, args.out, image_dtype=args.image_dtype, overwrite=args.overwrite)
    print(f"wrote {path}")
    return 0
