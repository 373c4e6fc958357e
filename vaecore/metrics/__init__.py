"""Disentanglement and orthogonality metrics (thesis chapter 3, §3.3; chapter 4)."""

from vaecore.metrics.dto import DtOResult, closest_signed_permutation, dto
from vaecore.metrics.polarized import (
    ActiveUnitsResult,
    PolarizedResult,
    active_units,
    polarized_regime,
)

__all__: list[str] = [
    "ActiveUnitsResult",
    "DtOResult",
    "PolarizedResult",
    "active_units",
    "closest_signed_permutation",
    "dto",
    "polarized_regime",
]
