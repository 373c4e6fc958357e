"""Write a whole perturbed dataset in its base dataset's file layout (SPEC-ch4 §6.5), so other
libraries can read it.

* dSprites grid → ``.npz`` like ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``: ``imgs``
  (m, 64, 64), ``latents_classes`` (m, 6) int64 and ``latents_values`` (m, 6) float64 with the
  constant colour column first (shape values 1, 2, 3 as in the published file). The altered images
  are no longer binary, so ``imgs`` holds x'' as float32 (or float16) in [0, 1] instead of {0, 1}
  uint8 — readers that do ``imgs.astype(float32)`` (disentanglement_lib) get x''. No pickled
  ``metadata``.
* Shapes3D grid → ``.h5`` like ``3dshapes.h5``: ``images`` uint8 (m, 64, 64, 3) = round(255 x'')
  and ``labels`` float64 (m, 6) factor values (readable by ``load("shapes3d", path=...)``).
* anything else → ``.npz`` with ``images`` float32 (m, *observation_shape), ``classes`` int64.

Files are streamed in chunks into a temporary file and moved into place (:mod:`vaecore._io`).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np

from vaecore._io import atomic_write
from vaecore._validation import check_int, check_option

__all__ = ["export", "layout_of", "write_npy_stream"]

IMAGE_DTYPES = ("float32", "float16")


def write_npy_stream(fh: IO[bytes], dtype: np.dtype, shape: tuple[int, ...], chunks: Iterable[np.ndarray]) -> None:
    """Write an ``.npy`` of ``shape``/``dtype`` whose rows arrive in ``chunks`` (C order)."""
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(fh, header)
    rows = 0
    for c in chunks:
        c = np.ascontiguousarray(c, dtype=dtype)
        fh.write(c.tobytes())
        rows += len(c)
    if rows != shape[0]:
        raise RuntimeError(f"write_npy_stream: wrote {rows} rows; the header says {shape[0]}")


def layout_of(ds: Any) -> str:
    """"dsprites", "shapes3d" (the published grids) or "generic"."""
    from vaecore.datasets.dsprites import DSprites
    from vaecore.datasets.shapes3d import Shapes3D

    key = (tuple(ds.factor_names), tuple(ds.factor_sizes), tuple(ds.observation_shape))
    for name, cls in (("dsprites", DSprites), ("shapes3d", Shapes3D)):
        if key == (cls.factor_names, cls.factor_sizes, cls.observation_shape):
            return name
    return "generic"


def _images(ds: Any, idx: np.ndarray, batch: int) -> Iterable[np.ndarray]:
    for a in range(0, len(idx), batch):
        yield ds.observations_at(idx[a : a + batch])


def _npz(fh: IO[bytes], arrays: dict[str, Any]) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, (dtype, shape, chunks) in arrays.items():
            with zf.open(name + ".npy", "w", force_zip64=True) as f:
                write_npy_stream(f, dtype, shape, chunks)


def _write_dsprites(fh: IO[bytes], ds: Any, idx: np.ndarray, dtype: str, batch: int) -> None:
    classes = np.asarray(ds.factors_at(idx), np.int64)
    values = np.stack([np.asarray(v, np.float64)[classes[:, j]] for j, v in enumerate(ds.factor_values)], 1)
    values[:, 0] += 1.0
    m = len(idx)
    imgs = (x[:, 0] for x in _images(ds, idx, batch))
    _npz(fh, {"imgs": (np.dtype(dtype), (m, 64, 64), imgs),
              "latents_classes": (np.dtype(np.int64), (m, 6), [np.concatenate([np.zeros((m, 1), np.int64), classes], 1)]),
              "latents_values": (np.dtype(np.float64), (m, 6), [np.concatenate([np.ones((m, 1)), values], 1)])})


def _write_shapes3d(fh: IO[bytes], ds: Any, idx: np.ndarray, batch: int) -> None:
    import h5py

    classes = np.asarray(ds.factors_at(idx), np.int64)
    labels = np.stack([np.asarray(v, np.float64)[classes[:, j]] for j, v in enumerate(ds.factor_values)], 1)
    with h5py.File(fh, "w") as f:
        images = f.create_dataset("images", (len(idx), 64, 64, 3), np.uint8, chunks=(min(max(len(idx), 1), 64), 64, 64, 3))
        for a, x in zip(range(0, len(idx), batch), _images(ds, idx, batch)):
            images[a : a + len(x)] = np.floor(x.transpose(0, 2, 3, 1) * 255.0 + 0.5).astype(np.uint8)
        f.create_dataset("labels", data=labels)


def export(data: Any, out: str | Path, *, indices: Any = None, image_dtype: str = "float32",
           batch_size: int = 4096, overwrite: bool = False) -> Path:
    """Write the perturbed dataset ``data`` (a dataset or a manipulator folder, loaded with its
    recorded base) — every grid point, or ``indices`` — to ``out`` in the base's layout (see the
    module docstring; ``.npz`` for dSprites and generic, ``.h5`` for Shapes3D)."""
    from vaecore.datasets.perturbed import PerturbedDataset
    from vaecore.perturb.artifact import read_record

    func = "export"
    check_option(func, "image_dtype", image_dtype, IMAGE_DTYPES)
    batch_size = check_int(func, "batch_size", batch_size, minimum=1)
    if not hasattr(data, "observations_at"):
        data = PerturbedDataset(read_record(data).base.name, data)
    path = Path(out)
    layout = layout_of(data)
    want = (".h5", ".hdf5") if layout == "shapes3d" else (".npz",)
    if path.suffix not in want:
        raise ValueError(f"{func}: out must end in {' or '.join(want)} for the {layout} layout; got {str(path)!r}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{func}: {str(path)!r} exists; pass overwrite=True to replace it")
    idx = np.arange(len(data), dtype=np.int64) if indices is None else data._check_indices(func, indices)
    if layout == "dsprites":
        return atomic_write(path, lambda fh: _write_dsprites(fh, data, idx, image_dtype, batch_size))
    if layout == "shapes3d":
        return atomic_write(path, lambda fh: _write_shapes3d(fh, data, idx, batch_size))
    classes = np.asarray(data.factors_at(idx), np.int64)
    return atomic_write(path, lambda fh: _npz(fh, {
        "images": (np.dtype(np.float32), (len(idx), *data.observation_shape), _images(data, idx, batch_size)),
        "classes": (np.dtype(np.int64), classes.shape, [classes])}))
