"""Architectures and objectives: shapes, closed forms, and falling losses on a tiny set."""

import math

import numpy as np
import pytest
import torch

from vaecore.models import MODEL_NAMES, build_model
from vaecore.models.beta_tcvae import total_correlation
from vaecore.models.conv import conv_decoder, conv_encoder
from vaecore.models.factor_vae import shuffle_codes


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def _build(name, **kw):
    torch.manual_seed(0)
    opts = dict(
        observation_shape=(6,),
        latent_dim=3,
        architecture="linear" if name == "linear-vae" else "mlp",
        encoder_hidden=(16,),
        decoder_hidden=(16,),
        discriminator_hidden=(32, 32),
        beta=2.0,
    )
    opts.update(kw)
    return build_model(name, **opts)


def _tiny_data(n=512, seed=0):
    g = torch.Generator().manual_seed(seed)
    v = torch.rand(n, 2, generator=g)
    W = torch.randn(2, 6, generator=g)
    return torch.tanh(v @ W)


def test_mlp_layers_table_3_1():
    m = build_model(
        "beta-vae", observation_shape=(1, 64, 64), latent_dim=5, encoder_hidden=(1200, 1200),
        decoder_hidden=(1200, 1200, 1200), encoder_activation="relu", decoder_activation="tanh",
        likelihood="bernoulli",
    )
    enc = [type(l).__name__ for l in m.encoder[1]]
    dec = [type(l).__name__ for l in m.decoder.net[0]]
    assert enc == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]  # no activation on the output
    assert dec == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "Tanh", "Linear"]
    assert all(l.bias is not None for l in m.modules() if isinstance(l, torch.nn.Linear))
    assert m.encoder[1][0].in_features == 4096 and m.encoder[1][-1].out_features == 10
    x = torch.rand(2, 1, 64, 64)
    mu, logvar = m.encode(x)
    assert mu.shape == logvar.shape == (2, 5)
    assert m.decode(mu).shape == (2, 1, 64, 64)
    assert m.decoder.likelihood == "bernoulli"


def test_linear_architecture_is_affine():
    m = _build("linear-vae")
    assert [type(l).__name__ for l in m.decoder.net[0]] == ["Linear"]
    z = torch.randn(4, 3)
    J = torch.autograd.functional.jacobian(lambda t: m.decode(t).sum(0), z)
    torch.testing.assert_close(J[:, 0], m.decoder.net[0][0].weight)


@pytest.mark.parametrize("kernels", [(4, 4, 2, 2), (4, 4, 4, 4), (3, 3, 3, 3)])
def test_conv_shapes(kernels):
    enc = conv_encoder((3, 64, 64), 20, kernels)
    dec = conv_decoder(10, (3, 64, 64), (4, 4, 4, 4) if kernels != (3, 3, 3, 3) else kernels)
    x = torch.rand(2, 3, 64, 64)
    assert enc(x).shape == (2, 20)
    assert dec(torch.randn(2, 10)).shape == (2, 3, 64, 64)


def test_conv_matches_disentanglement_lib_layout():
    enc = conv_encoder((1, 64, 64), 20)
    convs = [m.conv for m in enc if hasattr(m, "conv")]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [
        (32, 4, 2), (32, 4, 2), (64, 2, 2), (64, 2, 2)
    ]
    with pytest.raises(ValueError, match=r"observations must have shape \(C, 64, 64\)"):
        conv_encoder((1, 32, 32), 4)


def test_represent_numpy_and_torch():
    m = _build("beta-vae")
    x = _tiny_data(10)
    out_np = m.represent(x.numpy())
    out_t = m.represent(x)
    assert isinstance(out_np, np.ndarray) and out_np.shape == (10, 3)
    np.testing.assert_allclose(out_np, out_t.numpy())
    np.testing.assert_allclose(out_np, m.encode(x)[0].detach().numpy())
    assert m.training  # represent restores the mode


def test_beta_vae_sigma_encode_full():
    m = _build("beta-vae-sigma")
    x = _tiny_data(5)
    mu, L = m.encode_full(x)
    assert L.shape == (5, 3, 3)
    assert torch.all(torch.triu(L, 1) == 0) and torch.all(torch.diagonal(L, dim1=1, dim2=2) > 0)
    # L is the Cholesky factor of Σ = AAᵀ, A = I + B, B the encoder's last 9 outputs (row-major)
    h = m.encoder(x)
    assert h.shape[1] == 3 + 9
    A = torch.eye(3) + h[:, 3:].reshape(5, 3, 3)
    sigma = A @ A.transpose(1, 2)
    torch.testing.assert_close(L, torch.linalg.cholesky(sigma))
    torch.testing.assert_close(mu, h[:, :3])
    mu2, logvar = m.encode(x)
    torch.testing.assert_close(logvar.exp(), torch.diagonal(sigma, dim1=1, dim2=2))
    # the KL term is KL(N(μ, Σ) ‖ N(0, I)) of eq. 3.30 (torch.distributions as the check)
    kl = m.losses(x)["kl"]
    q = torch.distributions.MultivariateNormal(mu, covariance_matrix=sigma)
    p = torch.distributions.MultivariateNormal(torch.zeros(3), torch.eye(3))
    torch.testing.assert_close(kl, torch.distributions.kl_divergence(q, p).mean(), rtol=1e-4, atol=1e-5)


def test_beta_vae_sigma_is_rotation_equivariant():
    # Rotating the latent space by R is a change of the encoder's output layer, (μ, B) →
    # (Rμ, RBRᵀ), under which the posterior turns with it: Σ' = RΣRᵀ, KL unchanged. Rotating the
    # decoder's first layer by Rᵀ then leaves the model's expected loss unchanged.
    m = _build("beta-vae-sigma")
    x = _tiny_data(7)
    R, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(1)))
    T = torch.block_diag(R, torch.kron(R, R))  # vec(RBRᵀ) = (R ⊗ R) vec(B), row-major
    mu, L = m.encode_full(x)
    last = [mod for mod in m.encoder.modules() if isinstance(mod, torch.nn.Linear)][-1]
    first = next(mod for mod in m.decoder.modules() if isinstance(mod, torch.nn.Linear))
    kl_before = m.losses(x)["kl"]
    out_before = m.decoder(mu)
    with torch.no_grad():
        last.weight.copy_(T @ last.weight)
        last.bias.copy_(T @ last.bias)
        first.weight.copy_(first.weight @ R.T)
    mu_r, L_r = m.encode_full(x)
    torch.testing.assert_close(mu_r, mu @ R.T, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(L_r @ L_r.transpose(1, 2), R @ L @ L.transpose(1, 2) @ R.T, rtol=1e-4, atol=1e-5)
    # z' = Rμ + L'ε has the law of Rz, so the expected loss is unchanged: the KL exactly, and the
    # rotated decoder maps the rotated codes to the same outputs
    torch.testing.assert_close(m.losses(x)["kl"], kl_before, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(m.decoder(mu_r), out_before, rtol=1e-4, atol=1e-5)


def test_total_correlation_zero_for_independent_product():
    # A posterior whose aggregate is a product of independent marginals has TC ≈ 0 when
    # every sample sits on a grid: compare with a strongly correlated batch.
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(400, 2, generator=g)
    logvar = torch.full((400, 2), math.log(0.01))
    z = mu + 0.1 * torch.randn(400, 2, generator=g)
    tc_indep = total_correlation(z, mu, logvar)
    mu_c = torch.cat([mu[:, :1], mu[:, :1]], 1)
    z_c = mu_c + 0.1 * torch.randn(400, 2, generator=g)
    tc_corr = total_correlation(z_c, mu_c, logvar)
    assert tc_corr > tc_indep + 1.0


def test_shuffle_codes_permutes_columns_independently():
    z = torch.arange(20.0).view(10, 2)
    s = shuffle_codes(z, torch.Generator().manual_seed(0))
    for j in range(2):
        assert sorted(s[:, j].tolist()) == sorted(z[:, j].tolist())
    assert not torch.equal(s, z)


def test_dip_regularizer_closed_form():
    m = _build("dip-vae-i", lambda_od=2.0, lambda_d=3.0)
    mu = torch.tensor([[1.0, 0.0, 2.0], [-1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    logvar = torch.zeros(3, 3)
    c = mu - mu.mean(0)
    cov = c.T @ c / 3
    off = cov - torch.diag(torch.diagonal(cov))
    expected = 2.0 * off.pow(2).sum() + 3.0 * (torch.diagonal(cov) - 1).pow(2).sum()
    torch.testing.assert_close(m.regularizer(mu, logvar), expected)
    m2 = _build("dip-vae-ii", lambda_od=2.0, lambda_d=3.0)
    cov2 = cov + torch.eye(3)
    off2 = cov2 - torch.diag(torch.diagonal(cov2))
    expected2 = 2.0 * off2.pow(2).sum() + 3.0 * (torch.diagonal(cov2) - 1).pow(2).sum()
    torch.testing.assert_close(m2.regularizer(mu, logvar), expected2)


def test_reconstruction_reductions():
    m = _build("ae", likelihood="bernoulli")
    x = torch.rand(4, 6)
    logits = torch.randn(4, 6)
    bce = -(x * torch.log(torch.sigmoid(logits)) + (1 - x) * torch.log(1 - torch.sigmoid(logits)))
    torch.testing.assert_close(m.reconstruction(x, logits), bce.sum() / 4)
    g = _build("ae", likelihood="gaussian")
    torch.testing.assert_close(g.reconstruction(x, logits), (x - logits).pow(2).sum() / 4)


def _decoder_objectives() -> list[str]:
    """Models trained through ``losses`` with a reconstruction term: PCL has no decoder and the
    weak GAN steps itself (three players); tests/test_paired_hookup.py and tests/models/ train them."""
    from vaecore.models.registry import model_class

    return [n for n in MODEL_NAMES if getattr(model_class(n), "has_decoder", True)
            and not getattr(model_class(n), "steps_itself", False)]


@pytest.mark.parametrize("name", _decoder_objectives())
def test_every_objective_trains_with_falling_loss(name):
    m = _build(name)
    x = _tiny_data()
    groups = m.optimizer_groups()
    opts = [torch.optim.Adam(p, lr=3e-3) for p in groups.values()]
    gen = torch.Generator().manual_seed(0)
    eval_gen = lambda: torch.Generator().manual_seed(123)  # noqa: E731
    # paired models (chapter 4) train on (x1, x2, label): here x2 = x1 with a little noise
    pair = (lambda b: b) if m.pairing is None else (lambda b: (b, b + 0.05 * torch.randn(b.shape, generator=gen), None))
    with torch.no_grad():
        before = m.losses(pair(x), eval_gen())["recon"].item()
    for _ in range(150):
        terms = m.losses(pair(x[torch.randint(0, 512, (64,), generator=gen)]), gen)
        assert "loss" in terms and all(torch.isfinite(v) for v in terms.values())
        for o in opts:
            o.zero_grad()
        m.backward(terms)
        for o in opts:
            o.step()
    with torch.no_grad():
        after = m.losses(pair(x), eval_gen())["recon"].item()
    assert after < 0.7 * before, (name, before, after)


def test_factor_vae_keeps_gradients_apart():
    m = _build("factor-vae")
    terms = m.losses(_tiny_data(64), torch.Generator().manual_seed(0))
    m.backward(terms)
    d_params = list(m.discriminator.parameters())
    # the discriminator's gradient is exactly that of disc_loss alone
    ref = torch.autograd.grad(m.losses(_tiny_data(64), torch.Generator().manual_seed(0))["disc_loss"], d_params)
    for p, r in zip(d_params, ref):
        torch.testing.assert_close(p.grad, r)


def test_build_model_errors():
    with pytest.raises(ValueError, match=r"model must be one of \('ae', 'vae', 'beta-vae'"):
        build_model("wae", observation_shape=(3,), latent_dim=2)
    with pytest.raises(ValueError, match="architecture must be one of"):
        build_model("vae", observation_shape=(3,), latent_dim=2, architecture="resnet")
    with pytest.raises(ValueError, match="linear-vae needs architecture 'linear'"):
        build_model("linear-vae", observation_shape=(3,), latent_dim=2)
