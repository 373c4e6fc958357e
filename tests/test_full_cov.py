"""The fused full-covariance op (thesis §3.2.7): C++ kernel, CUDA kernel and torch twin."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from vaecore.ops import full_cov_rsample
from vaecore.reference.full_cov import full_cov_rsample as twin


def _inputs(B, k, dtype=torch.float64, seed=0, requires_grad=False):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(B, k, generator=g, dtype=dtype)
    A = torch.randn(B, k, k, generator=g, dtype=dtype)
    L = A.tril(-1) * 0.5 + torch.diag_embed(torch.exp(0.3 * A.diagonal(dim1=1, dim2=2)))
    L = L + torch.triu(torch.randn(B, k, k, generator=g, dtype=dtype), 1)  # junk above: ignored
    eps = torch.randn(B, k, generator=g, dtype=dtype)
    if requires_grad:
        for t in (mu, L, eps):
            t.requires_grad_(True)
    return mu, L, eps


def test_kl_matches_torch_distributions():
    mu, L, eps = _inputs(16, 5)
    z, kl = full_cov_rsample(mu, L, eps)
    q = torch.distributions.MultivariateNormal(mu, scale_tril=L.tril())
    p = torch.distributions.MultivariateNormal(torch.zeros(5, dtype=mu.dtype), torch.eye(5, dtype=mu.dtype))
    torch.testing.assert_close(kl, torch.distributions.kl_divergence(q, p), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(z, mu + (L.tril() @ eps[..., None])[..., 0], rtol=1e-12, atol=1e-12)


def test_diagonal_case_equals_beta_vae_kl():
    g = torch.Generator().manual_seed(3)
    mu = torch.randn(32, 6, generator=g, dtype=torch.float64)
    logvar = torch.randn(32, 6, generator=g, dtype=torch.float64)
    L = torch.diag_embed(torch.exp(0.5 * logvar))
    _, kl = full_cov_rsample(mu, L, torch.zeros_like(mu))
    expected = 0.5 * (mu**2 + logvar.exp() - logvar - 1).sum(1)
    torch.testing.assert_close(kl, expected, rtol=1e-12, atol=1e-12)


def test_sample_covariance_matches_LLt():
    mu, L, _ = _inputs(1, 4, seed=5)
    n = 200_000
    g = torch.Generator().manual_seed(0)
    eps = torch.randn(n, 4, generator=g, dtype=torch.float64)
    z, _ = full_cov_rsample(mu.expand(n, 4), L.expand(n, 4, 4), eps)
    cov = torch.cov(z.T)
    Lt = L[0].tril()
    torch.testing.assert_close(cov, Lt @ Lt.T, rtol=0, atol=0.03)
    torch.testing.assert_close(z.mean(0), mu[0], rtol=0, atol=0.02)


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_gradcheck(backend):
    mu, L, eps = _inputs(3, 4, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, c: full_cov_rsample(a, b, c, backend=backend), (mu, L, eps))


def test_upper_triangle_gets_zero_gradient():
    mu, L, eps = _inputs(4, 3, requires_grad=True)
    z, kl = full_cov_rsample(mu, L, eps)
    (z.sum() + kl.sum()).backward()
    assert torch.count_nonzero(torch.triu(L.grad, 1)) == 0


@pytest.mark.native
@given(
    B=st.integers(1, 40),
    k=st.integers(1, 12),
    seed=st.integers(0, 2**31),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_native_matches_twin_values_and_gradients(B, k, seed, dtype):
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == torch.float32 else dict(rtol=1e-10, atol=1e-10)
    outs = []
    for backend in ("native", "reference"):
        mu, L, eps = _inputs(B, k, dtype=dtype, seed=seed, requires_grad=True)
        z, kl = full_cov_rsample(mu, L, eps, backend=backend)
        g = torch.Generator().manual_seed(seed + 1)
        wz = torch.randn(z.shape, generator=g, dtype=dtype)
        wk = torch.randn(kl.shape, generator=g, dtype=dtype)
        ((z * wz).sum() + (kl * wk).sum()).backward()
        outs.append((z.detach(), kl.detach(), mu.grad, L.grad, eps.grad))
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, **tol)


def test_empty_batch():
    z, kl = full_cov_rsample(torch.zeros(0, 3), torch.zeros(0, 3, 3), torch.zeros(0, 3))
    assert z.shape == (0, 3) and kl.shape == (0,)


@pytest.mark.parametrize("backend", ["native", "reference"])
def test_bad_values(backend):
    mu, L, eps = _inputs(4, 3)
    L_bad = L.clone()
    L_bad[2, 1, 1] = -0.5
    with pytest.raises(ValueError, match=r"full_cov_rsample: scale_tril must have a positive, finite diagonal; got scale_tril\[2, 1, 1\]"):
        full_cov_rsample(mu, L_bad, eps, backend=backend)
    mu_bad = mu.clone()
    mu_bad[1, 0] = float("nan")
    with pytest.raises(ValueError, match="must be finite"):
        full_cov_rsample(mu_bad, L, eps, backend=backend)


def test_bad_shapes_and_types():
    mu, L, eps = _inputs(4, 3)
    with pytest.raises(ValueError, match=r"scale_tril must have shape \(B, k, k\)"):
        full_cov_rsample(mu, L[:, :2, :2], eps)
    with pytest.raises(ValueError, match="eps must have shape"):
        full_cov_rsample(mu, L, eps[:3])
    with pytest.raises(TypeError, match="share one dtype"):
        full_cov_rsample(mu.float(), L, eps)
    with pytest.raises(TypeError, match="mu must be a torch.Tensor"):
        full_cov_rsample(np.zeros((4, 3)), L, eps)
    with pytest.raises(ValueError, match="backend must be one of"):
        full_cov_rsample(mu, L, eps, backend="gpu")


@pytest.mark.cuda
def test_cuda_matches_twin():
    mu, L, eps = (t.cuda().requires_grad_(True) for t in _inputs(64, 10))
    z, kl = full_cov_rsample(mu, L, eps, backend="native")
    (z.sum() + kl.sum()).backward()
    grads = [t.grad.cpu() for t in (mu, L, eps)]
    mu2, L2, eps2 = (t.detach().cpu().requires_grad_(True) for t in (mu, L, eps))
    z2, kl2 = twin(mu2, L2, eps2)
    (z2.sum() + kl2.sum()).backward()
    torch.testing.assert_close(z.detach().cpu(), z2.detach())
    torch.testing.assert_close(kl.detach().cpu(), kl2.detach())
    for a, b in zip(grads, (mu2.grad, L2.grad, eps2.grad)):
        torch.testing.assert_close(a, b)


@pytest.mark.cuda
def test_cuda_gradcheck_and_bad_diagonal():
    mu, L, eps = (t.cuda().requires_grad_(True) for t in _inputs(3, 4))
    assert torch.autograd.gradcheck(lambda a, b, c: full_cov_rsample(a, b, c), (mu, L, eps))
    L_bad = L.detach().clone()
    L_bad[1, 2, 2] = 0.0
    with pytest.raises(ValueError, match="positive, finite diagonal"):
        full_cov_rsample(mu.detach(), L_bad, eps.detach())
