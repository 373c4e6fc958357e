"""Paired data (SPEC-ch4 §2, §10 check 2): each kind's distribution against its exact pmf
(χ² with a fixed seed), the exact probabilities of identical pairs, determinism, bit-exact
resume, rendering, bad input.

The exact pmfs here are written independently of vaecore's sampler: the Laplace transition
with ``scipy.stats.laplace.pdf`` as in slow_disentanglement's ``truncated_laplace``, the
others by enumerating factor subsets.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
import torch
from scipy import stats

from vaecore import datasets
from vaecore.datasets import pairs
from vaecore.datasets.pairs import LABEL_MEANING, PAIR_KINDS

N = 100_000
P_MIN = 1e-3


@pytest.fixture(scope="module")
def dsprites():
    return datasets.load("dsprites")


@pytest.fixture(scope="module")
def shapes3d():
    return datasets.load("shapes3d")


def chi2_p(observed: np.ndarray, probs: np.ndarray) -> float:
    """χ² p-value of counts against probabilities; bins expecting < 5 are pooled."""
    observed = np.asarray(observed, np.float64)
    expected = np.asarray(probs, np.float64) * observed.sum()
    assert abs(expected.sum() - observed.sum()) < 1e-6 * observed.sum()
    small = expected < 5
    obs = np.append(observed[~small], observed[small].sum())
    exp = np.append(expected[~small], expected[small].sum())
    if exp[-1] == 0:
        assert obs[-1] == 0
        obs, exp = obs[:-1], exp[:-1]
    return float(stats.chisquare(obs, exp).pvalue)


def scipy_laplace(size: int, rate: float = 1.0) -> np.ndarray:
    x = np.arange(size)
    rows = []
    for c in range(size):
        p = stats.laplace.pdf(x, loc=c, scale=np.log(size) / rate)
        rows.append(p / p.sum())
    return np.array(rows)


def poisson_binomial(q: list[float]) -> np.ndarray:
    out = np.array([1.0])
    for qi in q:
        out = np.convolve(out, [1 - qi, qi])
    return out


# ------------------------------------------------------------------ laplace

def laplace_delta_pmf(ds, j: int, rate: float = 1.0) -> np.ndarray:
    """Exact P(Δ = v − c) of changeable factor j, Δ ∈ −(K−1)..K−1, first image uniform."""
    free = [i for i in range(ds.n_factors) if not ds.categorical[i]]
    tables = {i: scipy_laplace(ds.factor_sizes[i], rate) for i in free}
    stay = {i: float(np.mean(np.diag(tables[i]))) for i in free}
    others = np.prod([stay[i] for i in free if i != j])
    p = tables[j]
    size = len(p)
    out = np.zeros(2 * size - 1)
    for c in range(size):
        a = p[c, c] * others / len(free)  # P(nothing moved) · P(j is redrawn) given c_j = c
        for v in range(size):
            mass = p[c, v] + (a * p[c, v] / (1 - p[c, c]) if v != c else -a)
            out[v - c + size - 1] += mass / size
    return out


def laplace_count_pmf(ds, rate: float = 1.0) -> np.ndarray:
    """Exact P(number of differing factors = L), L = 0..n (L = 0 moved to 1 by the redraw)."""
    free = [i for i in range(ds.n_factors) if not ds.categorical[i]]
    moved = [1 - float(np.mean(np.diag(scipy_laplace(ds.factor_sizes[i], rate)))) for i in free]
    pb = poisson_binomial(moved)
    pb[1] += pb[0]
    pb[0] = 0.0
    return np.concatenate([pb, np.zeros(ds.n_factors + 1 - len(pb))])


SPEC_STAY = {
    "dsprites": {"scale": .380, "orientation": .152, "posX": .164, "posY": .164},
    "shapes3d": {"floor_hue": .280, "wall_hue": .280, "object_hue": .280, "scale": .318,
                 "orientation": .227},
}


@pytest.mark.parametrize("name", ["dsprites", "shapes3d"])
def test_laplace_matches_exact_pmf(name, request):
    ds = request.getfixturevalue(name)
    p = pairs(ds, "laplace", seed=11).sample(N)
    delta = p.factors2 - p.factors1
    changed = delta != 0
    for j, fname in enumerate(ds.factor_names):
        if ds.categorical[j]:
            assert not changed[:, j].any()  # categorical factors never change
            continue
        size = ds.factor_sizes[j]
        probs = laplace_delta_pmf(ds, j)
        counts = np.bincount(delta[:, j] + size - 1, minlength=2 * size - 1)
        assert chi2_p(counts, probs) > P_MIN, fname
        stay = probs[size - 1]
        assert abs(stay - SPEC_STAY[name][fname]) < 0.01  # the exact value vs SPEC-ch4 §2
        assert abs(np.mean(~changed[:, j]) - SPEC_STAY[name][fname]) < 0.01
    assert changed.any(axis=1).all()  # at least one change, always
    np.testing.assert_array_equal(p.label, changed.sum(axis=1))
    counts = np.bincount(p.label, minlength=ds.n_factors + 1)
    assert chi2_p(counts, laplace_count_pmf(ds)) > P_MIN


def test_laplace_rate_sharpens(dsprites):
    # rate 3: b = ln K / 3; the exact Δ pmf still holds and factors stay more often
    p = pairs(dsprites, "laplace", rate=3.0, seed=2).sample(20_000)
    delta = p.factors2 - p.factors1
    j = dsprites.factor_names.index("posX")
    probs = laplace_delta_pmf(dsprites, j, rate=3.0)
    counts = np.bincount(delta[:, j] + 31, minlength=63)
    assert chi2_p(counts, probs) > P_MIN
    assert probs[31] > 0.4 > 0.164


def test_laplace_first_image_from_indices(dsprites):
    train, _, _ = dsprites.split(seed=0)
    p = pairs(dsprites, "laplace", indices=train[:100], seed=0).sample(5_000)
    assert np.isin(p.idx1, train[:100]).all()
    assert not np.isin(p.idx2, train[:100]).all()  # the second image anywhere on the grid
    np.testing.assert_array_equal(dsprites.index_to_factors(p.idx2), p.factors2)


# ------------------------------------------------------------------ uniform-k

@pytest.mark.parametrize("name", ["dsprites", "shapes3d"])
def test_uniform_k_random_k(name, request):
    ds = request.getfixturevalue(name)
    n = ds.n_factors
    p = pairs(ds, "uniform-k", seed=5).sample(N)
    changed = p.factors2 != p.factors1
    np.testing.assert_array_equal(changed.sum(axis=1), p.label)  # k factors, each different
    k_probs = np.r_[0.0, np.full(n - 1, 1 / (n - 1)), 0.0]
    assert chi2_p(np.bincount(p.label, minlength=n + 1), k_probs) > P_MIN
    for j, size in enumerate(ds.factor_sizes):
        assert stats.binomtest(int(changed[:, j].sum()), N, 0.5).pvalue > P_MIN
        step = (p.factors2[changed[:, j], j] - p.factors1[changed[:, j], j]) % size
        counts = np.bincount(step, minlength=size)
        assert counts[0] == 0
        assert chi2_p(counts[1:], np.full(size - 1, 1 / (size - 1))) > P_MIN


def test_uniform_k_fixed_k(shapes3d):
    p = pairs(shapes3d, "uniform-k", k=2, seed=1).sample(10_000)
    assert ((p.factors2 != p.factors1).sum(axis=1) == 2).all() and (p.label == 2).all()


# ------------------------------------------------------------------ dlib-k

def dlib_exact(sizes: tuple[int, ...]) -> tuple[float, np.ndarray]:
    """P(identical pair) and P(number of differing factors = L) of dlib's simple_dynamics."""
    n = len(sizes)
    p_m = np.zeros(n + 1)
    for k_obs in range(1, n):
        p_m[1] += 0.5 / (n - 1)
        p_m[k_obs] += 0.5 / (n - 1)
    counts = np.zeros(n + 1)
    for m in range(1, n + 1):
        subsets = list(itertools.combinations(range(n), m))
        for s in subsets:
            pb = poisson_binomial([1 - 1 / sizes[i] for i in s])
            counts[: len(pb)] += p_m[m] * pb / len(subsets)
    return float(counts[0]), counts


@pytest.mark.parametrize("name, spec_identical", [("dsprites", .0749), ("shapes3d", .0759)])
def test_dlib_k_exact(name, spec_identical, request):
    ds = request.getfixturevalue(name)
    identical, count_probs = dlib_exact(ds.factor_sizes)
    # exact: .07479 dSprites / .07581 Shapes3D (SPEC-ch4 §2 prints .0749 / .0759)
    assert abs(identical - spec_identical) < 2e-4
    p = pairs(ds, "dlib-k", seed=9).sample(N)
    differ = (p.factors2 != p.factors1).sum(axis=1)
    assert stats.binomtest(int((differ == 0).sum()), N, identical).pvalue > P_MIN
    assert abs(np.mean(differ == 0) - spec_identical) < 0.004
    assert chi2_p(np.bincount(differ, minlength=ds.n_factors + 1), count_probs) > P_MIN
    # the label is a resampled factor: every differing factor is the label or one more
    # resampled with it; when exactly one factor differs and m = 1 was drawn it is the label
    assert chi2_p(np.bincount(p.label, minlength=ds.n_factors),
                  np.full(ds.n_factors, 1 / ds.n_factors)) > P_MIN


def test_dlib_k_fixed_k_one_changes_at_most_label(dsprites):
    p = pairs(dsprites, "dlib-k", k=1, seed=4).sample(20_000)
    differ = p.factors2 != p.factors1
    assert differ.sum(axis=1).max() == 1
    rows = np.flatnonzero(differ.any(axis=1))
    np.testing.assert_array_equal(np.argmax(differ[rows], axis=1), p.label[rows])
    expected = float(np.mean([1 / s for s in dsprites.factor_sizes]))  # P(identical), m = 1
    assert stats.binomtest(int((~differ.any(axis=1)).sum()), 20_000, expected).pvalue > P_MIN


# ------------------------------------------------------------------ share / change

@pytest.mark.parametrize("kind", ["share", "change"])
def test_share_change(kind, shapes3d):
    ds = shapes3d
    sizes = np.asarray(ds.factor_sizes)
    p = pairs(ds, kind, seed=3).sample(N)
    rows = np.arange(N)
    assert chi2_p(np.bincount(p.label, minlength=6), np.full(6, 1 / 6)) > P_MIN
    same = p.factors2 == p.factors1
    if kind == "share":
        assert same[rows, p.label].all()  # factor i kept; the n − 1 others are free
        free = np.ones_like(same)
        free[rows, p.label] = False
        identical = np.mean([np.prod(1 / np.delete(sizes, i)) for i in range(6)])
    else:
        free = np.zeros_like(same)
        free[rows, p.label] = True
        assert same[~free].all()  # only factor i is free
        identical = np.mean(1 / sizes)
    for j, size in enumerate(sizes):  # a free factor is uniform, whatever x1's value
        vals = p.factors2[free[:, j], j]
        assert chi2_p(np.bincount(vals, minlength=size), np.full(size, 1 / size)) > P_MIN
        hits = int(same[free[:, j], j].sum())
        assert stats.binomtest(hits, int(free[:, j].sum()), 1 / size).pvalue > P_MIN
    n_identical = int(same.all(axis=1).sum())
    assert stats.binomtest(n_identical, N, identical).pvalue > P_MIN


# ------------------------------------------------------------------ determinism, resume

@pytest.mark.parametrize("kind", PAIR_KINDS)
def test_same_seed_same_pairs_and_resume(kind, dsprites):
    a = pairs(dsprites, kind, seed=7)
    b = pairs(dsprites, kind, seed=7)
    first = [a.sample(64) for _ in range(3)]
    for x, y in zip(first, [b.sample(64) for _ in range(3)]):
        for u, v in zip(x, y):
            np.testing.assert_array_equal(u, v)
    other = pairs(dsprites, kind, seed=8).sample(64)
    assert not np.array_equal(other.idx1, first[0].idx1)
    # checkpoint mid-run through torch.save / torch.load(weights_only=True), resume
    buf = io.BytesIO()
    torch.save({"sampler": a.state_dict()}, buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)["sampler"]
    cont = [a.sample(64) for _ in range(3)]
    resumed = pairs(dsprites, kind, seed=7)
    resumed.load_state_dict(state)
    assert resumed.n_drawn == 192
    for x, y in zip(cont, [resumed.sample(64) for _ in range(3)]):
        for u, v in zip((x.idx1, x.idx2, x.label, x.factors2), (y.idx1, y.idx2, y.label,
                                                                 y.factors2)):
            np.testing.assert_array_equal(u, v)


def test_resume_refuses_other_options(dsprites):
    state = pairs(dsprites, "laplace", seed=1).state_dict()
    with pytest.raises(ValueError, match="made with kind='laplace'.*kind='dlib-k'"):
        pairs(dsprites, "dlib-k", seed=1).load_state_dict(state)
    with pytest.raises(ValueError, match="made with seed=1"):
        pairs(dsprites, "laplace", seed=2).load_state_dict(state)
    with pytest.raises(ValueError, match="n_indices"):
        pairs(dsprites, "laplace", seed=1, indices=[1, 2, 3]).load_state_dict(state)
    with pytest.raises(ValueError, match="lacks"):
        pairs(dsprites, "laplace", seed=1).load_state_dict({"kind": "laplace"})


# ------------------------------------------------------------------ batches

def test_batch_renders_pairs(dsprites):
    s = pairs(dsprites, "laplace", seed=0)
    batch = s.batch(16)
    x1, x2, label = batch
    assert x1.shape == (16, 1, 64, 64) and x1.dtype == torch.float32
    assert label.dtype == torch.int64 and label.shape == (16,)
    np.testing.assert_array_equal(x1.numpy(), dsprites.observations_at(batch.pairs.idx1))
    np.testing.assert_array_equal(x2.numpy(), dsprites.observations_at(batch.pairs.idx2))
    assert batch.label_meaning == LABEL_MEANING["laplace"]
    assert batch.to("cpu").x1 is not None and len(batch) == 16


def test_batch_on_subgrid_and_noisy():
    base = datasets.load("shapes3d")
    sg = datasets.subgrid(base, fixed={"floor_hue": 0, "scale": 4, "shape": 0})
    batch = pairs(datasets.noisy(sg, 0.1, boundary="reflect"), "dlib-k", seed=0).batch(8)
    assert batch.x1.shape == (8, 3, 64, 64)
    assert float(batch.x1.min()) >= 0.0 and float(batch.x1.max()) <= 1.0
    p = pairs(sg, "laplace", seed=0).sample(2_000)
    assert p.factors1.shape == (2_000, 3) and (p.idx2 < 1500).all()


# ------------------------------------------------------------------ bad input

def test_bad_input(dsprites, tmp_path):
    with pytest.raises(ValueError, match="rate must be > 0"):
        pairs(dsprites, "laplace", rate=0.0)
    with pytest.raises(ValueError, match="rate must be > 0"):
        pairs(dsprites, "laplace", rate=-1)
    with pytest.raises(ValueError, match="k must be -1 .* 5 factors .*got k=6"):
        pairs(dsprites, "dlib-k", k=6)
    with pytest.raises(ValueError, match="k must be"):
        pairs(dsprites, "uniform-k", k=0)
    with pytest.raises(ValueError, match="kind must be one of"):
        pairs(dsprites, "gaussian")
    with pytest.raises(ValueError, match="continuous factors"):
        pairs(datasets.load("synth-lin", n_samples=100), "laplace")
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    with pytest.raises(ValueError, match="must have ground-truth factors.*has none"):
        pairs(datasets.load("image-folder", path=str(tmp_path)), "share")
    with pytest.raises(TypeError, match="ds must be a GroundTruthDataset"):
        pairs(np.zeros((3, 4)), "share")
    with pytest.raises(ValueError, match="indices must be in"):
        pairs(dsprites, "share", indices=[0, 737_280])
    one = datasets.subgrid(dsprites, fixed={"scale": 0, "orientation": 0, "posX": 0, "posY": 0})
    with pytest.raises(ValueError, match="'laplace' changes only non-categorical"):
        pairs(one, "laplace")  # only the categorical shape is free
    with pytest.raises(ValueError, match="needs >= 2 factors"):
        pairs(one, "dlib-k")
    assert (pairs(one, "change", seed=0).sample(10).label == 0).all()


def test_grid_negatives_share_the_checkpointed_generator(dsprites):
    a, b = pairs(dsprites, "laplace", seed=3), pairs(dsprites, "laplace", seed=3)
    a.sample(8)
    neg = a.sample_grid(1000)
    assert neg.min() >= 0 and neg.max() < len(dsprites) and len(np.unique(neg)) > 990
    b.sample(8)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.sample_grid(16), b.sample_grid(16))
    np.testing.assert_array_equal(a.render(neg[:4]).numpy(), dsprites.observations_at(neg[:4]))
