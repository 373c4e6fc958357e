"""The fused full-covariance op (thesis §3.2.7) vs its pure-torch twin: forward + backward.

Run: ``PYTHONPATH=$PWD pytest benchmarks/bench_full_cov.py --benchmark-enable``.
"""

import pytest
import torch

import vaecore
from vaecore.ops import full_cov_rsample

SIZES = [(B, k) for B in (64, 1024, 4096) for k in (5, 10, 32)]
QUICK_SIZES = [(64, 10), (1024, 32)]


def _inputs(B, k, dtype=torch.float32):
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(B, k, generator=g, dtype=dtype).requires_grad_(True)
    A = torch.randn(B, k, k, generator=g, dtype=dtype)
    L = (A.tril(-1) * 0.3 + torch.diag_embed(torch.exp(0.2 * A.diagonal(dim1=1, dim2=2)))).requires_grad_(True)
    eps = torch.randn(B, k, generator=g, dtype=dtype)
    gz = torch.randn(B, k, generator=g, dtype=dtype)
    gk = torch.randn(B, generator=g, dtype=dtype)
    return mu, L, eps, gz, gk


def _step(backend, mu, L, eps, gz, gk):
    z, kl = full_cov_rsample(mu, L, eps, backend=backend)
    torch.autograd.backward((z, kl), (gz, gk))
    mu.grad = None
    L.grad = None
    if z.is_cuda:
        torch.cuda.synchronize()
    return z


@pytest.mark.parametrize("backend", ["native", "reference"])
@pytest.mark.parametrize("size", SIZES, ids=[f"B{B}-k{k}" for B, k in SIZES])
def test_full_cov_fwd_bwd(benchmark, backend, size, quick):
    if quick and size not in QUICK_SIZES:
        pytest.skip("VAECORE_BENCH_QUICK: a subset of sizes")
    B, k = size
    args = _inputs(B, k)
    # check against the twin once before timing
    z_n, kl_n = full_cov_rsample(*args[:3], backend="native")
    z_r, kl_r = full_cov_rsample(*args[:3], backend="reference")
    torch.testing.assert_close(z_n, z_r, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(kl_n, kl_r, rtol=1e-4, atol=1e-3)
    benchmark.group = f"full_cov_rsample fwd+bwd B={B} k={k}"
    benchmark.extra_info.update(
        {"B": B, "k": k, "dtype": "float32", "torch": torch.__version__, "threads": torch.get_num_threads()}
    )
    benchmark(_step, backend, *args)


@pytest.mark.parametrize("backend", ["native", "reference"])
@pytest.mark.parametrize("size", SIZES, ids=[f"B{B}-k{k}" for B, k in SIZES])
def test_full_cov_fwd_bwd_cuda(benchmark, backend, size, quick):
    """The CUDA kernel (vaecore._cuda) vs the twin on the GPU; skipped without one."""
    if not vaecore.has_cuda():
        pytest.skip("needs a CUDA GPU and vaecore._cuda")
    if quick and size not in QUICK_SIZES:
        pytest.skip("VAECORE_BENCH_QUICK: a subset of sizes")
    B, k = size
    args = [t.detach().cuda().requires_grad_(t.requires_grad) for t in _inputs(B, k)]
    z_n, kl_n = full_cov_rsample(*args[:3], backend="native")
    z_r, kl_r = full_cov_rsample(*args[:3], backend="reference")
    torch.testing.assert_close(z_n, z_r, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(kl_n, kl_r, rtol=1e-4, atol=1e-3)
    benchmark.group = f"full_cov_rsample CUDA fwd+bwd B={B} k={k}"
    benchmark.extra_info.update({"B": B, "k": k, "dtype": "float32", "device": torch.cuda.get_device_name()})
    benchmark(_step, backend, *args)
