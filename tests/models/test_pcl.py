"""PCL (SPEC-ch4 §4, §10 check 5): options, no-decoder errors, the loss against a literal twin of
the reference arithmetic, the clamp of ``a``, and the toy nonlinear-ICA problem it must solve."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaecore import datasets
from vaecore.datasets.base import GroundTruthDataset
from vaecore.metrics.mcc import mean_corr_coef
from vaecore.models.pcl import PCL, PCLBatch, PCLOptions, _cyclic_permutation
from vaecore.reference.pcl import pcl_loss
from vaecore.training.paired_train import build_seeded, paired_sampler, train_pcl


def nonlinear_ica(n_sources, n_layers, T, seed, rho=0.7, slope=0.2):
    """Stationary AR(1) sources with Laplace innovations (unit variance) through ``n_layers``
    random orthogonal maps with leaky-ReLU between them (invertible)."""
    rng = np.random.default_rng(seed)
    e = rng.laplace(size=(T, n_sources)) / np.sqrt(2) * np.sqrt(1 - rho**2)
    s = np.zeros((T, n_sources))
    s[0] = rng.laplace(size=n_sources) / np.sqrt(2)
    for t in range(1, T):
        s[t] = rho * s[t - 1] + e[t]
    x = s.copy()
    for layer in range(n_layers):
        q, _ = np.linalg.qr(rng.standard_normal((n_sources, n_sources)))
        x = x @ q.T
        if layer < n_layers - 1:
            x = np.where(x > 0, x, slope * x)
    return s, x.astype(np.float32)


class TimeSeriesPairs:
    """The pair-sampler interface over a time series: (x_t, x_{t+1}) and uniform x*."""

    kind = "laplace"

    def __init__(self, x, seed):
        self.x = torch.from_numpy(x)
        self.rng = np.random.default_rng(seed)

    def batch(self, n, device=None):
        t = self.rng.integers(0, len(self.x) - 1, n)
        return self.x[t], self.x[t + 1], torch.ones(n, dtype=torch.int64)

    def sample_grid(self, n):
        return self.rng.integers(0, len(self.x), n)

    def render(self, idx, device=None):
        return self.x[idx]


def toy_run(n_sources, n_layers, steps, lr, hidden, seed=0):
    s, x = nonlinear_ica(n_sources, n_layers, 20000, seed)
    opts = PCLOptions(architecture="mlp", hidden=hidden)
    model = build_seeded(PCL, (n_sources,), n_sources, opts, seed=seed)
    before = mean_corr_coef(model.represent(x[:5000]), s[:5000]).value
    result = train_pcl(model, TimeSeriesPairs(x, seed + 1), steps=steps, lr=lr, seed=seed, log_every=50)
    after = mean_corr_coef(model.represent(x[:5000]), s[:5000]).value
    return before, after, result


def test_check5_toy_nonlinear_ica(torch_one_thread):
    """3 sources, 2-layer leaky mixing, 400 Adam steps (lr 3e-3): MCC > 0.7 and > untrained + 0.3."""
    before, after, result = toy_run(3, 2, 400, 3e-3, (32, 32))
    assert after > 0.7 and after > before + 0.3, (before, after)
    assert result.history[-1]["accuracy"] > 0.7
    assert result.history[-1]["loss"] < result.history[0]["loss"]


@pytest.mark.slow
def test_check5_spec_setting(torch_one_thread):
    """SPEC-ch4 §10 check 5 as written: 4 sources, ρ 0.7, 3-layer leaky mixing (3000 steps)."""
    before, after, _ = toy_run(4, 3, 3000, 1e-3, (64, 64))
    assert after > 0.7 and after > before + 0.3, (before, after)


def _randomised(model):
    with torch.no_grad():
        for p in (model.w1, model.w2, model.b, model.bn.weight, model.bn.bias):
            p.normal_()
        model.a.fill_(0.7)
        model.m.fill_(-0.3)
    return model.double()


def _twin(model, f1, f2, fs):
    npy = lambda t: t.detach().numpy()  # noqa: E731
    w = np.stack([npy(model.w1), npy(model.w2)], axis=1)[:, None, :]
    return pcl_loss(npy(f1), npy(f2), npy(fs), npy(model.bn.weight), npy(model.bn.bias), w,
                    npy(model.b), model.a.item(), model.m.item())


def test_loss_matches_reference_twin():
    torch.manual_seed(0)
    model = _randomised(PCL.build((7,), 3, PCLOptions(architecture="mlp", hidden=(16,))))
    x1, x2, xs = (torch.randn(9, 7, dtype=torch.float64) for _ in range(3))
    got = model.loss_terms(x1, x2, x_star=xs)
    ref, logits = _twin(model, model.features(x1), model.features(x2), model.features(xs))
    assert got["loss"].item() == pytest.approx(ref, abs=1e-12)
    assert got["accuracy"].item() == pytest.approx(np.mean(np.r_[logits[:9] > 0, logits[9:] <= 0]))
    # negatives="batch": x* = x1 of another pair through a random cycle (replayed here)
    model.options = PCLOptions(architecture="mlp", hidden=(16,), negatives="batch")
    got = model.loss_terms(x1, x2, torch.Generator().manual_seed(5))
    perm = _cyclic_permutation(9, torch.Generator().manual_seed(5), None)
    f1 = model.features(x1)
    ref, _ = _twin(model, f1, model.features(x2), f1[perm])
    assert got["loss"].item() == pytest.approx(ref, abs=1e-12)
    assert (perm != torch.arange(9)).all() and sorted(perm.tolist()) == list(range(9))


def test_init_clamp_and_representation():
    torch.manual_seed(0)
    model = PCL.build((1, 64, 64), 5)
    assert model.w1.tolist() == [1.0] * 5 and model.w2.tolist() == [-1.0] * 5
    assert model.b.tolist() == [0.0] * 5 and model.a.item() == 1.0 and model.m.item() == 0.0
    x = torch.rand(6, 1, 64, 64)
    h, zeros = model.encode(x)
    assert h.shape == (6, 5) and not zeros.any()
    assert model.represent(x.numpy()).shape == (6, 5)
    with torch.no_grad():
        model.a.fill_(-0.5)
    model.after_step()
    assert model.a.item() == 0.0


def test_no_decoder_errors():
    model = PCL.build((4,), 2, PCLOptions(architecture="mlp"))
    assert model.decoder is None and model.has_decoder is False
    for call in (lambda: model.decode(torch.zeros(1, 2)), lambda: model.likelihood,
                 lambda: model.require_decoder("DtO")):
        with pytest.raises(NotImplementedError, match="pcl has no decoder"):
            call()


def test_options_and_input_errors():
    with pytest.raises(ValueError, match="architecture must be one of"):
        PCLOptions(architecture="resnet")
    with pytest.raises(ValueError, match="bn_momentum"):
        PCLOptions(bn_momentum=0.0)
    with pytest.raises(ValueError, match="bn_momentum"):
        PCLOptions(bn_momentum=1.5)
    with pytest.raises(ValueError, match="hidden must be >= 1"):
        PCLOptions(hidden=(8, 0))
    with pytest.raises(ValueError, match="negatives must be one of"):
        PCLOptions(negatives="shuffle")
    with pytest.raises(ValueError, match="conv_kernels must have 4"):
        PCLOptions(conv_kernels=(4, 4))
    with pytest.raises(ValueError, match=r"\(C, 64, 64\)"):
        PCL.build((3, 32, 32), 4)
    model = PCL.build((4,), 2, PCLOptions(architecture="mlp"))
    with pytest.raises(ValueError, match="x_star must be given"):
        model.loss_terms(torch.zeros(4, 4), torch.zeros(4, 4))
    with pytest.raises(ValueError, match="same shape"):
        model.loss_terms(torch.zeros(4, 4), torch.zeros(3, 4))


class _NoFactors(GroundTruthDataset):
    name = "no-factors"

    def __len__(self):
        return 4

    def sample_factors(self, n, rng=None):
        return np.zeros((n, 0))

    def observations(self, factors, rng=None):
        return np.zeros((len(factors), 4), np.float32)

    def factors_at(self, indices):
        return np.zeros((len(indices), 0))

    def observations_at(self, indices):
        return np.zeros((len(indices), 4), np.float32)


def test_paired_model_needs_factor_grid():
    model = PCL.build((4,), 2, PCLOptions(architecture="mlp"))
    with pytest.raises(ValueError, match="ground-truth factors"):
        paired_sampler(model, _NoFactors())
    with pytest.raises(ValueError, match="discrete factors"):
        paired_sampler(model, datasets.load("synth-lin", n_samples=10))


def test_train_pcl_on_a_subgrid(torch_one_thread):
    """Two steps of the conv PCL on a Shapes3D sub-grid with grid negatives; seeded, finite."""
    ds = datasets.subgrid(datasets.load("shapes3d"), fixed={"floor_hue": 0, "scale": 4, "shape": 0,
                                                            "object_hue": 0})
    runs = []
    for _ in range(2):
        model = build_seeded(PCL, ds.observation_shape, ds.n_factors, seed=3)
        sampler = paired_sampler(model, ds, seed=4)
        result = train_pcl(model, sampler, steps=2, batch_size=8, seed=5, log_every=1)
        runs.append([h["loss"] for h in result.history])
        assert isinstance(model.draw(sampler, 2), PCLBatch)
    assert runs[0] == runs[1] and all(np.isfinite(runs[0]))
    with pytest.raises(ValueError, match="laplace"):
        train_pcl(model, datasets.pairs(ds, "share"), steps=1)


def test_dto_evaluator_says_pcl_has_no_decoder():
    from types import SimpleNamespace

    from vaecore.evaluation import EVALUATORS

    run = SimpleNamespace(model=PCL.build((4,), 2, PCLOptions(architecture="mlp")))
    with pytest.raises(NotImplementedError, match="not applicable: pcl has no decoder; DtO needs one"):
        EVALUATORS["dto"](run, seed=0)
