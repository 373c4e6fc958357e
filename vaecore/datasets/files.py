"""Lazy reading of the real Shapes3D file ``3dshapes.h5`` with h5py (extra ``data``).

The file holds ``images`` uint8 (480000, 64, 64, 3) and ``labels`` float64 (480000, 6)
(factor values). Only ``labels`` (23 MB) is read up front, to map grid indices to rows;
images are read one batch at a time. The HDF5 handle is opened per process (DataLoader
workers reopen it after fork), never pickled.

This module imports nothing from :mod:`vaecore.datasets.shapes3d` (which imports it): the
file's name, source and image size live here, and :func:`open_shapes3d` receives the grid
(values, names, strides) it checks the labels against.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

FILE_NAME = "3dshapes.h5"
FILE_SOURCE = "https://github.com/google-deepmind/3d-shapes (storage.googleapis.com/3d-shapes/3dshapes.h5)"
SIZE = 64


@dataclass(frozen=True)
class Shapes3DFile:
    """An opened, validated ``3dshapes.h5``: its resolved ``path``, the open h5py ``handle``,
    ``rows[i]`` = the file row of grid index ``i`` (-1 when the file lacks it) and the
    ``pid`` of the process that opened the handle."""

    path: str
    handle: Any
    rows: np.ndarray
    pid: int


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


def _grid_rows(path: str, labels: np.ndarray, grid: Any) -> np.ndarray:
    """Map each file row's factor values to its grid index; refuse labels that are not
    finite, off the grid or repeated (two rows for one grid point)."""
    m = labels.shape[0]
    bad = ~np.isfinite(labels)
    if bad.any():
        r, j = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(f"load('shapes3d'): labels of {path!r} must be finite; got {float(labels[r, j])!r} "
                         f"in row {r}, column {j} ({grid.factor_names[j]})")
    classes = np.empty((m, len(grid.factor_values)), np.int64)
    for j, values in enumerate(grid.factor_values):
        values = np.asarray(values, np.float64)
        k = np.abs(labels[:, j : j + 1] - values[None, :]).argmin(axis=1)
        err = np.abs(labels[:, j] - values[k])
        if m and err.max() > 1e-4:
            r = int(err.argmax())
            raise ValueError(
                f"load('shapes3d'): labels[:, {j}] ({grid.factor_names[j]}) of {path!r} must lie "
                f"on the grid {np.round(values, 4).tolist()}; got {float(labels[r, j])!r} at row {r}"
            )
        classes[:, j] = k
    index = classes @ grid.strides
    rows = np.full(len(grid), -1, np.int32)
    rows[index[::-1]] = np.arange(m - 1, -1, -1, dtype=np.int32)  # the first row of an index wins
    dup = np.flatnonzero(rows[index] != np.arange(m))
    if dup.size:
        r = int(dup[0])
        raise ValueError(f"load('shapes3d'): {path!r} must hold each grid point once; rows "
                         f"{int(rows[index[r]])} and {r} have the same labels {labels[r].tolist()}")
    return rows


def open_shapes3d(path: str, grid: Any) -> Shapes3DFile:
    """Open and validate ``3dshapes.h5`` against ``grid`` (a Shapes3D: ``factor_values``,
    ``factor_names``, ``strides``, ``len``), which is only read, never modified.

    Raises ``ValueError`` naming the file (and the row, for bad labels) when it is not HDF5,
    lacks ``images``/``labels``, has the wrong shapes or dtypes, or has labels that are
    NaN/inf, off the grid or repeated. The handle is closed on every error.
    """
    h5py = _h5py()
    path = _resolve(path)
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"load('shapes3d'): {path!r} is not an HDF5 file; expected "
                         f"{FILE_NAME} from {FILE_SOURCE}") from exc
    try:
        for key in ("images", "labels"):
            if key not in f:
                raise ValueError(f"load('shapes3d'): {path!r} has no dataset {key!r}; expected "
                                 f"{FILE_NAME} from {FILE_SOURCE}")
        images, labels = f["images"], f["labels"]
        # read the metadata into plain values while the file is open (the messages use them)
        i_shape, i_dtype, l_shape = tuple(images.shape), images.dtype, tuple(labels.shape)
        m = l_shape[0] if l_shape else 0
        if len(l_shape) != 2 or l_shape[1] != 6 or i_shape != (m, SIZE, SIZE, 3) or i_dtype != np.uint8:
            raise ValueError(
                f"load('shapes3d'): {path!r} must hold images uint8 (m, 64, 64, 3) and labels "
                f"(m, 6); got images {i_shape} {i_dtype}, labels {l_shape}"
            )
        if labels.dtype.kind not in "iuf":
            raise ValueError(f"load('shapes3d'): labels of {path!r} must be numeric; got {labels.dtype}")
        rows = _grid_rows(path, np.asarray(labels[:], np.float64), grid)
    except BaseException:
        f.close()
        raise
    return Shapes3DFile(path=path, handle=f, rows=rows, pid=os.getpid())


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
