"""Dataset names -> constructors: ``vaecore.datasets.load(name, **options)``."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from vaecore.datasets.base import GroundTruthDataset

# name -> (module, class, defaults shown by `vaecore datasets list`)
_REGISTRY: dict[str, tuple[str, str]] = {
    "dsprites": ("vaecore.datasets.dsprites", "DSprites"),
    "shapes3d": ("vaecore.datasets.shapes3d", "Shapes3D"),
    "synth-lin": ("vaecore.datasets.synthetic", "SynthLin"),
    "synth-nonlin": ("vaecore.datasets.synthetic", "SynthNonLin"),
    "mnist": ("vaecore.datasets.mnist", "MNIST"),
    "fashion-mnist": ("vaecore.datasets.mnist", "FashionMNIST"),
    "image-folder": ("vaecore.datasets.image_folder", "ImageFolder"),
    "subgrid": ("vaecore.datasets.subgrid", "Subgrid"),
    "perturbed": ("vaecore.datasets.perturbed", "PerturbedDataset"),
}

NAMES: tuple[str, ...] = tuple(_REGISTRY)


def dataset_class(name: str) -> type[GroundTruthDataset]:
    """The class registered under ``name``."""
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"load: name must be one of {NAMES}; got {name!r}")
    module, cls = _REGISTRY[name]
    return getattr(importlib.import_module(module), cls)


def dataset_options(name: str) -> dict[str, Any]:
    """The options of dataset ``name`` with their defaults (``inspect.Parameter.empty`` = required)."""
    sig = inspect.signature(dataset_class(name).__init__)
    return {
        p.name: (None if p.default is inspect.Parameter.empty else p.default)
        for p in list(sig.parameters.values())[1:]
    }


def load(name: str, **options: Any) -> GroundTruthDataset:
    """Create dataset ``name`` with ``options``.

    Parameters
    ----------
    name : str
        One of ``"dsprites", "shapes3d", "synth-lin", "synth-nonlin", "mnist",
        "fashion-mnist", "image-folder", "subgrid"``.
    **options
        Dataset options: synthetic ``n_samples=50_000, seed=0`` (+ ``ratio=2.0`` for
        synth-lin, ``mlp_seed=0`` for synth-nonlin); dsprites/shapes3d ``path=None``
        (None = procedural); mnist/fashion-mnist ``path`` (required), ``part="all"``;
        image-folder ``path``; subgrid ``base`` (a name), ``fixed`` (factor -> class
        index), ``base_options``.

    Raises
    ------
    ValueError
        Unknown name (the valid ones are listed) or unknown option (the valid ones are
        listed).
    """
    cls = dataset_class(name)
    sig = inspect.signature(cls.__init__)
    valid = [p for p in list(sig.parameters)[1:]]
    for key in options:
        if key not in valid:
            raise ValueError(f"load({name!r}): unknown option {key!r}; valid options are {valid}")
    return cls(**options)
