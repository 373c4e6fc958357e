"""Disentanglement and orthogonality metrics (thesis chapter 3, §3.3; chapter 4)."""

from vaecore.metrics.ds import DSResult, ds
from vaecore.metrics.mig import MIGResult, mig

__all__: list[str] = ["DSResult", "MIGResult", "ds", "mig"]
