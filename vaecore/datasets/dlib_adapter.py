"""A vaecore dataset seen through disentanglement_lib's ``GroundTruthData`` interface.

disentanglement_lib's metrics and scripts (``disentanglement_lib/data/ground_truth/
ground_truth_data.py``) call ``num_factors``, ``factors_num_values``, ``observation_shape``
(channels last), ``sample_factors(num, random_state)``, ``sample_observations_from_factors(
factors, random_state)``, ``sample(num, random_state)`` and ``sample_observations(num,
random_state)`` with a ``numpy.random.RandomState``. :class:`DlibGroundTruthData` answers exactly
those on top of any discrete :class:`~vaecore.datasets.GroundTruthDataset`, so dlib-style code runs
on vaecore's procedural renderers unchanged:

>>> from vaecore.datasets import load, as_dlib
>>> data = as_dlib(load("dsprites"))
>>> data.factors_num_values
[3, 6, 40, 32, 32]

Randomness: dlib passes a ``RandomState``; each call draws one 63-bit seed from it and runs
vaecore's sampler with ``numpy.random.default_rng(seed)``, so results are a deterministic function
of the caller's RandomState (not bit-identical to dlib's own datasets, whose samplers differ).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vaecore.datasets.base import GroundTruthDataset

__all__ = ["DlibGroundTruthData", "as_dlib"]


def _generator(random_state: Any) -> np.random.Generator:
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(0, 2**63 - 1, dtype=np.int64)))
    if isinstance(random_state, np.random.Generator):
        return random_state
    raise TypeError(
        "DlibGroundTruthData: random_state must be a numpy RandomState (disentanglement_lib's "
        f"convention) or Generator; got {type(random_state).__name__}"
    )


class DlibGroundTruthData:
    """disentanglement_lib's ``GroundTruthData`` interface over a discrete vaecore dataset.

    Parameters
    ----------
    dataset : GroundTruthDataset whose factors are all discrete (dlib's factors are class indices).

    Observations come out channels last, ``(num, H, W, C)`` float32 in [0, 1], as dlib expects.
    """

    def __init__(self, dataset: GroundTruthDataset) -> None:
        if not isinstance(dataset, GroundTruthDataset):
            raise TypeError(f"as_dlib: dataset must be a GroundTruthDataset; got {type(dataset).__name__}")
        if any(s is None for s in dataset.factor_sizes):
            raise ValueError(
                f"as_dlib: disentanglement_lib needs discrete factors; {dataset.name!r} has continuous "
                f"factors {[n for n, s in zip(dataset.factor_names, dataset.factor_sizes) if s is None]}"
            )
        self.dataset = dataset

    @property
    def num_factors(self) -> int:
        return self.dataset.n_factors

    @property
    def factors_num_values(self) -> list[int]:
        return [int(s) for s in self.dataset.factor_sizes]

    @property
    def observation_shape(self) -> list[int]:
        shape = list(self.dataset.observation_shape)
        return shape[1:] + shape[:1] if len(shape) == 3 else shape

    def _channels_last(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.moveaxis(x, 1, -1)) if x.ndim == 4 else x

    def sample_factors(self, num: int, random_state: Any) -> np.ndarray:
        """``num`` factor vectors (class indices), shape ``(num, num_factors)``."""
        return self.dataset.sample_factors(int(num), _generator(random_state))

    def sample_observations_from_factors(self, factors: Any, random_state: Any) -> np.ndarray:
        """Observations of ``factors``, channels last."""
        return self._channels_last(self.dataset.observations(np.asarray(factors), _generator(random_state)))

    def sample(self, num: int, random_state: Any) -> tuple[np.ndarray, np.ndarray]:
        """``(factors, observations)``, as dlib's ``GroundTruthData.sample``."""
        rng = _generator(random_state)
        factors = self.dataset.sample_factors(int(num), rng)
        return factors, self._channels_last(self.dataset.observations(factors, rng))

    def sample_observations(self, num: int, random_state: Any) -> np.ndarray:
        return self.sample(num, random_state)[1]


def as_dlib(dataset: GroundTruthDataset) -> DlibGroundTruthData:
    """Wrap ``dataset`` for disentanglement_lib-style code (see :class:`DlibGroundTruthData`)."""
    return DlibGroundTruthData(dataset)
