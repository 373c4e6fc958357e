"""Disentanglement and orthogonality metrics (thesis chapter 3, §3.3; chapter 4)."""

__all__: list[str] = []

from vaecore.metrics.polarized import (  # noqa: E402
    ActiveUnitsResult,
    PolarizedResult,
    active_units,
    polarized_regime,
)

__all__ += ["ActiveUnitsResult", "PolarizedResult", "active_units", "polarized_regime"]
