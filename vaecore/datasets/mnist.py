"""MNIST and Fashion-MNIST from the standard IDX files (raw or ``.gz``) in a user directory.

The single factor is the class label (categorical, 10 values). Observations are
``(1, 28, 28)`` float32 in [0, 1]. Nothing downloads: the files must be present.
"""

from __future__ import annotations

import gzip
import os
from typing import Any

import numpy as np

from vaecore._validation import check_array, check_int, check_option
from vaecore.datasets.base import GroundTruthDataset, as_rng

PARTS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def read_idx(path: str) -> np.ndarray:
    """Read one IDX file (``.gz`` or raw): magic ``00 00 08 ndim`` (unsigned bytes), big-endian
    int32 sizes, then the data."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"read_idx: {path!r} is not a readable IDX file: {exc}") from exc
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"read_idx: {path!r} is not an IDX file of unsigned bytes (magic "
                         f"00 00 08 nd); got {data[:4].hex(' ') if data else 'an empty file'}")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"read_idx: {path!r} is truncated (header)")
    shape = tuple(int(v) for v in np.frombuffer(data[4:header], dtype=">i4"))
    if any(v < 0 for v in shape):
        raise ValueError(f"read_idx: {path!r} must have non-negative sizes in its header; got {shape}")
    n = int(np.prod(shape, dtype=object)) if shape else 1
    if len(data) != header + n:
        raise ValueError(f"read_idx: {path!r} must hold {n} bytes of data for shape {shape}; "
                         f"got {len(data) - header}")
    return np.frombuffer(data[header:], np.uint8).reshape(shape)


class MNIST(GroundTruthDataset):
    """MNIST digits (LeCun et al. 1998) from IDX files; one categorical factor, the label.

    Parameters
    ----------
    path : str
        Directory holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (each raw or ``.gz``;
        a ``raw/`` subdirectory, torchvision's layout, is searched too).
    part : "all" | "train" | "test", default "all"
        Which files; "all" = train then test (70,000 images), which the thesis splits
        randomly 80/10/10 (§3.3.1).
    """

    name = "mnist"
    source = "http://yann.lecun.com/exdb/mnist/"
    factor_names = ("label",)
    factor_sizes = (10,)
    factor_kinds = ("categorical",)
    factor_values = (np.arange(10, dtype=np.float64),)
    observation_shape = (1, 28, 28)
    is_image = True

    def __init__(self, path: str | os.PathLike | None = None, part: str = "all") -> None:
        func = f"load({self.name!r})"
        if path is None:
            raise ValueError(f"{func}: path must be the directory holding the IDX files "
                             f"{PARTS['train'][0]}[.gz] etc. (published at {self.source}); "
                             f"got None")
        self.part = check_option(func, "part", part, ("all", "train", "test"))
        self.path = os.fspath(path)
        parts = ("train", "test") if part == "all" else (part,)
        images, labels = [], []
        for p in parts:
            x = read_idx(self._find(PARTS[p][0]))
            y = read_idx(self._find(PARTS[p][1]))
            if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
                raise ValueError(f"{func}: {PARTS[p][0]} must hold (n, rows, cols) images and "
                                 f"{PARTS[p][1]} n labels; got {x.shape} and {y.shape}")
            if y.size and y.max() > 9:
                raise ValueError(f"{func}: labels must be in 0..9; got {int(y.max())}")
            images.append(x)
            labels.append(y)
        shapes = {x.shape[1:] for x in images}
        if len(shapes) != 1:
            raise ValueError(f"{func}: train and test images differ in size: {sorted(shapes)}")
        self._images = np.concatenate(images)
        self._labels = np.concatenate(labels).astype(np.int64)
        self.observation_shape = (1, *self._images.shape[1:])
        self._by_label = [np.flatnonzero(self._labels == c) for c in range(10)]

    def _find(self, stem: str) -> str:
        for folder in (self.path, os.path.join(self.path, "raw")):
            for name in (stem, stem + ".gz"):
                cand = os.path.join(folder, name)
                if os.path.isfile(cand):
                    return cand
        raise FileNotFoundError(
            f"load({self.name!r}): no file {stem} or {stem}.gz in {self.path!r}; expected the "
            f"standard IDX files published at {self.source}"
        )

    def __len__(self) -> int:
        return len(self._labels)

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    def factors_at(self, indices: Any) -> np.ndarray:
        return self._labels[self._check_indices("factors_at", indices)][:, None]

    def observations_at(self, indices: Any) -> np.ndarray:
        idx = self._check_indices("observations_at", indices)
        x = self._images[idx].astype(np.float32)
        x *= np.float32(1.0 / 255.0)
        return x.reshape(len(idx), *self.observation_shape)

    def sample_factors(self, n: int, rng: Any = None) -> np.ndarray:
        """Labels of uniformly drawn images (the empirical label distribution), ``(n, 1)``."""
        n = check_int(f"{self.name}.sample_factors", "n", n, minimum=0)
        rng = as_rng(f"{self.name}.sample_factors", rng)
        return self._labels[rng.integers(0, len(self), n)][:, None]

    def observations(self, factors: Any, rng: Any = None) -> np.ndarray:
        """For each label, a uniformly drawn image with that label (``rng`` decides which)."""
        func = f"{self.name}.observations"
        f = check_array(func, "factors", factors, ndim=(1, 2), dtype=np.int64, integer=True)
        f = f.reshape(-1, 1) if f.ndim == 1 else f
        if f.shape[1] != 1:
            raise ValueError(f"{func}: factors must have 1 column (label); got shape {f.shape}")
        if f.size and (f.min() < 0 or f.max() > 9):
            raise ValueError(f"{func}: factors must be labels in 0..9; got {int(f.max())}")
        rng = as_rng(func, rng)
        idx = np.empty(len(f), np.int64)
        for k, c in enumerate(f[:, 0]):
            pool = self._by_label[c]
            if not len(pool):
                raise ValueError(f"{func}: the dataset has no image with label {int(c)}")
            idx[k] = pool[rng.integers(0, len(pool))]
        return self.observations_at(idx)


class FashionMNIST(MNIST):
    """Fashion-MNIST (Xiao et al. 2017): same IDX layout and file names as MNIST."""

    name = "fashion-mnist"
    source = "https://github.com/zalandoresearch/fashion-mnist"
    CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")
