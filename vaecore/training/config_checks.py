"""Validation of a ``TrainConfig``'s shared settings (the model's options validate themselves,
:mod:`vaecore.models.options`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vaecore._validation import check_float, check_int, check_option
from vaecore.models import ACTIVATIONS, INITS, registry
from vaecore.models.base import LIKELIHOODS

__all__ = ["DEVICES", "OPTIMIZERS", "TUPLE_FIELDS", "check_config"]

OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "adagrad", "sgd", "rmsprop")
DEVICES: tuple[str, ...] = ("cpu", "cuda", "auto")
TUPLE_FIELDS = ("encoder_hidden", "decoder_hidden", "conv_kernels", "deconv_kernels")


def check_config(config: Any) -> None:
    """Raise ``ValueError``/``TypeError`` naming the first bad setting of a ``TrainConfig``."""
    f = "TrainConfig"
    if not isinstance(config.dataset, str) or not config.dataset:
        raise ValueError(f"{f}: dataset must be a dataset name; got {config.dataset!r}")
    for name in ("dataset_options", "optimizer_options"):
        if not isinstance(getattr(config, name), Mapping):
            raise TypeError(f"{f}: {name} must be a dict; got {getattr(config, name)!r}")
    registry.check_architecture(config.model, config.architecture, where=f)
    registry.make_options(config.model, config.model_options)  # the options fit the model
    for name, valid in (("optimizer", OPTIMIZERS), ("device", DEVICES), ("init", INITS),
                        ("likelihood", (*LIKELIHOODS, None)), ("activation", ACTIVATIONS),
                        ("encoder_activation", (*ACTIVATIONS, None)),
                        ("decoder_activation", (*ACTIVATIONS, None))):
        check_option(f, name, getattr(config, name), valid)
    check_float(f, "lr", config.lr, minimum=0.0, strict=True)
    _check_pairing(config)
    _check_live(config)
    for name, minimum in (("latent_dim", 1), ("batch_size", 1), ("split_seed", 0), ("seed", 0),
                          ("monitor_every", 1), ("probe_size", 2), ("log_every", 1),
                          ("checkpoint_every", 1), ("threads", 0), ("steps", 0), ("epochs", 0),
                          ("eval_every", 1), ("eval_points", 2),
                          ("max_train", 1)):
        if getattr(config, name) is not None or name not in ("steps", "epochs", "max_train"):
            setattr(config, name, check_int(f, name, getattr(config, name), minimum=minimum))
    if (config.steps is None) == (config.epochs is None):
        raise ValueError(
            f"{f}: exactly one of steps and epochs must be set; got steps={config.steps!r}, "
            f"epochs={config.epochs!r}"
        )
    for name in TUPLE_FIELDS:
        value = getattr(config, name)
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
            raise ValueError(f"{f}: {name} must be a list of positive ints; got {list(value)!r}")
    for name in ("conv_kernels", "deconv_kernels"):
        if len(getattr(config, name)) != 4:
            raise ValueError(f"{f}: {name} must have 4 kernel sizes; got {list(getattr(config, name))!r}")


def _check_pairing(config: Any) -> None:
    from vaecore.datasets.pairs import PAIR_KINDS

    f = "TrainConfig"
    check_option(f, "pairing", config.pairing, (*PAIR_KINDS, None))
    if config.pairing is not None and registry.model_class(config.model).pairing is None:
        raise ValueError(f"{f}: pairing must be None for model {config.model!r}, which trains on "
                         f"single observations; got {config.pairing!r}")
    kind = getattr(config.model_options, "pair_kind", None)
    if config.pairing is not None and kind is not None and config.pairing != kind:
        raise ValueError(f"{f}: pairing must be None or the model option pair_kind {kind!r} for model "
                         f"{config.model!r} (its fake pairs follow it); got {config.pairing!r}")
    check_float(f, "pair_rate", config.pair_rate, minimum=0.0, strict=True)
    config.pair_k = check_int(f, "pair_k", config.pair_k, minimum=-1)
    if config.pair_k == 0:
        raise ValueError(f"{f}: pair_k must be -1 (random) or >= 1; got 0")


def _check_live(config: Any) -> None:
    from vaecore.training.live import LIVE_METRICS

    f = "TrainConfig"
    if isinstance(config.eval_metrics, str):
        config.eval_metrics = tuple(m.strip() for m in config.eval_metrics.split(",") if m.strip())
    if not isinstance(config.eval_metrics, (tuple, list)):
        raise TypeError(f"{f}: eval_metrics must be a list of metric names; got {config.eval_metrics!r}")
    for name in config.eval_metrics:
        check_option(f, "eval_metrics", name, LIVE_METRICS)
    if not isinstance(config.tensorboard, bool):
        raise TypeError(f"{f}: tensorboard must be true or false; got {config.tensorboard!r}")
