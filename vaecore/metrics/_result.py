"""Shared behaviour of the metric result objects: ``float(result)`` and ``as_dict()``."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """Convert numpy arrays and scalars (also inside tuples/lists/dicts) to plain Python."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


class MetricResult:
    """Mixin for frozen dataclass results whose first field is ``value``."""

    def __float__(self) -> float:
        return float(self.value)  # type: ignore[attr-defined]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able dictionary of every field (arrays become nested lists)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]
