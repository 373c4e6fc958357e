"""Dataset variants: wrappers that change observations per index and keep everything else.

:class:`TransformedDataset` is the general wrapper (a manipulation computed from the clean
observations and their indices: stored, generated or learned — room for the perturbed
datasets of thesis chapter 4); :func:`noisy` is the uniform-noise ablation of §4.3.3.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np

from vaecore._validation import check_float, check_int
from vaecore.datasets.base import GroundTruthDataset


class TransformedDataset(GroundTruthDataset):
    """A dataset whose observations are ``transform(base observations, indices)``.

    Factors, grid, split and length are the base dataset's. Subclasses implement
    :meth:`transform`; it must be deterministic per index so that every epoch, worker and
    machine sees the same data.
    """

    def __init__(self, base: GroundTruthDataset) -> None:
        if not isinstance(base, GroundTruthDataset):
            raise TypeError(f"{type(self).__name__}: base must be a GroundTruthDataset; got "
                            f"{type(base).__name__}")
        self.base = base
        self.name = base.name
        self.factor_names = base.factor_names
        self.factor_sizes = base.factor_sizes
        self.factor_kinds = base.factor_kinds
        self.factor_values = base.factor_values
        self.observation_shape = base.observation_shape
        self.is_image = base.is_image

    def __len__(self) -> int:
        return len(self.base)

    def __getattr__(self, item: str) -> Any:
        # grid helpers (factors_to_index, index_to_factors, strides, ...) of the base
        if item == "base":
            raise AttributeError(item)
        return getattr(self.base, item)

    @abstractmethod
    def transform(self, observations: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """Return the manipulated observations (float32, same shape) of ``indices``."""

    def sample_factors(self, n: int, rng: Any = None) -> np.ndarray:
        return self.base.sample_factors(n, rng)

    def factors_at(self, indices: Any) -> np.ndarray:
        return self.base.factors_at(indices)

    def observations_at(self, indices: Any) -> np.ndarray:
        idx = self._check_indices("observations_at", indices)
        return self.transform(self.base.observations_at(idx), idx)

    def observations(self, factors: Any, rng: Any = None) -> np.ndarray:
        """Observations of factors; for grid datasets keyed by the grid index (same noise as
        :meth:`observations_at`), otherwise by rows of the base's own ``observations``."""
        if hasattr(self.base, "factors_to_index"):
            return self.observations_at(self.base.factors_to_index(factors))
        obs = self.base.observations(factors, rng)
        return self.transform(obs, np.arange(len(obs), dtype=np.int64))


class NoisyDataset(TransformedDataset):
    """Uniform pixel noise in ``[-eps, eps]`` (thesis §4.3.3), deterministic per index.

    The noise of sample ``i`` is drawn from ``numpy.random.default_rng([seed, i])``
    (``uniform(-eps, eps, observation_shape)``), so it does not depend on batch
    composition, worker or machine. Noisy images are **clipped** to [0, 1]
    (``clip(x + noise, 0, 1)``): the noise of black/white pixels is one-sided, which keeps
    images valid Bernoulli means. Non-image datasets are not clipped.
    """

    def __init__(self, base: GroundTruthDataset, eps: float, seed: int = 0) -> None:
        super().__init__(base)
        self.eps = check_float("noisy", "eps", eps, minimum=0.0)
        if self.eps > 1e38:  # the noise is float32
            raise ValueError(f"noisy: eps must be <= 1e38 (observations are float32); got {eps!r}")
        self.seed = check_int("noisy", "seed", seed, minimum=0)

    def noise(self, indices: np.ndarray) -> np.ndarray:
        """The noise added to samples ``indices``, float32 ``(n, *observation_shape)``."""
        out = np.empty((len(indices), *self.observation_shape), np.float32)
        for k, i in enumerate(indices):
            rng = np.random.default_rng([self.seed, int(i)])
            out[k] = rng.uniform(-self.eps, self.eps, size=self.observation_shape)
        return out

    def transform(self, observations: np.ndarray, indices: np.ndarray) -> np.ndarray:
        x = observations.astype(np.float32, copy=True)
        x += self.noise(indices)
        if self.is_image:
            np.clip(x, 0.0, 1.0, out=x)
        return x


def noisy(ds: GroundTruthDataset, eps: float, seed: int = 0) -> NoisyDataset:
    """``ds`` with uniform pixel noise in ``[-eps, eps]`` (thesis §4.3.3; ε = 0.1 for
    dSprites, 0.175 for Shapes3D), clipped to [0, 1] for images; see :class:`NoisyDataset`."""
    return NoisyDataset(ds, eps, seed)


__all__ = ["NoisyDataset", "TransformedDataset", "noisy"]
