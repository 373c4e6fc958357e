"""A folder of images (e.g. CelebA for the eigenfaces of thesis §3.3.5): no factors.

Images (PNG/JPEG/BMP, found recursively, sorted by path) are loaded lazily with Pillow
(extra ``data``), converted to RGB, centre-cropped to a square (optional) and resized to
``size × size`` with bilinear filtering; observations ``(3, size, size)`` float32 in [0, 1].
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from vaecore._validation import check_int
from vaecore.datasets.base import GroundTruthDataset, as_rng

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
CELEBA = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"


class ImageFolder(GroundTruthDataset):
    """Images of a folder, resized to ``size × size`` RGB; no ground-truth factors.

    Parameters
    ----------
    path : str
        Folder searched recursively for ``.png, .jpg, .jpeg, .bmp`` files.
    size : int, default 64
    crop : bool, default True
        Centre-crop to a square before resizing (keeps the aspect ratio of faces).
    """

    name = "image-folder"
    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int | None, ...] = ()
    factor_kinds: tuple[str, ...] = ()
    factor_values: tuple[np.ndarray | None, ...] = ()
    is_image = True

    def __init__(self, path: str | os.PathLike | None = None, size: int = 64,
                 crop: bool = True) -> None:
        func = "load('image-folder')"
        if path is None:
            raise ValueError(f"{func}: path must be a folder of PNG/JPEG images (e.g. CelebA's "
                             f"img_align_celeba, published at {CELEBA}); got None")
        self.path = os.fspath(path)
        self.size = check_int(func, "size", size, minimum=1)
        if not isinstance(crop, bool):
            raise TypeError(f"{func}: crop must be a bool; got {type(crop).__name__}")
        self.crop = crop
        if not os.path.isdir(self.path):
            raise FileNotFoundError(f"{func}: no such folder: {self.path!r}; expected a folder "
                                    f"of PNG/JPEG images (e.g. CelebA, {CELEBA})")
        files = []
        for root, _dirs, names in os.walk(self.path):
            files += [os.path.join(root, n) for n in names if n.lower().endswith(EXTENSIONS)]
        if not files:
            raise FileNotFoundError(f"{func}: no {'/'.join(EXTENSIONS)} files in {self.path!r}; "
                                    f"expected a folder of images (e.g. CelebA, {CELEBA})")
        self.files = sorted(files)
        self.observation_shape = (3, self.size, self.size)

    def __len__(self) -> int:
        return len(self.files)

    def _load(self, path: str) -> np.ndarray:
        try:
            from PIL import Image
        except ImportError as exc:  # pragma: no cover - pillow is in the test extra
            raise RuntimeError("load('image-folder') needs Pillow; install it with "
                               "`pip install 'vaecore[data]'`") from exc
        try:
            with Image.open(path) as im:
                im = im.convert("RGB")
                if self.crop:
                    w, h = im.size
                    side = min(w, h)
                    left, top = (w - side) // 2, (h - side) // 2
                    im = im.crop((left, top, left + side, top + side))
                im = im.resize((self.size, self.size), Image.Resampling.BILINEAR)
                arr = np.asarray(im, dtype=np.float32)
        except OSError as exc:
            raise ValueError(f"image-folder: cannot read image {path!r}: {exc}") from exc
        return arr.transpose(2, 0, 1) / np.float32(255.0)

    def factors_at(self, indices: Any) -> np.ndarray:
        return np.zeros((len(self._check_indices("factors_at", indices)), 0))

    def observations_at(self, indices: Any) -> np.ndarray:
        idx = self._check_indices("observations_at", indices)
        out = np.empty((len(idx), *self.observation_shape), np.float32)
        for k, i in enumerate(idx):
            out[k] = self._load(self.files[int(i)])
        return out

    def sample_factors(self, n: int, rng: Any = None) -> np.ndarray:
        n = check_int(f"{self.name}.sample_factors", "n", n, minimum=0)
        return np.zeros((n, 0))

    def observations(self, factors: Any, rng: Any = None) -> np.ndarray:
        """Uniformly drawn images, one per row of ``factors`` (which are empty)."""
        n = len(np.asarray(factors))
        rng = as_rng(f"{self.name}.observations", rng)
        return self.observations_at(rng.integers(0, len(self), n))
