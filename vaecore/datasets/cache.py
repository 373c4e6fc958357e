"""Render a procedural dataset once into a memory-mapped ``.npy`` file and read from it.

SPEC §4: generated datasets are rendered on the fly or cached to a memory-mapped file.
On-the-fly rendering is usually fast enough (see benchmarks/README.md); a cache pays off
when the same images are read many times by slow consumers, or to hand the exact images
to another tool. Images are stored as uint8 ``round(255 x)`` (exact for binary dSprites;
within 0.5/255 of the float renderer for Shapes3D, the precision of the real files).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

from vaecore._validation import check_int
from vaecore.datasets.variants import TransformedDataset


class CachedDataset(TransformedDataset):
    """A dataset whose observations are read from a uint8 ``.npy`` memory map.

    Everything else (factors, grid, split) is the base dataset's. Create it with
    :func:`cache_to_file`; reopen an existing cache with ``CachedDataset(base, path)``.
    """

    def __init__(self, base: Any, path: str | os.PathLike) -> None:
        super().__init__(base)
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"CachedDataset: no cache file {self.path!r}; create it "
                                    f"with vaecore.datasets.cache_to_file(ds, path)")
        self._data = np.load(self.path, mmap_mode="r")
        want = (len(base), *base.observation_shape)
        if self._data.shape != want or self._data.dtype != np.uint8:
            raise ValueError(f"CachedDataset: {self.path!r} must hold uint8 {want}; got "
                             f"{self._data.dtype} {self._data.shape} (a cache of another dataset?)")

    def observations_at(self, indices: Any) -> np.ndarray:
        idx = self._check_indices("observations_at", indices)
        x = self._data[idx].astype(np.float32)
        x *= np.float32(1.0 / 255.0)
        return x

    def transform(self, observations: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """Identity (the cache stores the base's images)."""
        return observations


def cache_to_file(
    ds: Any, path: str | os.PathLike, *, batch_size: int = 8192, overwrite: bool = False
) -> CachedDataset:
    """Render every observation of image dataset ``ds`` into the ``.npy`` file ``path``.

    Written to a temporary file in the same folder and moved into place with
    ``os.replace`` (a crash never leaves a half-written cache under ``path``).

    Parameters
    ----------
    ds : GroundTruthDataset
        An image dataset (observations in [0, 1]).
    path : str or PathLike
        Target ``.npy`` file.
    batch_size : int, default 8192
        Images rendered per step (bounds the memory used while writing).
    overwrite : bool, default False
        Replace an existing file.
    """
    func = "cache_to_file"
    batch_size = check_int(func, "batch_size", batch_size, minimum=1)
    if not getattr(ds, "is_image", False):
        raise ValueError(f"{func}: ds must be an image dataset; got {getattr(ds, 'name', ds)!r}")
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{func}: {path!r} exists; pass overwrite=True to replace it")
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".npy", dir=folder)
    os.close(fd)
    try:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8,
                                        shape=(len(ds), *ds.observation_shape))
        for start in range(0, len(ds), batch_size):
            idx = np.arange(start, min(len(ds), start + batch_size))
            x = ds.observations_at(idx)
            out[start : start + len(idx)] = np.floor(x * 255.0 + 0.5).astype(np.uint8)
        out.flush()
        del out
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return CachedDataset(ds, path)
