"""Chapter 4's models on the registry: SlowVAE, Ada-GVAE / Ada-ML-VAE, the disentanglement_lib
preset family (SPEC-ch4 §1, §3, §5; acceptance checks 1, 3, 4)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vaecore import datasets
from vaecore.models import n_parameters, registry
from vaecore.models.ada_gvae import adaptive_mask, aggregate, pair_divergence
from vaecore.models.slow_vae import laplace_cross_entropy, slow_vae_loss
from vaecore.training import ArrayDataset, TrainConfig, train
from vaecore.training.run import make_model

pytestmark = pytest.mark.usefixtures("torch_one_thread")


# -- SlowVAE (check 3) ------------------------------------------------------------------------------

@pytest.mark.parametrize("rate", [1.0, 6.0])
def test_laplace_cross_entropy_against_monte_carlo(rate):
    # 10⁶ draws of N(0, 1), stratified (one uniform draw in each of 10⁶ equal-probability cells)
    n = 1_000_000
    u = torch.rand(n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    eps = torch.special.ndtri((torch.arange(n, dtype=torch.float64) + u) / n)
    for m in (-1.5, -0.3, 0.0, 0.2, 1.0, 2.5):
        for s in (0.05, 0.3, 1.0, 2.0):
            z = m + s * eps
            mc = (-math.log(rate / 2) + rate * z.abs()).mean()
            c = laplace_cross_entropy(torch.tensor(m, dtype=torch.float64), torch.tensor(2 * math.log(s), dtype=torch.float64), rate)
            assert abs(float(c - mc)) / abs(float(mc)) < 2e-3, (m, s, float(c), float(mc))


def test_laplace_cross_entropy_at_zero_mean_closed_form():
    s = torch.tensor([0.01, 0.5, 1.0, 3.0], dtype=torch.float64)
    for rate in (0.5, 6.0):
        c = laplace_cross_entropy(torch.zeros_like(s), 2 * torch.log(s), rate)
        torch.testing.assert_close(c, -math.log(rate / 2) + rate * s * math.sqrt(2 / math.pi), rtol=1e-12, atol=1e-12)


def _solver_twin(x_il, x_recon_il, mu_il, logvar_il, beta, gamma, rate):
    """Literal transcription of bethgelab/slow_disentanglement scripts/solver.py's arithmetic
    (``train``, ``compute_cross_ent_combined``, ``compute_cross_ent_laplace``) on interleaved
    pairs (rows 0, 2, 4, … are frames a, rows 1, 3, 5, … frames b)."""
    batch_size = x_il.size(0)
    recon_loss = F.binary_cross_entropy_with_logits(x_recon_il, x_il, reduction="sum").div(batch_size)
    z_dim = mu_il.shape[1]
    normal_dist = torch.distributions.normal.Normal(torch.zeros(z_dim, dtype=mu_il.dtype), torch.ones(z_dim, dtype=mu_il.dtype))
    rate_prior = rate * torch.ones(1, dtype=mu_il.dtype)

    def compute_cross_ent_laplace(mean, logvar, rate_prior):
        var = torch.exp(logvar)
        sigma = torch.sqrt(var)
        ce = - torch.log(rate_prior / 2) + rate_prior * sigma * \
            np.sqrt(2 / np.pi) * torch.exp(- mean**2 / (2 * var)) - \
            rate_prior * mean * (1 - 2 * normal_dist.cdf(mean / sigma))
        return ce

    normal_entropy = 0.5 * (logvar_il + np.log(2 * np.pi * np.e))
    cross_ent_normal = 0.5 * (mu_il**2 + torch.exp(logvar_il)) + np.log(np.sqrt(2 * np.pi))
    mu0, mu1 = mu_il[::2], mu_il[1::2]
    logvar0, logvar1 = logvar_il[::2], logvar_il[1::2]
    cross_ent_laplace = (compute_cross_ent_laplace(mu0 - mu1, logvar0, rate_prior)
                         + compute_cross_ent_laplace(mu1 - mu0, logvar1, rate_prior))
    normal_entropy, cross_ent_normal, cross_ent_laplace = [
        t.sum(1).mean(0, True) for t in [normal_entropy, cross_ent_normal, cross_ent_laplace]]
    vae_loss = 2 * recon_loss
    kl_normal = cross_ent_normal - normal_entropy
    kl_laplace = cross_ent_laplace - normal_entropy
    vae_loss = vae_loss + beta * kl_normal
    vae_loss = vae_loss + gamma * kl_laplace
    return vae_loss[0]


def _interleave(t):
    n = t.shape[0] // 2
    return torch.stack([t[:n], t[n:]], 1).reshape(t.shape)


def _slow_inputs(n=16, k=4, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(2 * n, 1, 6, 6, generator=g, dtype=dtype) > 0.5).to(dtype)
    out = torch.randn(2 * n, 1, 6, 6, generator=g, dtype=dtype)
    mu = torch.randn(2 * n, k, generator=g, dtype=dtype)
    logvar = torch.randn(2 * n, k, generator=g, dtype=dtype) - 1.0
    return x, out, mu, logvar


def _recon(x, out):
    return F.binary_cross_entropy_with_logits(out, x, reduction="sum") / x.shape[0]


def test_slow_vae_loss_equals_literal_twin_of_solver():
    x, out, mu, logvar = _slow_inputs()
    for beta, gamma, rate in ((1.0, 10.0, 6.0), (2.0, 3.0, 1.5)):
        ours = slow_vae_loss(x, out, mu, logvar, beta=beta, gamma=gamma, rate_prior=rate, reconstruction=_recon)["loss"]
        twin = _solver_twin(_interleave(x), _interleave(out), _interleave(mu), _interleave(logvar), beta, gamma, rate)
        assert abs(float(ours - twin)) <= 1e-6 * max(1.0, abs(float(twin)))
    x32, out32, mu32, lv32 = (t.float() for t in (x, out, mu, logvar))
    ours32 = slow_vae_loss(x32, out32, mu32, lv32, beta=1.0, gamma=10.0, rate_prior=6.0, reconstruction=_recon)["loss"]
    twin32 = _solver_twin(*(_interleave(t) for t in (x32, out32, mu32, lv32)), 1.0, 10.0, 6.0)
    torch.testing.assert_close(ours32, twin32, rtol=1e-6, atol=1e-4)


def test_slow_vae_gradcheck_float64():
    x, out, mu, logvar = _slow_inputs(n=3, k=2)
    out.requires_grad_(True)
    mu.requires_grad_(True)
    logvar.requires_grad_(True)

    def f(out, mu, logvar):
        return slow_vae_loss(x, out, mu, logvar, beta=1.5, gamma=4.0, rate_prior=6.0, reconstruction=_recon)["loss"]

    assert torch.autograd.gradcheck(f, (out, mu, logvar))
    m = torch.randn(5, dtype=torch.float64, requires_grad=True)
    lv = torch.randn(5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: laplace_cross_entropy(a, b, 6.0), (m, lv))


def test_slow_vae_model_loss_is_the_function_on_its_posteriors():
    nets = registry.Networks(observation_shape=(1, 6, 6), latent_dim=3, encoder_hidden=(8,), decoder_hidden=(8,),
                             likelihood="bernoulli")
    torch.manual_seed(0)
    model = registry.build("slow-vae", nets, {"gamma": 3.0, "rate_prior": 2.0})
    x1 = (torch.rand(5, 1, 6, 6) > 0.5).float()
    x2 = (torch.rand(5, 1, 6, 6) > 0.5).float()
    terms = model.losses((x1, x2, torch.zeros(5)), torch.Generator().manual_seed(1))
    x = torch.cat([x1, x2])
    mu, logvar = model.encode(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=torch.Generator().manual_seed(1))
    ref = slow_vae_loss(x, model.decoder(z), mu, logvar, beta=1.0, gamma=3.0, rate_prior=2.0,
                        reconstruction=model.reconstruction)
    for k in ref:
        torch.testing.assert_close(terms[k], ref[k])


# -- Ada-GVAE / Ada-ML-VAE (check 4) -------------------------------------------------------------------

def test_adaptive_mask_follows_two_equal_width_bins():
    delta = torch.tensor([[0.0, 1.0, 0.5, 0.49], [2.0, 2.0, 2.0, 2.0], [3.0, 0.0, 0.0, 0.0]])
    assert adaptive_mask(delta).tolist() == [
        [False, True, True, False], [False, False, False, False], [True, False, False, False]]


def test_oracle_encoder_finds_the_changed_factor():
    ds = datasets.load("dsprites")
    p = datasets.pairs(ds, "dlib-k", k=1, seed=3).sample(4000)  # one factor resampled per pair
    f1, f2 = (torch.as_tensor(f, dtype=torch.float64) for f in (p.factors1, p.factors2))
    lv = torch.full_like(f1, math.log(0.01))
    mask = adaptive_mask(pair_divergence(f1, f2, lv, lv))
    changed = f1 != f2
    moved = changed.any(1)
    assert 0.1 < (~moved).double().mean() < 0.5  # identical pairs exist (the old value is possible)
    assert torch.equal(mask[moved], changed[moved])  # 100 % of the non-identical pairs
    assert not mask[~moved].any()


def test_aggregations_gvae_average_and_ml_vae_product_of_gaussians():
    g = torch.Generator().manual_seed(0)
    mu1, mu2 = torch.randn(6, 3, generator=g, dtype=torch.float64), torch.randn(6, 3, generator=g, dtype=torch.float64)
    lv1, lv2 = torch.randn(6, 3, generator=g, dtype=torch.float64), torch.randn(6, 3, generator=g, dtype=torch.float64)
    v1, v2 = lv1.exp(), lv2.exp()
    m, lv = aggregate(mu1, mu2, lv1, lv2, "gvae")
    torch.testing.assert_close(m, (mu1 + mu2) / 2)
    torch.testing.assert_close(lv.exp(), (v1 + v2) / 2)
    m, lv = aggregate(mu1, mu2, lv1, lv2, "ml-vae")
    prod_var = 1 / (1 / v1 + 1 / v2)  # N(μ1, v1)·N(μ2, v2) ∝ N(prod_var·(μ1/v1 + μ2/v2), prod_var)
    torch.testing.assert_close(m, prod_var * (mu1 / v1 + mu2 / v2))
    torch.testing.assert_close(lv.exp(), 2 * prod_var)  # dlib's variance: twice the product's
    with pytest.raises(ValueError, match="kind must be one of"):
        aggregate(mu1, mu2, lv1, lv2, "mean")


def test_ada_gvae_posteriors_and_loss():
    nets = registry.Networks(observation_shape=(4,), latent_dim=3, encoder_hidden=(8,), decoder_hidden=(8,))
    for name, kind in (("ada-gvae", "gvae"), ("ada-ml-vae", "ml-vae")):
        torch.manual_seed(0)
        model = registry.build(name, nets, {"beta": 2.0})
        x1, x2 = torch.randn(7, 4), torch.randn(7, 4)
        means, logvars, mask = model.posteriors(x1, x2)
        mu1, lv1 = model.encode(x1)
        mu2, lv2 = model.encode(x2)
        new_mu, new_lv = aggregate(mu1, mu2, lv1, lv2, kind)
        torch.testing.assert_close(means[:7], torch.where(mask, mu1, new_mu))
        torch.testing.assert_close(logvars[7:], torch.where(mask, lv2, new_lv))
        terms = model.losses((x1, x2, torch.zeros(7)), torch.Generator().manual_seed(0))
        torch.testing.assert_close(terms["loss"], terms["recon"] + 2.0 * terms["kl"])


# -- training on pairs, presets, parameter counts (check 1) -------------------------------------------

def _grid():
    return datasets.subgrid(datasets.load("dsprites"), fixed={"shape": 0, "scale": 5, "orientation": 0})


def _paired_cfg(model, **kw):
    base = dict(dataset="grid", model=model, architecture="mlp", encoder_hidden=(16,), decoder_hidden=(16,),
                latent_dim=2, batch_size=8, steps=12, log_every=4, monitor_every=6, checkpoint_every=6,
                probe_size=32, lr=1e-3)
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize("model", ["slow-vae", "ada-gvae"])
def test_paired_resume_is_bit_exact(tmp_path, model):
    ds = _grid()
    cfg = _paired_cfg(model)
    train(cfg, out=tmp_path / "a", progress=False, dataset=ds)
    resumed = train(cfg.replace(steps=24), out=tmp_path / "a", progress=False, dataset=ds)
    straight = train(cfg.replace(steps=24), out=tmp_path / "b", progress=False, dataset=ds)
    for k, v in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[k], v), k
    assert resumed.history == straight.history
    ckpt = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    assert ckpt["sampler"]["pairs"]["kind"] == ("laplace" if model == "slow-vae" else "dlib-k")
    assert ckpt["sampler"]["pairs"]["n_drawn"] == 24 * 8


def test_paired_model_errors():
    toy = ArrayDataset(np.random.default_rng(0).normal(size=(50, 3)))
    with pytest.raises(ValueError, match=r"model 'slow-vae' trains on 'laplace' pairs: pairs: ds must be a GroundTruthDataset"):
        train(_paired_cfg("slow-vae"), progress=False, dataset=toy)
    with pytest.raises(ValueError, match=r"pairing must be None for model 'beta-vae'"):
        _paired_cfg("beta-vae", pairing="laplace")
    with pytest.raises(ValueError, match=r"pair_rate must be > 0"):
        _paired_cfg("slow-vae", pair_rate=0.0)
    with pytest.raises(ValueError, match=r"pairs: k must be -1 \(random\) or between 1 and the number of factors"):
        train(_paired_cfg("ada-gvae", pair_k=5), progress=False, dataset=_grid())
    with pytest.raises(ValueError, match=r"SlowVAEOptions: rate_prior must be > 0; got 0"):
        TrainConfig.from_dict({"model": "slow-vae", "rate_prior": 0})
    flat = TrainConfig.from_dict({"model": "slow-vae", "rate_prior": 2})  # a later model's option, flat
    assert flat.rate_prior == 2.0 and flat.to_dict()["rate_prior"] == 2.0
    with pytest.raises(ValueError, match=r"beta-vae has no option 'rate_prior'"):
        TrainConfig.from_dict({"model": "beta-vae", "rate_prior": 2})


def test_chapter4_presets_follow_table_4_1():
    expected = {"dsprites-ch4": {"beta-vae": 8, "beta-tcvae": 6, "factor-vae": 35, "slow-vae": 1},
                "shapes3d": {"beta-vae": 32, "beta-tcvae": 32, "factor-vae": 7, "slow-vae": 1}}
    for preset, primary in expected.items():
        for model, value in primary.items():
            c = TrainConfig.preset(preset, scale="thesis", model=model)
            assert (c.gamma if model == "factor-vae" else c.beta) == value
            assert (c.init, c.architecture, c.lr, c.optimizer, c.steps) == ("glorot", "conv", 1e-4, "adam", 300_000)
            assert c.optimizer_options == {"betas": [0.9, 0.999], "eps": 1e-8}
            assert c.batch_size == (32 if model == "slow-vae" else 64)
        assert c.latent_dim == (5 if preset == "dsprites-ch4" else 6)
    q = TrainConfig.preset("shapes3d", model="ada-gvae")
    assert (q.dataset, q.latent_dim, q.lr, q.steps, q.resolved_pairing) == ("subgrid", 3, 5e-4, 1200, "dlib-k")


def test_chapter4_parameter_counts_spec_section_1():
    # encoder 306,634 / 308,172, decoder 380,033 / 381,315, discriminator 5,013,002 / 5,014,002
    for preset, shape, enc, dec, disc in (("dsprites-ch4", (1, 64, 64), 306_634, 380_033, 5_013_002),
                                          ("shapes3d", (3, 64, 64), 308_172, 381_315, 5_014_002)):
        m = make_model(TrainConfig.preset(preset, scale="thesis", model="factor-vae"), shape, "bernoulli")
        assert (n_parameters(m.encoder), n_parameters(m.decoder), n_parameters(m.discriminator)) == (enc, dec, disc)
        s = make_model(TrainConfig.preset(preset, scale="thesis", model="slow-vae"), shape, "bernoulli")
        assert (n_parameters(s.encoder), n_parameters(s.decoder)) == (enc, dec)
        assert all(torch.all(layer.bias == 0) for layer in s.modules() if isinstance(layer, torch.nn.Linear))
