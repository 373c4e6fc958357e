"""The synthetic datasets of thesis §3.3.1: Synth. Lin. (R² -> R³) and Synth. Non-Lin. (R² -> R⁶).

Both embed the unit square ``V = [0, 1]²`` into a higher dimension; the two factors are the
continuous coordinates in ``V``. Everything random is drawn with
``numpy.random.default_rng`` (PCG64), which gives the same numbers on every platform, so
the same options give the same data on every machine.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np

from vaecore._validation import check_array, check_finite, check_float, check_int
from vaecore.datasets.base import GroundTruthDataset, as_rng


def rotation_matrix(axis: Any, angle: float) -> np.ndarray:
    """Rotation by ``angle`` (radians, right-handed) about ``axis`` (Rodrigues' formula)."""
    k = np.asarray(axis, dtype=np.float64)
    k = k / np.linalg.norm(k)
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + np.sin(angle) * kx + (1.0 - np.cos(angle)) * (kx @ kx)


class _Synthetic(GroundTruthDataset):
    """Shared parts: stored factors/observations, continuous factors in [0, 1]²."""

    factor_names = ("v1", "v2")
    factor_sizes = (None, None)
    factor_kinds = ("continuous", "continuous")
    factor_values = (None, None)
    is_image = False

    def __init__(self, n_samples: int, seed: int) -> None:
        func = f"load({self.name!r})"
        self.n_samples = check_int(func, "n_samples", n_samples, minimum=1)
        self.seed = check_int(func, "seed", seed, minimum=0)
        self._factors = np.random.default_rng(self.seed).uniform(0.0, 1.0, size=(self.n_samples, 2))
        self._obs = self.embed(self._factors)

    def __len__(self) -> int:
        return self.n_samples

    @abstractmethod
    def embed(self, factors: np.ndarray) -> np.ndarray:
        """Map factor values ``(n, 2)`` float64 to observations (float32)."""

    def sample_factors(self, n: int, rng: Any = None) -> np.ndarray:
        """Fresh draws from the factor distribution, uniform on [0, 1]², ``(n, 2)`` float64."""
        n = check_int(f"{self.name}.sample_factors", "n", n, minimum=0)
        return as_rng(f"{self.name}.sample_factors", rng).uniform(0.0, 1.0, size=(n, 2))

    def observations(self, factors: Any, rng: Any = None) -> np.ndarray:
        """The embedding of factor values ``(n, 2)`` -> float32 ``(n, *observation_shape)``."""
        f = check_array(f"{self.name}.observations", "factors", factors, ndim=(1, 2))
        if f.ndim == 1:
            f = f[None, :]
        if f.shape[1] != 2:
            raise ValueError(
                f"{self.name}.observations: factors must have 2 columns (v1, v2); "
                f"got shape {tuple(f.shape)}"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            out = self.embed(f)
        return check_finite(f"{self.name}.observations", "factors", out,
                            what="after the float32 embedding (overflow)")

    def factors_at(self, indices: Any) -> np.ndarray:
        return self._factors[self._check_indices("factors_at", indices)]

    def observations_at(self, indices: Any) -> np.ndarray:
        return self._obs[self._check_indices("observations_at", indices)]

    @property
    def data(self) -> np.ndarray:
        """All observations, float32 ``(n_samples, *observation_shape)`` (read-only view)."""
        v = self._obs.view()
        v.flags.writeable = False
        return v

    @property
    def factors(self) -> np.ndarray:
        """All factors, float64 ``(n_samples, 2)`` (read-only view)."""
        v = self._factors.view()
        v.flags.writeable = False
        return v


class SynthLin(_Synthetic):
    """Synth. Lin. (thesis §3.3.1): ``f_lin: R² -> R³``, linear.

    ``x = R · (ratio · v1, v2, 0)`` with ``v ~ U([0, 1]²)`` and ``R`` the rotation by 45°
    about the axis ``(1, -1, 1) / sqrt(3)`` (right-handed). The first factor is stretched
    by ``ratio`` (2 in the thesis; 1.0 / 1.2 / 1.5 for the degenerate study, Table 3.4).
    The data are **not centred**: the thesis maps the unit square itself; the models have
    biases, and centring would only shift the data by ``R · (ratio/2, 1/2, 0)``.

    Parameters
    ----------
    n_samples : int, default 50_000
    seed : int, default 0
        Seed of the factor draws.
    ratio : float, default 2.0
        Stretch of the first factor (> 0).
    """

    name = "synth-lin"
    observation_shape = (3,)
    AXIS = (1.0, -1.0, 1.0)
    ANGLE = np.pi / 4

    def __init__(self, n_samples: int = 50_000, seed: int = 0, ratio: float = 2.0) -> None:
        self.ratio = check_float("load('synth-lin')", "ratio", ratio, minimum=0.0, strict=True)
        if self.ratio > 1e38:  # the observations (up to ~ratio) are float32
            raise ValueError(f"load('synth-lin'): ratio must be <= 1e38 (observations are float32); got {ratio!r}")
        self.matrix = rotation_matrix(self.AXIS, self.ANGLE) @ np.array(
            [[self.ratio, 0.0], [0.0, 1.0], [0.0, 0.0]]
        )
        super().__init__(n_samples, seed)

    def embed(self, factors: np.ndarray) -> np.ndarray:
        """``x = M v`` with ``M = R_45°(1,-1,1) · [[ratio, 0], [0, 1], [0, 0]]``; float32."""
        return (factors @ self.matrix.T).astype(np.float32)


class SynthNonLin(_Synthetic):
    """Synth. Non-Lin. (thesis §3.3.1): a random MLP ``R² -> R¹⁰ (tanh) -> R⁶`` with biases.

    Weights and biases follow torch's default ``nn.Linear`` initialisation,
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, but are drawn with
    ``numpy.random.default_rng(mlp_seed)`` in the order ``W1 (10, 2), b1 (10,), W2 (6, 10),
    b2 (6,)`` (row-major), so they are identical on every machine:
    ``x = W2 · tanh(W1 v + b1) + b2``.

    Parameters
    ----------
    n_samples : int, default 50_000
    seed : int, default 0
        Seed of the factor draws.
    mlp_seed : int, default 0
        The dataset seed that fixes the MLP.
    """

    name = "synth-nonlin"
    observation_shape = (6,)
    HIDDEN = 10

    def __init__(self, n_samples: int = 50_000, seed: int = 0, mlp_seed: int = 0) -> None:
        self.mlp_seed = check_int("load('synth-nonlin')", "mlp_seed", mlp_seed, minimum=0)
        rng = np.random.default_rng(self.mlp_seed)
        b1 = 1.0 / np.sqrt(2.0)
        b2 = 1.0 / np.sqrt(self.HIDDEN)
        self.w1 = rng.uniform(-b1, b1, size=(self.HIDDEN, 2))
        self.b1 = rng.uniform(-b1, b1, size=(self.HIDDEN,))
        self.w2 = rng.uniform(-b2, b2, size=(6, self.HIDDEN))
        self.b2 = rng.uniform(-b2, b2, size=(6,))
        super().__init__(n_samples, seed)

    def embed(self, factors: np.ndarray) -> np.ndarray:
        """``x = W2 tanh(W1 v + b1) + b2`` in float64, returned as float32."""
        h = np.tanh(factors @ self.w1.T + self.b1)
        return (h @ self.w2.T + self.b2).astype(np.float32)
