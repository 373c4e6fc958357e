"""Animated GIF of a :class:`~vaecore.report.visuals.TraversalGrid` (Pillow).

Frame ``t`` tiles the image of every latent at traversal step ``t`` — the layout of
disentanglement_lib's ``visualize_util.save_animation`` (one tile per latent, padded grid): tiles
in the grid's row order (largest KL first), row-major, ``ceil(sqrt(d))`` per row. Each tile has a
``BORDER``-pixel frame, grey for a collapsed latent and white otherwise, and tiles are separated by
``PAD`` white pixels. A slider under the tiles shows the step (``t + 1`` of ``steps`` filled), which
also keeps every frame distinct (the GIF writer merges identical consecutive frames), so the file
has exactly ``steps`` frames.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from vaecore._io import atomic_write
from vaecore._validation import check_float, check_int

__all__ = ["require_pillow", "save_traversal_gif", "traversal_frames"]

BORDER = 2
PAD = 4
SLIDER = 4
GREY = 0.55


def require_pillow() -> Any:
    """``PIL.Image``, or a RuntimeError naming the extra that installs Pillow."""
    try:
        from PIL import Image
    except ImportError:
        raise RuntimeError(
            "animated traversal GIFs need Pillow, which is not installed: "
            "pip install 'vaecore[plot]' (or pip install pillow)"
        ) from None
    return Image


def _rgb(img: np.ndarray) -> np.ndarray:
    """(H, W) or (H, W, C) in [0, 1] -> (H, W, 3) float."""
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    return img[..., :3]


def traversal_frames(grid: Any, *, zoom: int = 1) -> np.ndarray:
    """The GIF's frames, uint8 ``(steps, H, W, 3)`` (layout: see the module docstring)."""
    from vaecore.report.traversals import _as_image

    zoom = check_int("traversal_frames", "zoom", zoom, minimum=1)
    shape = tuple(grid.observation_shape)
    if len(shape) < 2:
        raise ValueError(
            "save_traversal_gif: the run's observations must be images, (C, H, W) or (H, W); "
            f"got observation_shape {shape}"
        )
    d, steps = grid.values.shape
    ncols = math.ceil(math.sqrt(d))
    nrows = math.ceil(d / ncols)
    first = _rgb(_as_image(grid.images[0, 0], shape))
    th, tw = first.shape[0] * zoom + 2 * BORDER, first.shape[1] * zoom + 2 * BORDER
    height = nrows * th + (nrows + 1) * PAD
    width = ncols * tw + (ncols + 1) * PAD
    frames = np.ones((steps, height + SLIDER + PAD, width, 3))
    for r in range(d):
        top = PAD + (r // ncols) * (th + PAD)
        left = PAD + (r % ncols) * (tw + PAD)
        frames[:, top:top + th, left:left + tw] = GREY if grid.collapsed[r] else 1.0
        for t in range(steps):
            img = _rgb(_as_image(grid.images[r, t], shape))
            img = np.repeat(np.repeat(img, zoom, axis=0), zoom, axis=1)
            frames[t, top + BORDER:top + th - BORDER, left + BORDER:left + tw - BORDER] = img
    for t in range(steps):
        filled = PAD + round((width - 2 * PAD) * (t + 1) / steps)
        frames[t, height:height + SLIDER, PAD:filled] = 0.3
    return np.round(np.clip(frames, 0.0, 1.0) * 255).astype(np.uint8)


def save_traversal_gif(grid: Any, path: str | Path, *, fps: float = 4.0, zoom: int = 1) -> Path:
    """Write the traversal animation to ``path`` (GIF, looping) through ``atomic_write``.

    Raises
    ------
    RuntimeError
        Pillow is missing (the message names the extra to install).
    ValueError
        Non-image observations, ``fps`` <= 0 or ``zoom`` < 1.
    """
    image = require_pillow()
    fps = check_float("save_traversal_gif", "fps", fps, minimum=0.0, strict=True)
    frames = [image.fromarray(f) for f in traversal_frames(grid, zoom=zoom)]
    duration = max(int(round(1000.0 / fps)), 20)

    def write(fh: Any) -> None:
        frames[0].save(fh, format="GIF", save_all=True, append_images=frames[1:],
                       duration=duration, loop=0)

    return atomic_write(path, write)
