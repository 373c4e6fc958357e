"""Torch adapters: a map-style ``Dataset`` that also serves whole batches, and a
``DataLoader`` that asks it for one batch at a time.

The loader uses a ``BatchSampler`` as *sampler* with ``batch_size=None``: each fetch is
``dataset[list_of_positions]``, i.e. one ``observations_at`` call rendering (or reading)
exactly one batch, and each worker prefetches a single batch (``prefetch_factor=1``). No
worker ever holds more than the batch it is producing beyond the dataset's own storage
(e.g. the bit-packed dSprites array).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

from vaecore._validation import check_int


class TorchGroundTruth(Dataset):
    """``(observation, factors)`` items of a :class:`GroundTruthDataset`.

    ``ds[i]`` returns one pair of tensors; ``ds[[i, j, ...]]`` returns a batch
    ``(obs (B, *shape) float32, factors (B, n_factors))``. Factors are int64 class
    indices when every factor is discrete, else float32 values.
    """

    def __init__(self, dataset: Any, indices: np.ndarray | None = None) -> None:
        self.dataset = dataset
        self.indices = indices

    def __len__(self) -> int:
        return len(self.dataset) if self.indices is None else len(self.indices)

    def _global(self, pos: np.ndarray) -> np.ndarray:
        n = len(self)
        if pos.size and (pos.min() < -n or pos.max() >= n):
            raise IndexError(f"position out of range for a dataset of {n} items")
        pos = np.where(pos < 0, pos + n, pos)
        return pos if self.indices is None else self.indices[pos]

    def __getitem__(self, item: Any) -> tuple[torch.Tensor, torch.Tensor]:
        single = isinstance(item, (int, np.integer))
        pos = np.atleast_1d(np.asarray(item, dtype=np.int64))
        idx = self._global(pos)
        obs = torch.from_numpy(np.ascontiguousarray(self.dataset.observations_at(idx), np.float32))
        fac = self.dataset.factors_at(idx)
        factors = torch.from_numpy(
            np.ascontiguousarray(fac, np.int64 if fac.dtype.kind in "iu" else np.float32)
        )
        if single:
            return obs[0], factors[0]
        return obs, factors


def make_dataloader(
    dataset: TorchGroundTruth,
    *,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
    num_workers: int = 0,
    drop_last: bool = False,
) -> DataLoader:
    """A DataLoader fetching one whole batch per ``dataset[...]`` call (see module doc)."""
    func = f"{dataset.dataset.name}.dataloader"
    batch_size = check_int(func, "batch_size", batch_size, minimum=1)
    seed = check_int(func, "seed", seed, minimum=0)
    num_workers = check_int(func, "num_workers", num_workers, minimum=0)
    if not isinstance(shuffle, bool):
        raise TypeError(f"{func}: shuffle must be a bool; got {type(shuffle).__name__}")
    if not isinstance(drop_last, bool):
        raise TypeError(f"{func}: drop_last must be a bool; got {type(drop_last).__name__}")
    if shuffle:
        gen = torch.Generator()
        gen.manual_seed(seed)
        base = RandomSampler(dataset, generator=gen)
    else:
        base = SequentialSampler(dataset)
    sampler = BatchSampler(base, batch_size=batch_size, drop_last=drop_last)
    return DataLoader(
        dataset,
        batch_size=None,
        sampler=sampler,
        num_workers=num_workers,
        # one batch in flight per worker (torch's default prefetches two)
        prefetch_factor=1 if num_workers > 0 else None,
        persistent_workers=False,
    )
