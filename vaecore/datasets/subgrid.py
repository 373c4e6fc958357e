"""A full-grid dataset restricted to some factors held fixed (SPEC-ch4 §8, the quick scale).

``subgrid(load("shapes3d"), fixed={"floor_hue": 0, "scale": 4, "shape": 0})`` is the grid of
the remaining factors (wall hue × object hue × orientation, 1,500 images): its factor names,
kinds, sizes and value grids are the free factors' own, in the base's order; its indices run
over the sub-grid (last free factor fastest) and map to the base's through
:meth:`Subgrid.base_indices`; sampling, the 80/10/10 split, torch adapters and paired sampling
(:func:`vaecore.datasets.pairs`) work on the sub-grid. The fixed factors are dropped from the
factor list (a model of the sub-grid has one latent per *free* factor, as SPEC-ch4 §8 uses).

Also registered: ``load("subgrid", base="shapes3d", fixed={...}, base_options={...})``, so
configs and ``vaecore datasets show`` reach it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from vaecore._validation import check_int
from vaecore.datasets.base import GridDataset, GroundTruthDataset

__all__ = ["Subgrid", "subgrid"]


def _resolve_base(func: str, base: Any, base_options: Any) -> GroundTruthDataset:
    if base_options is not None and not isinstance(base_options, Mapping):
        raise TypeError(f"{func}: base_options must be a mapping of dataset options; got "
                        f"{type(base_options).__name__}")
    if isinstance(base, str):
        from vaecore.datasets.registry import load

        if base == "subgrid":
            raise ValueError(f"{func}: base must be a dataset name other than 'subgrid' (pass a "
                             "Subgrid object to restrict one further); got 'subgrid'")
        return load(base, **dict(base_options or {}))
    if base_options:
        raise ValueError(f"{func}: base_options apply only when base is a dataset name; got a "
                         f"{type(base).__name__} object and base_options={dict(base_options)!r}")
    if not isinstance(base, GroundTruthDataset):
        raise TypeError(f"{func}: base must be a GroundTruthDataset or a dataset name; got "
                        f"{type(base).__name__}")
    return base


def _check_grid(func: str, base: GroundTruthDataset) -> None:
    if base.n_factors == 0:
        raise ValueError(f"{func}: base must have ground-truth factors; {base.name!r} has none")
    if any(s is None for s in base.factor_sizes):
        cont = [n for n, s in zip(base.factor_names, base.factor_sizes) if s is None]
        raise ValueError(f"{func}: base must have discrete factors only (a full factor grid); "
                         f"{base.name!r} has continuous factors {cont}")
    n_grid = int(np.prod(np.asarray(base.factor_sizes, dtype=np.int64)))
    if not hasattr(base, "factors_to_index") or len(base) != n_grid:
        raise ValueError(f"{func}: base must be a full factor grid with one observation per "
                         f"point (dsprites, shapes3d, or a variant or subgrid of one); "
                         f"{base.name!r} has {len(base)} observations for {n_grid} grid points")


class Subgrid(GridDataset):
    """The sub-grid of ``base`` where the factors in ``fixed`` take the given class indices.

    Parameters
    ----------
    base : GroundTruthDataset or str
        A full-grid dataset (``dsprites``, ``shapes3d``, a :func:`~vaecore.datasets.noisy` /
        perturbed variant of one, or another ``Subgrid``), or its registry name.
    fixed : mapping of str to int
        Factor name -> class index (``0 .. size-1``; e.g. Shapes3D ``scale: 4`` is the 5th of
        the 8 scales, ``shape: 0`` the cube). At least one factor must stay free.
    base_options : mapping, optional
        Options of ``load(base, ...)`` when ``base`` is a name.

    Raises
    ------
    ValueError
        An unknown factor name, a class index outside the factor's range (for a categorical
        factor: a category it does not have), every factor fixed, or a base without a full
        discrete factor grid.
    TypeError
        A fixed value that is not an int.
    """

    name = "subgrid"

    def __init__(self, base: Any, fixed: Mapping[str, int], base_options: Any = None) -> None:
        func = "subgrid"
        base = _resolve_base(func, base, base_options)
        _check_grid(func, base)
        if not isinstance(fixed, Mapping):
            raise TypeError(f"{func}: fixed must be a mapping factor name -> class index; got "
                            f"{type(fixed).__name__}")
        classes = np.full(base.n_factors, -1, dtype=np.int64)
        for key, value in fixed.items():
            if key not in base.factor_names:
                raise ValueError(f"{func}: fixed names unknown factor {key!r}; {base.name!r} has "
                                 f"factors {list(base.factor_names)}")
            j = base.factor_names.index(key)
            v = check_int(func, f"fixed[{key!r}]", value)
            size = int(base.factor_sizes[j])  # type: ignore[arg-type]
            if not 0 <= v < size:
                what = "category" if base.factor_kinds[j] == "categorical" else "class index"
                raise ValueError(f"{func}: fixed[{key!r}] must be a {what} of {base.name!r}'s "
                                 f"factor {key!r}, i.e. an int in [0, {size}); got {v}")
            classes[j] = v
        free = np.flatnonzero(classes < 0)
        if free.size == 0:
            raise ValueError(f"{func}: at least one factor must stay free; fixed names all of "
                             f"{list(base.factor_names)}")
        self.base = base
        self.fixed = {base.factor_names[j]: int(classes[j]) for j in np.flatnonzero(classes >= 0)}
        self.free = tuple(int(j) for j in free)
        self._template = classes
        self.factor_names = tuple(base.factor_names[j] for j in self.free)
        self.factor_sizes = tuple(base.factor_sizes[j] for j in self.free)
        self.factor_kinds = tuple(base.factor_kinds[j] for j in self.free)
        self.factor_values = tuple(base.factor_values[j] for j in self.free)
        self.observation_shape = tuple(base.observation_shape)
        self.is_image = base.is_image

    def base_factors(self, indices: Any) -> np.ndarray:
        """Base factor classes ``(n, base.n_factors)`` of sub-grid ``indices``."""
        sub = self.index_to_factors(indices)
        full = np.broadcast_to(self._template, (len(sub), len(self._template))).copy()
        full[:, list(self.free)] = sub
        return full

    def base_indices(self, indices: Any) -> np.ndarray:
        """Indices into ``base`` of sub-grid ``indices`` (int64, same order)."""
        return np.asarray(self.base.factors_to_index(self.base_factors(indices)), dtype=np.int64)

    def observations_at(self, indices: Any) -> np.ndarray:
        return self.base.observations_at(self.base_indices(indices))

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["base"] = self.base.name
        out["fixed"] = dict(self.fixed)
        return out

    def __repr__(self) -> str:
        return (f"Subgrid(base={self.base.name!r}, fixed={self.fixed}, n={len(self)}, "
                f"factors={list(self.factor_names)})")


def subgrid(ds: Any, fixed: Mapping[str, int], base_options: Any = None) -> Subgrid:
    """``ds`` restricted to the factors in ``fixed`` held at the given class indices; see
    :class:`Subgrid` (SPEC-ch4 §8: ``subgrid(shapes3d, fixed={floor_hue: 0, scale: 4,
    shape: 0})`` is the quick scale's 1,500-image wall hue × object hue × orientation grid)."""
    return Subgrid(ds, fixed, base_options)
