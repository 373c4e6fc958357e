"""Dataset variants: wrappers that change observations per index and keep everything else.

:class:`TransformedDataset` is the general wrapper (a manipulation computed from the clean
observations and their indices: stored, generated or learned — room for the perturbed
datasets of thesis chapter 4); :func:`noisy` is the uniform-noise ablation of §4.3.3.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np

from vaecore._validation import check_float, check_int, check_option
from vaecore.datasets.base import GroundTruthDataset

BOUNDARIES: tuple[str, ...] = ("clip", "reflect")


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
    composition, worker or machine. ``boundary`` says how noisy images are brought back
    into [0, 1] (non-image datasets are left as ``x + u``):

    * ``"clip"`` (default): ``clip(x + u, 0, 1)``; the noise of black/white pixels is
      one-sided (half of it is lost on binary images).
    * ``"reflect"`` (SPEC-ch4 §6.6, chapter 4's noise ablation): ``reflect(x + u)`` with
      ``reflect(y) = -y`` for ``y < 0``, ``2 - y`` for ``y > 1``, ``y`` otherwise, i.e.
      ``y - 2 relu(y - 1) + 2 relu(-y)``, the reflection of the perturbed datasets
      (thesis §4.2.3), so the noise keeps its magnitude on binary pixels. For ``x`` in
      [0, 1] and ``eps <= 1`` (required), ``x'`` lies in [0, 1] and ``|x' - x| <= eps``
      (up to float32 rounding, < 2e-7). Computed in float64, returned as float32.
    """

    def __init__(self, base: GroundTruthDataset, eps: float, seed: int = 0,
                 boundary: str = "clip") -> None:
        super().__init__(base)
        self.eps = check_float("noisy", "eps", eps, minimum=0.0)
        if self.eps > 1e38:  # the noise is float32
            raise ValueError(f"noisy: eps must be <= 1e38 (observations are float32); got {eps!r}")
        self.seed = check_int("noisy", "seed", seed, minimum=0)
        self.boundary = check_option("noisy", "boundary", boundary, BOUNDARIES)
        if self.boundary == "reflect":
            if not base.is_image:
                raise ValueError(f"noisy: boundary='reflect' reflects into the image range "
                                 f"[0, 1]; {base.name!r} is not an image dataset (use 'clip', "
                                 "which leaves non-images unbounded)")
            if self.eps > 1.0:
                raise ValueError(f"noisy: eps must be <= 1 with boundary='reflect' (one "
                                 f"reflection brings x + u back into [0, 1]); got {eps!r}")

    def noise(self, indices: np.ndarray) -> np.ndarray:
        """The noise added to samples ``indices``, float32 ``(n, *observation_shape)``."""
        out = np.empty((len(indices), *self.observation_shape), np.float32)
        for k, i in enumerate(indices):
            rng = np.random.default_rng([self.seed, int(i)])
            out[k] = rng.uniform(-self.eps, self.eps, size=self.observation_shape)
        return out

    def transform(self, observations: np.ndarray, indices: np.ndarray) -> np.ndarray:
        if self.boundary == "reflect":
            y = observations.astype(np.float64) + self.noise(indices)
            y = np.where(y < 0.0, -y, np.where(y > 1.0, 2.0 - y, y))
            return y.astype(np.float32)
        x = observations.astype(np.float32, copy=True)
        x += self.noise(indices)
        if self.is_image:
            np.clip(x, 0.0, 1.0, out=x)
        return x


def noisy(ds: GroundTruthDataset, eps: float, seed: int = 0,
          boundary: str = "clip") -> NoisyDataset:
    """``ds`` with uniform pixel noise in ``[-eps, eps]`` (thesis §4.3.3; ε = 0.1 for
    dSprites, 0.175 for Shapes3D), brought back into [0, 1] for images by ``boundary``:
    ``"clip"`` (default) or ``"reflect"`` (chapter 4's ablation, SPEC-ch4 §6.6); see
    :class:`NoisyDataset`."""
    return NoisyDataset(ds, eps, seed, boundary)


__all__ = ["NoisyDataset", "TransformedDataset", "noisy"]
