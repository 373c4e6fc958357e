"""Training batches of pairs ``(x1, x2, label)`` for chapter 4's paired models (SPEC-ch4 §2).

:class:`PairBatches` has the interface of :class:`vaecore.training.data.BatchSampler` (``next``,
``observations``, ``steps_per_epoch``, ``state_dict``): each step draws ``batch_size`` pairs from
a :func:`vaecore.datasets.pairs` sampler whose first images come from the training split, renders
both images and returns a :class:`vaecore.datasets.PairBatch` on the device. The pair sampler's
generator state is part of the checkpoint, so a resumed run draws the same pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

__all__ = ["PairBatches"]


class PairBatches:
    """Pairs of ``kind`` for model ``model`` over ``dataset``, first images from ``indices``."""

    def __init__(
        self,
        dataset: Any,
        indices: np.ndarray,
        *,
        model: str,
        kind: str,
        rate: float,
        k: int,
        batch_size: int,
        seed: int,
        device: torch.device,
    ) -> None:
        from vaecore.datasets import pairs

        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        self.n = int(self.indices.shape[0])
        if self.n == 0:
            raise ValueError("train: the training split is empty")
        try:
            self.pairs = pairs(dataset, kind, rate=rate, k=k, indices=self.indices, seed=seed)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"train: model {model!r} trains on {kind!r} pairs: {exc}") from exc
        self.batch_size = int(batch_size)
        self.device = device
        #: the model's own drawer ``draw(pair_sampler, n, device)`` (PCL: pairs + grid negatives)
        self.draw: Callable[[Any, int, torch.device], Any] | None = None

    @property
    def steps_per_epoch(self) -> int:
        """Steps whose first images number the training split (pairs are drawn with replacement)."""
        return max(1, self.n // self.batch_size)

    def next(self) -> Any:
        """The next batch of pairs (a ``PairBatch``: unpacks as ``x1, x2, label``), or what the
        model's :attr:`draw` makes of the pair sampler."""
        if self.draw is not None:
            return self.draw(self.pairs, self.batch_size, self.device)
        return self.pairs.batch(self.batch_size, self.device)

    def observations(self, positions: np.ndarray) -> torch.Tensor:
        """Single observations at ``positions`` within the training split (the probe batch)."""
        obs = np.asarray(self.dataset.observations_at(self.indices[positions]), dtype=np.float32)
        return torch.from_numpy(np.ascontiguousarray(obs)).to(self.device)

    def state_dict(self) -> dict[str, Any]:
        return {"pairs": self.pairs.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "pairs" not in state:
            raise ValueError("train: the checkpoint holds no pair-sampler state (a run of an unpaired model?)")
        self.pairs.load_state_dict(state["pairs"])
