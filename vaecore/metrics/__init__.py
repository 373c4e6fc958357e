"""Disentanglement and orthogonality metrics (thesis chapter 3, §3.3; chapter 4)."""

from vaecore.metrics.dto import DtOResult, closest_signed_permutation, dto

__all__: list[str] = ["DtOResult", "closest_signed_permutation", "dto"]
