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
    """Mixin for frozen dataclass results whose first field is ``value``.

    ``DLIB_KEYS`` maps disentanglement_lib's key names for a score to the field that holds it
    (e.g. MIG's ``"discrete_mig"`` → ``"value"``); :meth:`as_dict` adds them beside ours.
    """

    DLIB_KEYS: dict[str, str] = {}

    def __float__(self) -> float:
        return float(self.value)  # type: ignore[attr-defined]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able dictionary of every field (arrays become nested lists), plus
        disentanglement_lib's key names of the same numbers (``DLIB_KEYS``)."""
        out = {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]
        for theirs, ours in self.DLIB_KEYS.items():
            out.setdefault(theirs, out[ours])
        return out
