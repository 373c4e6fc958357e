"""``vaecore train``: train one model from a preset, a TOML config, or flags."""

from __future__ import annotations

import argparse
import json
from typing import Any

from vaecore.cli import nonempty_path

# latent dimensions above this are refused before a model is built (the thesis's models use
# 2-10; a dimension in the millions would otherwise fail inside torch's allocator)
MAX_LATENT_DIM = 1024


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a VAE-family model (preset of thesis Table 3.1 or a TOML config)",
        description=(
            "Train one model. Starts from the dataset's preset (thesis Table 3.1) at --scale, or "
            "from --config FILE.toml; flags and --set KEY=VALUE override. Resumes from DIR when "
            "it holds a checkpoint of the same config."
        ),
    )
    p.add_argument("--dataset", help="dataset preset: dsprites, synth-lin, synth-nonlin, mnist, fmnist, celeba, shapes3d")
    from vaecore.models import MODEL_NAMES

    p.add_argument("--model", help=", ".join(MODEL_NAMES) + " (default beta-vae)")
    p.add_argument("--beta", type=float)
    p.add_argument("--scale", choices=("quick", "thesis"), default="quick")
    p.add_argument("--seed", type=int)
    p.add_argument("--seeds", help="comma-separated seeds (e.g. 0,1,2) trained as one batched model; "
                                   "seed s writes its run to OUT/seed-<s> (or OUT formatted when it holds '{seed}')")
    p.add_argument("--steps", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--latent-dim", type=int, dest="latent_dim")
    p.add_argument("--device", choices=("cpu", "cuda", "auto"))
    p.add_argument("--config", help="TOML (or JSON) file with TrainConfig keys")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any TrainConfig key; VALUE is parsed as JSON when possible")
    p.add_argument("--out", required=True, type=nonempty_path,
                   help="run folder (config.json, checkpoint.pt, run.json)")
    p.add_argument("--no-resume", action="store_true", help="refuse to continue an existing run")
    p.add_argument("--overwrite", action="store_true", help="with --no-resume: start over in DIR")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _load_config(cls, path: str):
    """``TrainConfig`` from a TOML or JSON file; every decoding or content error names the file."""
    try:
        return cls.from_json(path) if path.endswith(".json") else cls.from_toml(path)
    except UnicodeDecodeError as exc:
        raise ValueError(f"train: config {path!r} is not UTF-8 text ({exc.reason} at byte "
                         f"{exc.start})") from None
    except (ValueError, TypeError) as exc:  # JSON/TOML syntax, unknown keys, bad values
        raise ValueError(f"train: config {path!r}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from vaecore.training import TrainConfig, train

    overrides: dict[str, Any] = {}
    for key in ("model", "beta", "seed", "steps", "epochs", "latent_dim", "device"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    for item in args.set:
        if "=" not in item:
            raise ValueError(f"train: --set must be KEY=VALUE; got {item!r}")
        key, text = item.split("=", 1)
        overrides[key.strip()] = _value(text)
    if args.config:
        base = _load_config(TrainConfig, args.config)
        if args.dataset:
            overrides["dataset"] = args.dataset
        if "steps" in overrides and "epochs" not in overrides:
            overrides["epochs"] = None
        if "epochs" in overrides and "steps" not in overrides:
            overrides["steps"] = None
        config = base.replace(**overrides)
    elif args.dataset:
        config = TrainConfig.preset(args.dataset, scale=args.scale, **overrides)
    else:
        raise ValueError("train: give --dataset (a preset) or --config FILE")
    if config.latent_dim > MAX_LATENT_DIM:
        raise ValueError(f"train: latent_dim must be at most {MAX_LATENT_DIM} (the thesis's models "
                         f"use 2-10 latents); got {config.latent_dim}")
    if args.seeds is not None:
        return _run_seeds(args, config)
    try:
        result = train(config, out=args.out, resume=not args.no_resume, overwrite=args.overwrite,
                       progress=not args.quiet)
    except FileExistsError as exc:
        raise ValueError(str(exc)) from exc
    summary = {
        "out": str(result.dir),
        "step": result.step,
        "last": result.history[-1] if result.history else None,
        "fraction_polarized": result.polarized.get("fraction_polarized"),
    }
    print(json.dumps(summary))
    return 0


def _summary(result: Any) -> dict[str, Any]:
    return {
        "out": str(result.dir),
        "step": result.step,
        "last": result.history[-1] if result.history else None,
        "fraction_polarized": result.polarized.get("fraction_polarized"),
    }


def _run_seeds(args: argparse.Namespace, config: Any) -> int:
    from vaecore.training.batched import train_seeds

    if args.seed is not None:
        raise ValueError("train: give --seed or --seeds, not both")
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"train: --seeds must be comma-separated ints (e.g. 0,1,2); got {args.seeds!r}") from None
    try:
        results = train_seeds(config, seeds, out=args.out, resume=not args.no_resume, overwrite=args.overwrite,
                              progress=not args.quiet)
    except FileExistsError as exc:
        raise ValueError(str(exc)) from exc
    for result in results:
        print(json.dumps(_summary(result)))
    return 0
