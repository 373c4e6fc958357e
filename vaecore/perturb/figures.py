"""Fig. 4.3 of the thesis: original images | manipulations m(w) | altered images x''.

Drawn with matplotlib's object API (no pyplot state) and written as PNG and PDF through
:mod:`vaecore._io` (atomic). Manipulations are shown on a diverging scale: a grey image with
−1 → black, 0 → mid grey, +1 → white for one channel, 0.5 + 0.5 m per channel for RGB.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from vaecore._io import atomic_write_bytes
from vaecore._validation import check_int

__all__ = ["preview"]


def _show(ax: Any, img: np.ndarray, title: str) -> None:
    img = np.clip(img, 0.0, 1.0)
    if img.shape[0] == 1:
        ax.imshow(img[0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(img.transpose(1, 2, 0), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def preview(data: Any, out: str | Path, *, n: int = 3, seed: int = 0, indices: Any = None) -> list[Path]:
    """Draw Fig. 4.3 for ``n`` seeded samples (or ``indices``) of a perturbed dataset (or a
    manipulator folder) and write ``out`` with suffixes ``.png`` and ``.pdf``; returns both paths."""
    from matplotlib.figure import Figure

    from vaecore.datasets.perturbed import PerturbedDataset
    from vaecore.perturb.artifact import read_record

    if not hasattr(data, "manipulation"):
        data = PerturbedDataset(read_record(data).base.name, data)
    if indices is None:
        n = check_int("preview", "n", n, minimum=1)
        idx = np.sort(np.random.default_rng(seed).choice(len(data), min(n, len(data)), replace=False))
    else:
        idx = data._check_indices("preview", indices)
    x = data.base.observations_at(idx)
    m = data.manipulation(idx)
    xpp = data.observations_at(idx)
    fig = Figure(figsize=(3 * 1.6, len(idx) * 1.6 + 0.3), layout="constrained")
    axes = fig.subplots(len(idx), 3, squeeze=False)
    for r in range(len(idx)):
        top = r == 0
        _show(axes[r, 0], x[r], "original" if top else "")
        _show(axes[r, 1], 0.5 + 0.5 * m[r], f"+ ε·m(w), ε = {data.eps:g}" if top else "")
        _show(axes[r, 2], xpp[r], "= altered" if top else "")
    stem = Path(out)
    stem = stem.with_suffix("") if stem.suffix in (".png", ".pdf") else stem
    paths = []
    for fmt in ("png", "pdf"):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=150)
        paths.append(atomic_write_bytes(stem.with_name(stem.name + "." + fmt), buf.getvalue()))
    return paths
