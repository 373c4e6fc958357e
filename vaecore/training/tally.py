"""Loss tallies of the training loop: the terms of the current logging window, checked finite.

On the CPU every term is copied to a Python float each step (``.item()``, ~1 µs) and checked
before the update, so a NaN stops the run at its step; on accelerators the terms of a window are
summed as one stacked tensor (no device sync per step) and checked when the window is flushed and
before every checkpoint, so no checkpoint ever holds weights updated by a non-finite loss.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["LossTally", "NonFiniteLossError"]


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN/inf loss; the message names the step and every loss term."""


class LossTally:
    """Sums of the loss terms since the last :meth:`flush`."""

    def __init__(self, *, on_cpu: bool) -> None:
        self.on_cpu = on_cpu
        self.names: list[str] | None = None
        self._sums: list[float] = []
        self._acc: torch.Tensor | None = None
        self.count = 0

    def add(self, terms: dict[str, torch.Tensor], step: int) -> None:
        """Add the terms of training step ``step`` (1-based); on the CPU raise if one is not finite."""
        if self.names is None:
            self.names = list(terms)
            self._sums = [0.0] * len(self.names)
        if self.on_cpu:
            values = [t.item() for t in terms.values()]
            if not all(map(math.isfinite, values)):
                raise self._error(values, f"at step {step}")
            self._sums = [a + b for a, b in zip(self._sums, values)]
        else:
            stacked = torch.stack([t.detach() for t in terms.values()])
            self._acc = stacked if self._acc is None else self._acc + stacked
        self.count += 1

    def _means(self, step: int) -> list[float]:
        mean = [v / self.count for v in self._sums] if self.on_cpu else (self._acc / self.count).tolist()  # type: ignore[operator]
        if not all(map(math.isfinite, mean)):
            raise self._error(mean, f"in steps {step - self.count + 1}-{step}")
        return mean

    def flush(self, step: int) -> dict[str, float]:
        """The window's mean terms as a history entry ``{"step": step, term: mean, ...}``; resets."""
        mean = self._means(step)
        entry = {"step": step, **{k: float(v) for k, v in zip(self.names or [], mean)}}
        self._acc, self.count, self._sums = None, 0, [0.0] * len(self.names or [])
        return entry

    def check(self, step: int) -> None:
        """Raise if the terms since the last flush are not finite (accelerators; the CPU checked)."""
        if self._acc is not None and self.count:
            self._means(step)

    def _error(self, values: Sequence[float], when: str) -> NonFiniteLossError:
        parts = ", ".join(f"{k}={v:.6g}" for k, v in zip(self.names or [], values))
        return NonFiniteLossError(
            f"train: non-finite loss {when} ({parts}); the last checkpoint (if any) is kept. "
            "Lower the learning rate or check the data."
        )
