"""The ground-truth dataset abstraction shared by every dataset of vaecore (SPEC §4).

A :class:`GroundTruthDataset` describes its generative factors (names, kinds, value
grids), maps factors to observations (rendered, computed or looked up) and gives
index access, a seeded 80/10/10 train/eval/test split (thesis §3.3.1) and torch
adapters. :class:`GridDataset` adds the index <-> factor-classes bijection of the
full-grid datasets (dSprites, Shapes3D), with the index layout of the published
files (last factor fastest), as in disentanglement_lib's ``SplitDiscreteStateSpace``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from vaecore._validation import check_array, check_int

FACTOR_KINDS: tuple[str, ...] = ("categorical", "ordinal", "cyclic", "continuous")


def as_rng(func: str, rng: Any) -> np.random.Generator:
    """Accept a numpy ``Generator``, an int seed or ``None`` (seed 0) and return a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"{func}: rng must be a numpy Generator or an int seed; got {type(rng).__name__}"
    )


def split_indices(n: int, seed: int = 0, *, func: str = "split") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The seeded random 80/10/10 split of ``n`` samples into train / eval / test indices
    (thesis §3.3.1), the one implementation behind every dataset's ``split``.

    ``n_train = floor(0.8 n)``, ``n_eval = floor(0.1 n)``, the rest is test (19 points:
    15 / 1 / 3). The permutation comes from ``numpy.random.default_rng(seed)`` (PCG64,
    identical on every platform); each part is returned sorted (sequential file reads).
    """
    seed = check_int(func, "seed", seed, minimum=0)
    n = check_int(func, "n", n, minimum=0)
    perm = np.random.default_rng(seed).permutation(n)
    n_train = (8 * n) // 10
    n_eval = n // 10
    return (
        np.sort(perm[:n_train]),
        np.sort(perm[n_train : n_train + n_eval]),
        np.sort(perm[n_train + n_eval :]),
    )


def check_factor_kinds(func: str, kinds: Any, n_factors: int) -> tuple[str, ...]:
    """Validate one factor kind (:data:`FACTOR_KINDS`) per factor and return them as a tuple."""
    if isinstance(kinds, (str, bytes)) or not hasattr(kinds, "__iter__"):
        raise TypeError(
            f"{func}: factor_kinds must be a sequence of strings, one per factor; got "
            f"{type(kinds).__name__} {kinds!r}"
        )
    kinds = tuple(kinds)
    if len(kinds) != n_factors:
        raise ValueError(
            f"{func}: factor_kinds must have one entry per factor ({n_factors}); got {len(kinds)}"
        )
    for i, kind in enumerate(kinds):
        if kind not in FACTOR_KINDS:
            raise ValueError(
                f"{func}: factor_kinds must hold kinds from {FACTOR_KINDS}; got {kind!r} at position {i}"
            )
    return kinds


class GroundTruthDataset(ABC):
    """A dataset with known generative factors.

    Attributes
    ----------
    name : str
        Registry name (``vaecore.datasets.load(name)``).
    factor_names : tuple of str
    factor_sizes : tuple of (int or None)
        Number of values of each discrete factor; ``None`` for a continuous one.
    factor_kinds : tuple of str
        ``"categorical" | "ordinal" | "cyclic" | "continuous"``; the DS metric treats
        ``"categorical"`` factors by classification, the others by regression.
    factor_values : tuple of (numpy.ndarray or None)
        The value grid of each discrete factor (``None`` for a continuous one).
    observation_shape : tuple of int
        Channels first for images, e.g. ``(1, 64, 64)``; ``(3,)`` for Synth. Lin.
    is_image : bool
        True for image datasets (observations in [0, 1]).

    Notes
    -----
    Factors are *class indices* for discrete factors and *values* for continuous ones.
    Observations are float32, shape ``(n, *observation_shape)``.
    """

    name: str = ""
    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int | None, ...] = ()
    factor_kinds: tuple[str, ...] = ()
    factor_values: tuple[np.ndarray | None, ...] = ()
    observation_shape: tuple[int, ...] = ()
    is_image: bool = False

    # ------------------------------------------------------------------ shape
    @property
    def n_factors(self) -> int:
        """Number of ground-truth factors."""
        return len(self.factor_names)

    @property
    def categorical(self) -> tuple[bool, ...]:
        """Per factor: True when it is categorical (the DS metric's ``categorical=``)."""
        return tuple(k == "categorical" for k in self.factor_kinds)

    @property
    def factors_dtype(self) -> np.dtype:
        """int64 when every factor is discrete (class indices), else float64."""
        if all(s is not None for s in self.factor_sizes):
            return np.dtype(np.int64)
        return np.dtype(np.float64)

    @abstractmethod
    def __len__(self) -> int: ...

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, n={len(self)}, "
            f"factors={list(self.factor_names)}, observation_shape={self.observation_shape})"
        )

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary (used by ``vaecore datasets show``)."""
        return {
            "name": self.name,
            "class": type(self).__name__,
            "n_samples": len(self),
            "observation_shape": list(self.observation_shape),
            "is_image": self.is_image,
            "factors": [
                {
                    "name": n,
                    "kind": k,
                    "size": s,
                    "values": None if v is None else [float(x) for x in np.asarray(v).ravel()],
                }
                for n, k, s, v in zip(
                    self.factor_names, self.factor_kinds, self.factor_sizes, self.factor_values
                )
            ],
        }

    # ------------------------------------------------------------- factors
    @abstractmethod
    def sample_factors(self, n: int, rng: Any = None) -> np.ndarray:
        """Draw ``n`` factor vectors, shape ``(n, n_factors)``, from the data distribution."""

    @abstractmethod
    def observations(self, factors: Any, rng: Any = None) -> np.ndarray:
        """Observations of the given factors, float32 ``(n, *observation_shape)``."""

    @abstractmethod
    def factors_at(self, indices: Any) -> np.ndarray:
        """Factors of the samples at ``indices``, shape ``(n, n_factors)``."""

    @abstractmethod
    def observations_at(self, indices: Any) -> np.ndarray:
        """Observations of the samples at ``indices``, float32 ``(n, *observation_shape)``."""

    def sample(self, n: int, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n`` samples: ``(factors, observations)`` (disentanglement_lib's ``sample``)."""
        rng = as_rng(f"{self.name}.sample", rng)
        factors = self.sample_factors(n, rng)
        return factors, self.observations(factors, rng)

    def _check_indices(self, func: str, indices: Any) -> np.ndarray:
        idx = check_array(f"{self.name}.{func}", "indices", indices, ndim=(0, 1), dtype=np.int64,
                          integer=True)
        idx = np.atleast_1d(idx)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            bad = int(idx[(idx < 0) | (idx >= len(self))][0])
            raise ValueError(
                f"{self.name}.{func}: indices must be in [0, {len(self)}); got {bad}"
            )
        return idx

    # --------------------------------------------------------------- split
    def split(self, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Seeded random 80/10/10 split into train / eval / test indices (thesis §3.3.1);
        see :func:`split_indices`."""
        return split_indices(len(self), seed, func=f"{self.name}.split")

    # --------------------------------------------------------------- torch
    def torch_dataset(self, indices: Any = None) -> Any:
        """A torch ``Dataset`` over ``indices`` (all samples when ``None``).

        Items are ``(observation float32 tensor, factors tensor)``; indexing with a list
        of positions returns a whole batch at once (see :meth:`dataloader`).
        """
        from vaecore.datasets.torch_adapter import TorchGroundTruth

        idx = None if indices is None else self._check_indices("torch_dataset", indices)
        return TorchGroundTruth(self, idx)

    def dataloader(
        self,
        indices: Any = None,
        *,
        batch_size: int,
        shuffle: bool,
        seed: int = 0,
        num_workers: int = 0,
        drop_last: bool = False,
    ) -> Any:
        """A torch ``DataLoader`` yielding batches ``(obs (B, *shape), factors (B, n_factors))``.

        Batches are produced whole (one ``observations_at`` call per batch), so a worker
        never holds more than one batch beyond the dataset's own storage. ``shuffle``
        uses a ``torch.Generator`` seeded with ``seed`` (reproducible order).
        """
        from vaecore.datasets.torch_adapter import make_dataloader

        return make_dataloader(
            self.torch_dataset(indices),
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            num_workers=num_workers,
            drop_last=drop_last,
        )


class GridDataset(GroundTruthDataset):
    """A dataset holding exactly one observation per point of a full factor grid.

    Index layout: ``index = dot(classes, strides)`` with the last factor fastest
    (``strides[-1] = 1``), as in the published dSprites and 3dshapes files.
    """

    @property
    def strides(self) -> np.ndarray:
        sizes = np.asarray(self.factor_sizes, dtype=np.int64)
        return np.concatenate([np.cumprod(sizes[::-1])[::-1][1:], [1]]).astype(np.int64)

    def __len__(self) -> int:
        return int(np.prod(np.asarray(self.factor_sizes, dtype=np.int64)))

    def check_factors(self, func: str, factors: Any) -> np.ndarray:
        """Validate class indices ``(n, n_factors)`` (or one vector) and return int64."""
        f = check_array(f"{self.name}.{func}", "factors", factors, ndim=(1, 2), dtype=np.int64,
                        integer=True)
        if f.ndim == 1:
            f = f[None, :]
        if f.shape[1] != self.n_factors:
            raise ValueError(
                f"{self.name}.{func}: factors must have {self.n_factors} columns "
                f"({', '.join(self.factor_names)}); got shape {tuple(f.shape)}"
            )
        sizes = np.asarray(self.factor_sizes, dtype=np.int64)
        bad = (f < 0) | (f >= sizes)
        if bad.any():
            r, c = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(
                f"{self.name}.{func}: factors[:, {c}] ({self.factor_names[c]}) must be class "
                f"indices in [0, {sizes[c]}); got {int(f[r, c])} at row {r}"
            )
        return f

    def factors_to_index(self, factors: Any) -> np.ndarray:
        """Flat indices of factor class vectors ``(n, n_factors)`` -> ``(n,)`` int64."""
        f = self.check_factors("factors_to_index", factors)
        return f @ self.strides

    def index_to_factors(self, indices: Any) -> np.ndarray:
        """Factor class vectors ``(n, n_factors)`` int64 of flat indices ``(n,)``."""
        idx = self._check_indices("index_to_factors", indices)
        sizes = np.asarray(self.factor_sizes, dtype=np.int64)
        return (idx[:, None] // self.strides[None, :]) % sizes[None, :]

    def factors_at(self, indices: Any) -> np.ndarray:
        return self.index_to_factors(indices)

    def factor_values_of(self, factors: Any) -> np.ndarray:
        """Map class indices ``(n, n_factors)`` to factor values (float64)."""
        f = self.check_factors("factor_values_of", factors)
        cols = [np.asarray(v, dtype=np.float64)[f[:, j]] for j, v in enumerate(self.factor_values)]
        return np.stack(cols, axis=1) if cols else np.zeros((len(f), 0))

    def sample_factors(self, n: int, rng: Any = None) -> np.ndarray:
        """Uniform random class indices, ``(n, n_factors)`` int64 (one column per factor)."""
        n = check_int(f"{self.name}.sample_factors", "n", n, minimum=0)
        rng = as_rng(f"{self.name}.sample_factors", rng)
        cols = [rng.integers(0, s, size=n) for s in self.factor_sizes]
        return np.stack(cols, axis=1).astype(np.int64) if cols else np.zeros((n, 0), np.int64)

    def observations(self, factors: Any, rng: Any = None) -> np.ndarray:
        return self.observations_at(self.factors_to_index(factors))

