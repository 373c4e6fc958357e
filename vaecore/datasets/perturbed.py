"""The perturbed dataset of thesis chapter 4 (§4.2.4, §4.3.1; SPEC-ch4 §6.5): the base dataset's
factors, grid and split, with images x'' = reflect(x + ε m(w)) regenerated on the fly from a stored
manipulator (``vaecore perturb train``).

>>> mod = vaecore.datasets.load("perturbed", base="shapes3d", manipulator="out/mod")

A manipulator folder made for another base dataset (name, options, factors), image size or ε is
refused, naming the mismatch; its weights are loaded only after their sha256 matched the record,
with ``torch.load(weights_only=True)``. ``cache=FOLDER`` stores the images of ``cache_indices``
(default: all) once — uint8 (``round(255 x'')``, error ≤ 1/510) or float32 (exact) — and reads them
back memory-mapped; a cache made from other weights or settings is refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from vaecore._validation import check_float, check_option
from vaecore.datasets.base import GroundTruthDataset
from vaecore.datasets.variants import TransformedDataset

__all__ = ["PerturbedDataset"]

CACHE_DTYPES = ("uint8", "float32")
# m is evaluated in zero-padded chunks of exactly CHUNK rows: torch's CPU kernels for other batch
# sizes (e.g. one image) differ in the last bit, so a fixed shape keeps "same factors → same image"
# independent of how many images a request holds and in which order.
CHUNK = 64


def _refuse(folder: Any, what: str, made: Any, got: Any) -> ValueError:
    return ValueError(f"load('perturbed'): the manipulator {str(folder)!r} was made for {what} {made!r}; "
                      f"got {got!r}")


def _base_of(base: Any, base_options: dict[str, Any] | None, record: Any, folder: Any) -> GroundTruthDataset:
    from vaecore.datasets.registry import load

    if isinstance(base, GroundTruthDataset):
        if base.name != record.base.name:
            raise _refuse(folder, "the base dataset", record.base.name, base.name)
        return base
    if not isinstance(base, str):
        raise TypeError(f"load('perturbed'): base must be a dataset name or a GroundTruthDataset; got "
                        f"{type(base).__name__}")
    if base != record.base.name:
        raise _refuse(folder, "the base dataset", record.base.name, base)
    options = dict(record.base.options if base_options is None else base_options)
    if options != record.base.options:
        keys = sorted(k for k in set(options) | set(record.base.options)
                      if options.get(k) != record.base.options.get(k))
        raise _refuse(folder, f"base options ({', '.join(keys)})", record.base.options, options)
    return load(base, **options)


class PerturbedDataset(TransformedDataset):
    """The base dataset with the images of a stored manipulator (see the module docstring).

    Parameters
    ----------
    base : registry name (loaded with the recorded options, or ``base_options``) or a dataset.
    manipulator : folder with ``perturbation.json`` and ``manipulator.pt``.
    base_options : options of the base (must equal the recorded ones).
    eps : when given, must equal the recorded ε.
    cache, cache_indices, cache_dtype : optional on-disk cache (folder), the indices it holds
        (default all), "uint8" or "float32".
    """

    def __init__(self, base: Any, manipulator: str | os.PathLike, *, base_options: dict[str, Any] | None = None,
                 eps: float | None = None, cache: str | os.PathLike | None = None, cache_indices: Any = None,
                 cache_dtype: str = "uint8") -> None:
        from vaecore.perturb.artifact import load_manipulator, read_record

        func = "load('perturbed')"
        check_option(func, "cache_dtype", cache_dtype, CACHE_DTYPES)
        record = read_record(manipulator)
        ds = _base_of(base, base_options, record, manipulator)
        if tuple(ds.observation_shape) != record.base.observation_shape:
            raise _refuse(manipulator, "images of shape", list(record.base.observation_shape),
                          list(ds.observation_shape))
        if (tuple(ds.factor_names), tuple(ds.factor_sizes)) != (record.base.factor_names, record.base.factor_sizes):
            raise _refuse(manipulator, "factors", dict(zip(record.base.factor_names, record.base.factor_sizes)),
                          dict(zip(ds.factor_names, ds.factor_sizes)))
        if eps is not None and abs(check_float(func, "eps", eps) - record.eps) > 1e-12:
            raise _refuse(manipulator, "eps", record.eps, eps)
        super().__init__(ds)
        self.name = "perturbed"
        self.folder = Path(manipulator)
        self.eps = record.eps
        self.record = record
        self.model, _ = load_manipulator(manipulator)
        self._cache: tuple[np.ndarray, np.ndarray] | None = None
        if cache is not None:
            self._cache = self._open_cache(Path(cache), cache_indices, cache_dtype)

    # -- the manipulation ------------------------------------------------------------------------
    def manipulation(self, indices: Any) -> np.ndarray:
        """m(w) ∈ [−1, 1] of the samples at ``indices``, float32 ``(n, *observation_shape)``."""
        import torch

        idx = self._check_indices("manipulation", indices)
        w = self.record.encoding.encode(self.base.factors_at(idx))
        out = np.empty((len(idx), *self.observation_shape), np.float32)
        chunk = np.zeros((CHUNK, w.shape[1]), np.float32)
        with torch.no_grad():
            for a in range(0, len(idx), CHUNK):
                k = min(CHUNK, len(idx) - a)
                chunk[:k] = w[a : a + k]
                chunk[k:] = 0.0
                out[a : a + k] = self.model(torch.as_tensor(chunk)).numpy()[:k]
        return out

    def transform(self, observations: np.ndarray, indices: np.ndarray) -> np.ndarray:
        from vaecore.perturb.manipulator import perturb_array

        return perturb_array(observations, self.manipulation(indices), self.eps)

    def observations_at(self, indices: Any) -> np.ndarray:
        idx = self._check_indices("observations_at", indices)
        if self._cache is None:
            return self.transform(self.base.observations_at(idx), idx)
        keys, images = self._cache
        pos = np.clip(np.searchsorted(keys, idx), 0, max(len(keys) - 1, 0))
        hit = (keys[pos] == idx) if len(keys) else np.zeros(len(idx), bool)
        out = np.empty((len(idx), *self.observation_shape), np.float32)
        if hit.any():
            ph = pos[hit]
            order = np.argsort(ph, kind="stable")
            block = np.empty((len(ph), *images.shape[1:]), images.dtype)
            block[order] = images[ph[order]]
            x = block.astype(np.float32)
            out[hit] = x * np.float32(1.0 / 255.0) if images.dtype == np.uint8 else x
        if (~hit).any():
            out[~hit] = self.transform(self.base.observations_at(idx[~hit]), idx[~hit])
        return out

    # -- the cache ---------------------------------------------------------------------------------
    def _open_cache(self, folder: Path, cache_indices: Any, dtype: str) -> tuple[np.ndarray, np.ndarray]:
        if cache_indices is None:
            keys = np.arange(len(self), dtype=np.int64)
        else:
            keys = np.unique(self._check_indices("cache_indices", cache_indices))
        meta = {"sha256": self.record.sha256, "eps": self.eps, "dtype": dtype, "n": int(len(keys)),
                "base": self.record.base.as_dict()}
        if not (folder / "cache.json").is_file():
            self._write_cache(folder, keys, dtype)
            from vaecore._io import atomic_write_json

            atomic_write_json(folder / "cache.json", meta)
        found = json.loads((folder / "cache.json").read_text())
        if found != meta:
            diff = sorted(k for k in meta if found.get(k) != meta[k])
            raise ValueError(f"load('perturbed'): the cache {str(folder)!r} was made with other {diff} "
                             f"(another manipulator or settings); remove it or pass another cache folder")
        stored = np.load(folder / "indices.npy", allow_pickle=False)
        if not np.array_equal(stored, keys):
            raise ValueError(f"load('perturbed'): the cache {str(folder)!r} holds other indices; remove it")
        return stored, np.load(folder / "images.npy", mmap_mode="r", allow_pickle=False)

    def _write_cache(self, folder: Path, keys: np.ndarray, dtype: str) -> None:
        from vaecore._io import atomic_write
        from vaecore.perturb.export import write_npy_stream

        def chunks():
            for a in range(0, len(keys), 4096):
                x = self.transform(self.base.observations_at(keys[a : a + 4096]), keys[a : a + 4096])
                yield np.floor(x * 255.0 + 0.5).astype(np.uint8) if dtype == "uint8" else x

        shape = (len(keys), *self.observation_shape)
        atomic_write(folder / "images.npy", lambda fh: write_npy_stream(fh, np.dtype(dtype), shape, chunks()))
        atomic_write(folder / "indices.npy", lambda fh: np.save(fh, keys, allow_pickle=False))
