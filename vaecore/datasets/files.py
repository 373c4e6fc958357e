"""Lazy reading of the real Shapes3D file ``3dshapes.h5`` with h5py (extra ``data``).

The file holds ``images`` uint8 (480000, 64, 64, 3) and ``labels`` float64 (480000, 6)
(factor values). Only ``labels`` (23 MB) is read up front, to map grid indices to rows;
images are read one batch at a time. The HDF5 handle is opened per process (DataLoader
workers reopen it after fork), never pickled.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from vaecore.datasets.shapes3d import FILE_NAME, FILE_SOURCE, SIZE


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - h5py is in the test extra
        raise RuntimeError(
            "load('shapes3d', path=...): reading 3dshapes.h5 needs h5py; install it with "
            "`pip install 'vaecore[data]'`"
        ) from exc
    return h5py


def _resolve(path: str) -> str:
    if os.path.isdir(path):
        path = os.path.join(path, FILE_NAME)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"load('shapes3d'): no such file: {path!r}; expected {FILE_NAME} (datasets 'images' "
            f"uint8 (480000, 64, 64, 3) and 'labels' (480000, 6)), published at {FILE_SOURCE}"
        )
    return path


def open_shapes3d(path: str, ds: Any) -> tuple[Any, np.ndarray]:
    """Validate ``3dshapes.h5`` and return ``(handle, rows)``; ``rows[i]`` is the file row of
    grid index ``i`` (-1 when the file lacks it; the published file has every one)."""
    h5py = _h5py()
    path = _resolve(path)
    ds.path = path
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"load('shapes3d'): {path!r} is not an HDF5 file; expected "
                         f"{FILE_NAME} from {FILE_SOURCE}") from exc
    for key in ("images", "labels"):
        if key not in f:
            f.close()
            raise ValueError(f"load('shapes3d'): {path!r} has no dataset {key!r}; expected "
                             f"{FILE_NAME} from {FILE_SOURCE}")
    images, labels = f["images"], f["labels"]
    m = labels.shape[0]
    if labels.ndim != 2 or labels.shape[1] != 6 or images.shape != (m, SIZE, SIZE, 3) \
            or images.dtype != np.uint8:
        f.close()
        raise ValueError(
            f"load('shapes3d'): {path!r} must hold images uint8 (m, 64, 64, 3) and labels "
            f"(m, 6); got images {images.shape} {images.dtype}, labels {labels.shape}"
        )
    values = np.asarray(labels[:], np.float64)
    classes = np.empty((m, 6), np.int64)
    for j, grid in enumerate(ds.factor_values):
        grid = np.asarray(grid, np.float64)
        k = np.abs(values[:, j : j + 1] - grid[None, :]).argmin(axis=1)
        err = np.abs(values[:, j] - grid[k])
        if m and err.max() > 1e-4:
            f.close()
            r = int(err.argmax())
            raise ValueError(
                f"load('shapes3d'): labels[:, {j}] ({ds.factor_names[j]}) of {path!r} must lie "
                f"on the grid {np.round(grid, 4).tolist()}; got {values[r, j]!r} at row {r}"
            )
        classes[:, j] = k
    rows = np.full(len(ds), -1, np.int32)
    rows[classes @ ds.strides] = np.arange(m, dtype=np.int32)
    ds._pid = os.getpid()
    return f, rows


def read_rows(ds: Any, idx: np.ndarray) -> np.ndarray:
    """Images of grid indices ``idx`` as float32 ``(n, 3, 64, 64)`` in [0, 1]."""
    if ds._file == "reopen" or getattr(ds, "_pid", None) != os.getpid():
        ds._file = _h5py().File(ds.path, "r")
        ds._pid = os.getpid()
    rows = ds._rows[idx]
    if (rows < 0).any():
        raise ValueError(f"shapes3d.observations_at: the file {ds.path!r} has no image for "
                         f"index {int(idx[rows < 0][0])}")
    uniq, inverse = np.unique(rows, return_inverse=True)
    block = ds._file["images"][uniq] if len(uniq) else np.zeros((0, SIZE, SIZE, 3), np.uint8)
    out = block[inverse.reshape(-1)].transpose(0, 3, 1, 2).astype(np.float32)
    out *= np.float32(1.0 / 255.0)
    return out
