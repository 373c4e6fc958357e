"""``vaecore datasets``: list the datasets, describe one, preview images, calibrate dSprites.

    vaecore datasets list
    vaecore datasets show dsprites [--option path=/data/dsprites.npz]
    vaecore datasets preview shapes3d --out grid.png [--n 16] [--seed 0]
    vaecore datasets calibrate --path dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from vaecore._io import atomic_write


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("datasets", help="list, describe, preview and calibrate datasets")
    inner = p.add_subparsers(dest="datasets_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    q = inner.add_parser("list", help="the dataset names and their options")
    q.set_defaults(func=run_list)

    q = inner.add_parser("show", help="factors, grid and sizes of one dataset (JSON)")
    q.add_argument("name")
    q.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                   help="dataset option (repeatable), e.g. -o n_samples=1000 -o path=DIR")
    q.set_defaults(func=run_show)

    q = inner.add_parser("preview", help="save a PNG grid of random observations")
    q.add_argument("name")
    q.add_argument("--out", required=True, help="PNG file to write")
    q.add_argument("--n", type=int, default=16)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE")
    q.set_defaults(func=run_preview)

    q = inner.add_parser("calibrate", help="fit the procedural dSprites constants to the real file")
    q.add_argument("--path", required=True, help="dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz")
    q.add_argument("--n", type=int, default=2048, help="number of real images used")
    q.add_argument("--seed", type=int, default=0)
    q.set_defaults(func=run_calibrate)


def _parse_options(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--option must be KEY=VALUE; got {pair!r}")
        key, raw = pair.split("=", 1)
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key] = value
    return out


def run_list(args: argparse.Namespace) -> int:
    from vaecore.datasets import NAMES, dataset_class, dataset_options

    for name in NAMES:
        cls = dataset_class(name)
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        opts = ", ".join(f"{k}={v!r}" for k, v in dataset_options(name).items())
        print(f"{name:14s} {doc}\n{'':14s} options: {opts}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from vaecore.datasets import load

    ds = load(args.name, **_parse_options(args.option))
    print(json.dumps(ds.describe(), indent=2))
    return 0


def run_preview(args: argparse.Namespace) -> int:
    from PIL import Image

    from vaecore.datasets import load

    ds = load(args.name, **_parse_options(args.option))
    if not ds.is_image:
        raise ValueError(f"preview: {args.name} is not an image dataset")
    if args.n < 1:
        raise ValueError(f"preview: --n must be >= 1; got {args.n}")
    idx = np.sort(np.random.default_rng(args.seed).choice(len(ds), min(args.n, len(ds)),
                                                          replace=False))
    x = ds.observations_at(idx)
    cols = int(np.ceil(np.sqrt(len(x))))
    rows = int(np.ceil(len(x) / cols))
    c, h, w = x.shape[1:]
    grid = np.zeros((rows * (h + 2), cols * (w + 2), c), np.float32)
    for k, img in enumerate(x):
        r, q = divmod(k, cols)
        grid[r * (h + 2) : r * (h + 2) + h, q * (w + 2) : q * (w + 2) + w] = img.transpose(1, 2, 0)
    arr = (np.clip(grid, 0, 1) * 255 + 0.5).astype(np.uint8)
    image = Image.fromarray(arr[:, :, 0] if c == 1 else arr)
    atomic_write(args.out, lambda fh: image.save(fh, format="PNG"))
    print(f"wrote {len(x)} images of {args.name} to {args.out}")
    return 0


def run_calibrate(args: argparse.Namespace) -> int:
    from vaecore.datasets.calibrate import calibrate_dsprites

    result = calibrate_dsprites(args.path, n=args.n, seed=args.seed)
    print(json.dumps(result.as_dict(), indent=2))
    return 0
