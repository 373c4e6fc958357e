"""The model registry: one mapping from model name to model class.

Every model class (a :class:`vaecore.models.LatentModel` subclass, one paper per file) declares

* ``names`` — the names it is registered under (e.g. ``("dip-vae-i", "dip-vae-ii")``);
* ``Options`` — a frozen dataclass of its own hyperparameters (:mod:`vaecore.models.options`:
  defaults, ranges checked when made, documentation in the field metadata);
* ``architectures`` — the architectures it may be built on (None: any);
* ``build(name, options, nets)`` — how it builds itself on :class:`~vaecore.models.networks.Networks`.

Adding a model: one new file with its class, and one line in :data:`MODELS` below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from vaecore.models.ada_gvae import AdaGVAE
from vaecore.models.ae import AE
from vaecore.models.base import LatentModel
from vaecore.models.beta_tcvae import BetaTCVAE
from vaecore.models.beta_vae import VAE, BetaVAE, LinearVAE
from vaecore.models.beta_vae_sigma import BetaVAESigma
from vaecore.models.dip_vae import DIPVAE
from vaecore.models.factor_vae import FactorVAE
from vaecore.models.networks import ARCHITECTURES, Networks, glorot_init
from vaecore.models.options import ModelOptions
from vaecore.models.pcl import PCL
from vaecore.models.slow_vae import SlowVAE
from vaecore.models.weak_gan import WeakGAN

__all__ = [
    "LEGACY_OPTION_KEYS",
    "MODELS",
    "MODEL_NAMES",
    "build",
    "check_architecture",
    "default_architecture",
    "make_options",
    "model_class",
    "option_names",
]


def _mapping(*classes: type[LatentModel]) -> dict[str, type[LatentModel]]:
    out: dict[str, type[LatentModel]] = {}
    for cls in classes:
        if not cls.names:
            raise TypeError(f"model registry: {cls.__name__} declares no names")
        for name in cls.names:
            if name in out:
                raise TypeError(f"model registry: {name!r} is registered twice ({out[name].__name__}, {cls.__name__})")
            out[name] = cls
    return out


#: model name → model class, in the order the CLI and the error messages list them
MODELS: Mapping[str, type[LatentModel]] = _mapping(
    AE,
    VAE,
    BetaVAE,
    BetaVAESigma,
    BetaTCVAE,
    FactorVAE,
    DIPVAE,
    LinearVAE,
    SlowVAE,
    PCL,
    AdaGVAE,
    WeakGAN,
)
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)

#: the model options that were flat ``TrainConfig`` keys before the registry; a config naming one
#: that its model does not have ignores it, as those configs always did
LEGACY_OPTION_KEYS: tuple[str, ...] = (
    "beta", "gamma", "lambda_od", "lambda_d", "discriminator_hidden", "discriminator_lr", "backend",
)


def model_class(name: str, *, where: str = "build_model") -> type[LatentModel]:
    """The class registered as ``name``; ``ValueError`` listing the names otherwise."""
    if not isinstance(name, str) or name not in MODELS:
        raise ValueError(f"{where}: model must be one of {MODEL_NAMES}; got {name!r}")
    return MODELS[name]


def option_names() -> tuple[str, ...]:
    """Every option name of every registered model (each once)."""
    return tuple(dict.fromkeys(n for cls in MODELS.values() for n in cls.Options.names()))


def check_architecture(name: str, architecture: str, *, where: str = "build_model") -> None:
    """The one place of the rule "model ``name`` runs on these architectures" (linear-vae: linear)."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"{where}: architecture must be one of {ARCHITECTURES}; got {architecture!r}")
    allowed = model_class(name, where=where).architectures
    if allowed is not None and architecture not in allowed:
        need = f"architecture {allowed[0]!r}" if len(allowed) == 1 else f"an architecture of {allowed}"
        raise ValueError(f"{where}: {name} needs {need}; got {architecture!r}")


def default_architecture(name: str, architecture: str) -> str:
    """``architecture`` if model ``name`` runs on it, else the model's first allowed one (presets)."""
    allowed = model_class(name, where="preset").architectures
    return architecture if allowed is None or architecture in allowed else allowed[0]


def make_options(
    name: str,
    options: ModelOptions | Mapping[str, Any] | None = None,
    *,
    legacy: Mapping[str, Any] | None = None,
) -> ModelOptions:
    """The validated options of model ``name``.

    ``options``: the model's own options (an instance of its ``Options`` or a dict of them;
    other keys raise). ``legacy``: flat keys of the old layout (:data:`LEGACY_OPTION_KEYS` and
    the model's option names); those the model has are applied (a conflict with ``options``
    raises), the legacy ones it lacks are ignored, None values mean "not given".
    """
    cls = model_class(name, where="model_options")
    if isinstance(options, ModelOptions):
        if type(options) is not cls.Options:
            raise ValueError(
                f"model_options: {type(options).__name__} are not the options of model {name!r} "
                f"({cls.Options.__name__})"
            )
        given = options.to_dict()
    else:
        given = dict(options or {})
    for key, value in (legacy or {}).items():
        if value is None or key not in cls.Options.names():
            if value is not None and key not in LEGACY_OPTION_KEYS:
                raise ValueError(f"model_options: {name} has no option {key!r}; its options are "
                                 f"{', '.join(cls.Options.names()) or '(none)'}")
            continue
        if key in given and given[key] != value and not isinstance(options, ModelOptions):
            raise ValueError(f"model_options: {key} given twice ({given[key]!r} and {value!r})")
        given[key] = value
    return cls.Options.from_dict(given, model=name)


def build(name: str, nets: Networks, options: ModelOptions | Mapping[str, Any] | None = None) -> LatentModel:
    """Build model ``name`` on ``nets`` with ``options`` (its defaults when None).

    Parameters are initialised from torch's global RNG (then re-drawn Glorot-uniform when
    ``nets.init == "glorot"``, except for models whose class sets ``initialises_itself``: the
    weak GAN, whose nets are Glorot-initialised before their spectral norm): wrap the call in ``torch.random.fork_rng`` + ``torch.manual_seed``
    for reproducibility, as :func:`vaecore.train` does.
    """
    cls = model_class(name)
    check_architecture(name, nets.architecture)
    model = cls.build(name, make_options(name, options), nets)
    model.name = name
    if nets.init == "glorot" and not getattr(cls, "initialises_itself", False):
        with torch.no_grad():
            glorot_init(model)
    return model
