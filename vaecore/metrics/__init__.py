"""Disentanglement and orthogonality metrics (thesis chapter 3, §3.3; chapter 4)."""

__all__: list[str] = []
