"""Paired observations for chapter 4's weakly supervised models (SPEC-ch4 §2).

``pairs(ds, kind, rate=1.0, k=-1, indices=None, seed=0)`` returns a seeded, resumable
:class:`PairSampler` over a full factor grid (dSprites, Shapes3D, a :func:`subgrid` or a
variant of one). ``sampler.sample(n)`` draws ``n`` index pairs (:class:`PairIndices`);
``sampler.batch(n)`` also renders them into a :class:`PairBatch` of float32 tensors
``(x1, x2, label)``. The first index of a pair comes uniformly from ``indices`` (the training
split; the whole grid when ``None``), the second can be anywhere on the grid, as in the
sources. Everything is vectorised over the ``n`` pairs (the only Python loops run over
factors).

Kinds (the sources' distributions, exactly; c = the first image's factor classes, K = a
factor's number of values, n = the number of factors):

``"laplace"`` — SlowVAE / PCL natural transitions (bethgelab/slow_disentanglement
    ``scripts/dataset.py``, ``truncated_laplace``). Every non-categorical factor moves
    independently to v ∈ {0..K−1} with p(v) ∝ exp(−|v − c|/b), b = ln(K)/rate (cyclic factors
    are not wrapped); categorical factors (and factors with one value) never change; if no
    factor changed, one changeable factor, chosen uniformly, is redrawn from the same pmf
    with v = c excluded. Label: the number of factors that differ (≥ 1).
``"uniform-k"`` — SlowVAE's alternative (same file, ``prior='uniform'``): k = U{1..n−1}
    per pair when ``k=-1``; k distinct factors (categorical ones included) each move to a
    uniformly chosen *different* value. Needs every factor to have ≥ 2 values. Label: k.
``"dlib-k"`` — Ada-GVAE (google-research/disentanglement_lib
    ``methods/weak/train_weak_lib.py``, ``simple_dynamics``): k_obs = U{1..n−1} when
    ``k=-1``; m = 1 or k_obs with probability ½ each; m distinct factors are resampled
    uniformly (the old value is possible, so a pair can be identical: exactly P = .07479 on
    dSprites, .07581 on Shapes3D; SPEC-ch4 §2 prints .0749 / .0759). Label: one of the m
    resampled factors (the last drawn, dlib's ``return_index=True``).
``"share"`` / ``"change"`` — the weak GAN of Shu et al. 2020 (google-research
    ``weak_disentangle/datasets.py``, ``sample_match_factors``): i = U{0..n−1}; share: the
    second image keeps factor i of the first and draws every other factor afresh (uniform on
    the grid); change: only factor i is drawn afresh (possibly the same value). Label: i.

Randomness: one ``numpy.random.Generator`` (PCG64) seeded with ``seed``; its state, the
number of pairs drawn and the options form :meth:`PairSampler.state_dict` (plain ints and
strings, ``torch.load(weights_only=True)``-safe). A sampler restored with
:meth:`PairSampler.load_state_dict` continues bit for bit given the same sequence of
``sample(n)`` sizes (the draws of one call depend on its ``n``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from vaecore._validation import check_array, check_float, check_int, check_option
from vaecore.datasets import _pair_draws as draws
from vaecore.datasets.base import GroundTruthDataset

__all__ = ["LABEL_MEANING", "PAIR_KINDS", "PairBatch", "PairIndices", "PairSampler", "pairs"]

PAIR_KINDS: tuple[str, ...] = ("laplace", "uniform-k", "dlib-k", "share", "change")

LABEL_MEANING: dict[str, str] = {
    "laplace": "number of factors that differ between x1 and x2 (>= 1)",
    "uniform-k": "number of factors changed (each one differs)",
    "dlib-k": "index of one resampled factor (the last drawn; its value may be unchanged)",
    "share": "index of the only factor x2 keeps from x1 (all others drawn afresh)",
    "change": "index of the only factor drawn afresh (its value may be unchanged)",
}


@dataclass(frozen=True)
class PairIndices:
    """``n`` pairs as grid indices: ``idx1``, ``idx2``, ``label`` (int64 ``(n,)``) and the
    factor classes ``factors1``, ``factors2`` (int64 ``(n, n_factors)``).
    Unpacks as ``idx1, idx2, label = pairs``."""

    idx1: np.ndarray
    idx2: np.ndarray
    label: np.ndarray
    factors1: np.ndarray
    factors2: np.ndarray

    def __iter__(self) -> Any:
        return iter((self.idx1, self.idx2, self.label))

    def __len__(self) -> int:
        return int(self.idx1.shape[0])


@dataclass(frozen=True)
class PairBatch:
    """A rendered batch: ``x1``, ``x2`` float32 tensors ``(n, *observation_shape)``,
    ``label`` int64 tensor ``(n,)`` (meaning: :attr:`label_meaning`), ``kind`` and the
    index pairs behind it. Unpacks as ``x1, x2, label = batch``."""

    x1: Any
    x2: Any
    label: Any
    kind: str
    pairs: PairIndices

    def __iter__(self) -> Any:
        return iter((self.x1, self.x2, self.label))

    def __len__(self) -> int:
        return int(self.x1.shape[0])

    @property
    def label_meaning(self) -> str:
        return LABEL_MEANING[self.kind]

    def to(self, device: Any) -> PairBatch:
        """The same batch with its tensors on ``device``."""
        return replace(self, x1=self.x1.to(device), x2=self.x2.to(device),
                       label=self.label.to(device))


def _check_dataset(func: str, ds: Any) -> np.ndarray:
    if not isinstance(ds, GroundTruthDataset):
        raise TypeError(f"{func}: ds must be a GroundTruthDataset; got {type(ds).__name__}")
    if ds.n_factors == 0:
        raise ValueError(f"{func}: ds must have ground-truth factors to pair on; {ds.name!r} "
                         "has none")
    if any(s is None for s in ds.factor_sizes):
        cont = [n for n, s in zip(ds.factor_names, ds.factor_sizes) if s is None]
        raise ValueError(f"{func}: ds must have discrete factors (a full factor grid); "
                         f"{ds.name!r} has continuous factors {cont}")
    sizes = np.asarray(ds.factor_sizes, dtype=np.int64)
    if not hasattr(ds, "factors_to_index") or len(ds) != int(np.prod(sizes)):
        raise ValueError(f"{func}: ds must be a full factor grid with one observation per point "
                         f"(dsprites, shapes3d, a subgrid or variant of one); {ds.name!r} has "
                         f"{len(ds)} observations for {int(np.prod(sizes))} grid points")
    return sizes


class PairSampler:
    """Seeded, resumable sampler of paired grid indices; see the module docstring.

    Parameters
    ----------
    ds : GroundTruthDataset
        A full discrete factor grid (``factors_to_index`` / ``index_to_factors``).
    kind : str
        One of :data:`PAIR_KINDS`.
    rate : float
        ``laplace`` only (b = ln K / rate); must be > 0 for every kind.
    k : int
        ``uniform-k`` / ``dlib-k``: the number of factors changed, ``-1`` = U{1..n−1} per
        pair; otherwise ``1 <= k <= n_factors``. Ignored by the other kinds.
    indices : array of int, optional
        Grid indices the first image is drawn from (the training split); all when ``None``.
    seed : int
    """

    def __init__(self, ds: Any, kind: str, *, rate: float = 1.0, k: int = -1,
                 indices: Any = None, seed: int = 0) -> None:
        func = "pairs"
        self.sizes = _check_dataset(func, ds)
        self.kind = check_option(func, "kind", kind, PAIR_KINDS)
        self.rate = check_float(func, "rate", rate, minimum=0.0, strict=True)
        self.k = check_int(func, "k", k)
        self.seed = check_int(func, "seed", seed, minimum=0)
        nf = len(self.sizes)
        desc = f"{ds.name!r} has {nf} factors ({', '.join(ds.factor_names)})"
        if self.k != -1 and not 1 <= self.k <= nf:
            raise ValueError(f"{func}: k must be -1 (random) or between 1 and the number of "
                             f"factors; {desc}; got k={self.k}")
        if self.kind in ("uniform-k", "dlib-k") and self.k == -1 and nf < 2:
            raise ValueError(f"{func}: k=-1 draws k from U{{1..n-1}}, which needs >= 2 factors; "
                             f"{desc}; pass k=1")
        if self.kind == "uniform-k" and (self.sizes < 2).any():
            one = [n for n, s in zip(ds.factor_names, self.sizes) if s < 2]
            raise ValueError(f"{func}: kind 'uniform-k' changes factors to a different value; "
                             f"factors {one} of {ds.name!r} have one value (use subgrid)")
        self.changeable = np.flatnonzero(~np.asarray(ds.categorical) & (self.sizes >= 2))
        if self.kind == "laplace":
            if self.changeable.size == 0:
                raise ValueError(f"{func}: kind 'laplace' changes only non-categorical factors "
                                 f"with >= 2 values; {desc} and none qualifies")
            self.tables = draws.laplace_tables(self.sizes[self.changeable], self.rate)
        self.ds = ds
        self.n_grid = int(np.prod(self.sizes))
        if indices is None:
            self.indices: np.ndarray | None = None
        else:
            idx = check_array(func, "indices", indices, ndim=1, dtype=np.int64, integer=True,
                              min_rows=1)
            if idx.min() < 0 or idx.max() >= self.n_grid:
                raise ValueError(f"{func}: indices must be in [0, {self.n_grid}); got "
                                 f"{int(idx[(idx < 0) | (idx >= self.n_grid)][0])}")
            self.indices = idx
        self.rng = np.random.default_rng(self.seed)
        self.n_drawn = 0

    @property
    def label_meaning(self) -> str:
        return LABEL_MEANING[self.kind]

    def sample(self, n: int) -> PairIndices:
        """Draw ``n`` pairs of grid indices (advances the sampler's state)."""
        n = check_int("PairSampler.sample", "n", n, minimum=0)
        rng = self.rng
        if self.indices is None:
            idx1 = rng.integers(0, self.n_grid, size=n, dtype=np.int64)
        else:
            idx1 = self.indices[rng.integers(0, len(self.indices), size=n)]
        f1 = np.asarray(self.ds.index_to_factors(idx1), dtype=np.int64)
        if self.kind == "laplace":
            f2, label = draws.laplace(f1, self.changeable, self.tables, rng)
        elif self.kind == "uniform-k":
            f2, label = draws.uniform_k(f1, self.sizes, self.k, rng)
        elif self.kind == "dlib-k":
            f2, label = draws.dlib_k(f1, self.sizes, self.k, rng)
        else:
            f2, label = draws.match(f1, self.sizes, self.kind == "share", rng)
        idx2 = np.asarray(self.ds.factors_to_index(f2), dtype=np.int64)
        self.n_drawn += n
        return PairIndices(idx1, idx2, label.astype(np.int64), f1, f2)

    def sample_grid(self, n: int) -> np.ndarray:
        """``n`` indices uniform on the whole grid from the sampler's own generator (PCL's
        negatives x*, SPEC-ch4 §4), so they are part of the checkpointed state too."""
        n = check_int("PairSampler.sample_grid", "n", n, minimum=0)
        return self.rng.integers(0, self.n_grid, size=n, dtype=np.int64)

    def render(self, indices: Any, device: Any = None) -> Any:
        """Observations of grid ``indices`` as one float32 tensor ``(n, *observation_shape)``."""
        import torch

        obs = self.ds.observations_at(indices)
        x = torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32))
        return x if device is None else x.to(device)

    def batch(self, n: int, device: Any = None) -> PairBatch:
        """Draw ``n`` pairs and render them with one ``observations_at`` call on both images'
        indices (file-backed datasets sort and deduplicate their reads themselves)."""
        import torch

        p = self.sample(n)
        x = self.render(np.concatenate([p.idx1, p.idx2]), device)
        label = torch.from_numpy(p.label)
        if device is not None:
            label = label.to(device)
        return PairBatch(x[:n], x[n:], label, self.kind, p)

    def state_dict(self) -> dict[str, Any]:
        """The sampler's state: options, pairs drawn and the PCG64 state (ints as strings)."""
        st = self.rng.bit_generator.state
        return {
            "kind": self.kind, "rate": self.rate, "k": self.k, "seed": self.seed,
            "n_grid": self.n_grid,
            "n_indices": -1 if self.indices is None else int(len(self.indices)),
            "indices_sum": -1 if self.indices is None else int(self.indices.sum()),
            "n_drawn": self.n_drawn,
            "pcg64_state": str(st["state"]["state"]), "pcg64_inc": str(st["state"]["inc"]),
            "has_uint32": int(st["has_uint32"]), "uinteger": int(st["uinteger"]),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`; refuses one made with other options or data."""
        if not isinstance(state, dict):
            raise TypeError(f"PairSampler.load_state_dict: state must be a dict; got "
                            f"{type(state).__name__}")
        mine = self.state_dict()
        missing = [key for key in mine if key not in state]
        if missing:
            raise ValueError(f"PairSampler.load_state_dict: state lacks {missing}")
        for key in ("kind", "rate", "k", "seed", "n_grid", "n_indices", "indices_sum"):
            if state[key] != mine[key]:
                raise ValueError(f"PairSampler.load_state_dict: the state was made with "
                                 f"{key}={state[key]!r}; this sampler has {key}={mine[key]!r}")
        self.rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int(state["pcg64_state"]), "inc": int(state["pcg64_inc"])},
            "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"]),
        }
        self.n_drawn = int(state["n_drawn"])

    def __repr__(self) -> str:
        return (f"PairSampler(ds={self.ds.name!r}, kind={self.kind!r}, rate={self.rate}, "
                f"k={self.k}, seed={self.seed}, n_drawn={self.n_drawn})")


def pairs(ds: Any, kind: str, *, rate: float = 1.0, k: int = -1, indices: Any = None,
          seed: int = 0) -> PairSampler:
    """A :class:`PairSampler` of ``kind`` over ``ds`` (SPEC-ch4 §2); see the module docstring.

    Raises ``ValueError`` for a dataset without a full discrete factor grid (no factors,
    continuous factors, several observations per point), an unknown ``kind``, ``rate <= 0``,
    ``k`` outside ``-1`` or ``1..n_factors``, and ``laplace`` on a dataset whose factors are
    all categorical."""
    return PairSampler(ds, kind, rate=rate, k=k, indices=indices, seed=seed)
