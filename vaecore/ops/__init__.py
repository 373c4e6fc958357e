"""Torch-facing fused ops over the compiled kernels (with autograd and pure-torch twins)."""

from vaecore.ops.full_cov import full_cov_rsample

__all__ = ["full_cov_rsample"]
