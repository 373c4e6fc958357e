"""Minibatches for the training loop with minimal per-step Python work.

The training split is held as one tensor when it fits in ``PRELOAD_BYTES`` (all synthetic sets,
subsets of image sets); a batch is then a single ``index_select``. Larger splits are read per step
through ``dataset.observations_at``. Batches are drawn without replacement within an epoch from a
permutation made by a ``torch.Generator``; the permutation, the position and the generator state
are part of the checkpoint, so a resumed run sees the same batches.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["ArrayDataset", "BatchSampler", "PRELOAD_BYTES"]

PRELOAD_BYTES = 512 * 2**20


class BatchSampler:
    """Draws training batches from ``dataset`` restricted to ``indices``."""

    def __init__(
        self,
        dataset: Any,
        indices: np.ndarray,
        *,
        batch_size: int,
        seed: int,
        device: torch.device,
    ) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        self.n = int(self.indices.shape[0])
        if self.n == 0:
            raise ValueError("train: the training split is empty")
        self.batch_size = min(int(batch_size), self.n)
        self.device = device
        self.generator = torch.Generator().manual_seed(int(seed))
        n_bytes = self.n * int(np.prod(dataset.observation_shape)) * 4
        self.data: torch.Tensor | None = None
        if n_bytes <= PRELOAD_BYTES:
            obs = np.asarray(dataset.observations_at(self.indices), dtype=np.float32)
            self.data = torch.from_numpy(np.ascontiguousarray(obs)).to(device)
        self.perm = torch.randperm(self.n, generator=self.generator)
        self.pos = 0

    @property
    def steps_per_epoch(self) -> int:
        return max(1, self.n // self.batch_size)

    def next(self) -> torch.Tensor:
        """The next batch, ``(batch_size, *observation_shape)`` float32 on the device."""
        if self.pos + self.batch_size > self.n:
            self.perm = torch.randperm(self.n, generator=self.generator)
            self.pos = 0
        idx = self.perm[self.pos : self.pos + self.batch_size]
        self.pos += self.batch_size
        if self.data is not None:
            return self.data.index_select(0, idx.to(self.data.device))
        rows = self.indices[idx.numpy()]
        order = np.argsort(rows, kind="stable")
        obs = np.asarray(self.dataset.observations_at(rows[order]), dtype=np.float32)
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)
        return torch.from_numpy(np.ascontiguousarray(obs[inverse])).to(self.device)

    def observations(self, positions: np.ndarray) -> torch.Tensor:
        """Observations at ``positions`` within the training split (for the probe batch)."""
        if self.data is not None:
            return self.data.index_select(0, torch.as_tensor(positions, device=self.data.device))
        obs = np.asarray(self.dataset.observations_at(self.indices[positions]), dtype=np.float32)
        return torch.from_numpy(obs).to(self.device)

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state(), "perm": self.perm.clone(), "pos": self.pos}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if int(state["perm"].shape[0]) != self.n:
            raise ValueError(
                f"train: the checkpoint's training split has {int(state['perm'].shape[0])} points; "
                f"this dataset's has {self.n}"
            )
        self.generator.set_state(state["generator"])
        self.perm = state["perm"].clone()
        self.pos = int(state["pos"])


class ArrayDataset:
    """An in-memory dataset from arrays, for ``train(config, dataset=ArrayDataset(...))``.

    It has the parts of the :mod:`vaecore.datasets` interface that training and evaluation use:
    ``name``, ``observation_shape``, ``factor_names``, ``factor_kinds``, ``n_factors``,
    ``is_image``, ``__len__``, ``split(seed)`` (the datasets' seeded 80/10/10 split, sorted), ``observations_at``,
    ``factors_at``.

    Parameters
    ----------
    observations
        ``(n, *observation_shape)`` float array.
    factors
        ``(n, n_factors)`` ground-truth factors, or None.
    factor_kinds
        One kind per factor from ``vaecore.datasets.base.FACTOR_KINDS`` (default: all
        "continuous"); a wrong length or an unknown kind raises ``ValueError``.
    is_image
        Whether observations are images in [0, 1] (selects the Bernoulli likelihood by default).
    """

    def __init__(
        self,
        observations: Any,
        factors: Any = None,
        *,
        factor_kinds: Any = None,
        is_image: bool = False,
        name: str = "arrays",
    ) -> None:
        from vaecore._validation import check_array
        from vaecore.datasets.base import check_factor_kinds

        func = "ArrayDataset"
        obs = check_array(func, "observations", observations, dtype=np.float32, min_rows=1)
        if obs.ndim < 2:
            raise ValueError(
                f"{func}: observations must have shape (n, *observation_shape); got {obs.shape}"
            )
        self._obs = obs
        if factors is None:
            self._factors = np.zeros((obs.shape[0], 0))
        else:
            self._factors = check_array(func, "factors", factors, ndim=2, keep_int=True)
            if self._factors.shape[0] != obs.shape[0]:
                raise ValueError(
                    f"{func}: factors must have one row per observation; got "
                    f"{self._factors.shape[0]} rows for {obs.shape[0]} observations"
                )
        n_f = self._factors.shape[1]
        self.factor_names = tuple(f"factor_{i}" for i in range(n_f))
        kinds = ("continuous",) * n_f if factor_kinds is None else factor_kinds
        self.factor_kinds = check_factor_kinds(func, kinds, n_f)
        self.n_factors = n_f
        self.observation_shape = tuple(obs.shape[1:])
        if not isinstance(is_image, (bool, np.bool_)):
            raise TypeError(f"{func}: is_image must be a bool; got {type(is_image).__name__}")
        self.is_image = bool(is_image)
        if not isinstance(name, str) or not name:
            raise TypeError(f"{func}: name must be a non-empty str; got {name!r}")
        self.name = name

    def __len__(self) -> int:
        return int(self._obs.shape[0])

    def split(self, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The 80/10/10 split of every vaecore dataset (:func:`vaecore.datasets.base.split_indices`)."""
        from vaecore.datasets.base import split_indices

        return split_indices(len(self), seed, func=f"{self.name}.split")

    def _indices(self, func: str, indices: Any) -> np.ndarray:
        from vaecore._validation import check_array

        idx = np.atleast_1d(
            check_array(f"{self.name}.{func}", "indices", indices, ndim=(0, 1), dtype=np.int64, integer=True)
        )
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            bad = int(idx[(idx < 0) | (idx >= len(self))][0])
            raise ValueError(f"{self.name}.{func}: indices must be in [0, {len(self)}); got {bad}")
        return idx

    def observations_at(self, indices: Any) -> np.ndarray:
        return self._obs[self._indices("observations_at", indices)]

    def factors_at(self, indices: Any) -> np.ndarray:
        return self._factors[self._indices("factors_at", indices)]
