"""The factor encoding w → w̃ fed to the manipulator (SPEC-ch4 §6.2).

Categorical factors become one-hot blocks, every other discrete factor its class index scaled to
[0, 1] (``class / (K − 1)``; 0 for a factor with one value). dSprites: 3 + 4 = 7 dimensions,
Shapes3D: 5 + 4 = 9. The encoding is part of a stored manipulator's record
(``perturbation.json``), so a manipulator is refused on a dataset whose factors differ.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["FactorEncoding", "encode_factors"]


@dataclass(frozen=True)
class FactorEncoding:
    """How the ground-truth factor classes of a dataset map to the manipulator's input.

    Attributes
    ----------
    names, sizes, kinds
        The dataset's ``factor_names``, ``factor_sizes`` (all discrete) and ``factor_kinds``.
    """

    names: tuple[str, ...]
    sizes: tuple[int, ...]
    kinds: tuple[str, ...]

    @classmethod
    def of(cls, dataset: Any) -> FactorEncoding:
        """The encoding of ``dataset``'s factors; ``ValueError`` for a continuous factor."""
        sizes = tuple(getattr(dataset, "factor_sizes", ()))
        names = tuple(getattr(dataset, "factor_names", ()))
        if not names:
            raise ValueError(f"FactorEncoding: dataset must have ground-truth factors; got "
                             f"{getattr(dataset, 'name', dataset)!r} with none")
        bad = [n for n, s in zip(names, sizes) if s is None]
        if bad:
            raise ValueError(f"FactorEncoding: every factor must be discrete (a perturbation is a "
                             f"function of the factor classes); got continuous factor(s) {bad}")
        return cls(names, tuple(int(s) for s in sizes), tuple(dataset.factor_kinds))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FactorEncoding:
        return cls(tuple(d["names"]), tuple(int(s) for s in d["sizes"]), tuple(d["kinds"]))

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) for k, v in asdict(self).items()}

    @property
    def dim(self) -> int:
        """Width of w̃: size K of each categorical factor, 1 for each other factor."""
        return sum(s if k == "categorical" else 1 for s, k in zip(self.sizes, self.kinds))

    def encode(self, classes: Any) -> np.ndarray:
        """w̃ of factor classes ``(n, n_factors)`` int → float32 ``(n, dim)``."""
        c = np.asarray(classes)
        if c.ndim != 2 or c.shape[1] != len(self.sizes):
            raise ValueError(f"FactorEncoding.encode: classes must have shape (n, {len(self.sizes)}); "
                             f"got {tuple(c.shape)}")
        out = np.zeros((c.shape[0], self.dim), np.float32)
        col = 0
        for j, (size, kind) in enumerate(zip(self.sizes, self.kinds)):
            cj = c[:, j].astype(np.int64)
            if cj.size and (cj.min() < 0 or cj.max() >= size):
                raise ValueError(f"FactorEncoding.encode: classes[:, {j}] ({self.names[j]}) must lie "
                                 f"in [0, {size}); got {int(cj[(cj < 0) | (cj >= size)][0])}")
            if kind == "categorical":
                out[np.arange(len(cj)), col + cj] = 1.0
                col += size
            else:
                out[:, col] = cj / (size - 1) if size > 1 else 0.0
                col += 1
        return out


def encode_factors(dataset: Any, classes: Any) -> np.ndarray:
    """w̃ (SPEC-ch4 §6.2) of ``dataset``'s factor classes ``(n, n_factors)``: float32 ``(n, dim)``."""
    return FactorEncoding.of(dataset).encode(classes)
