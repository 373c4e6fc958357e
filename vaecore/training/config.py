"""``TrainConfig``: every setting of a training run, as a JSON/TOML-able dataclass.

It holds the settings every run shares and, in ``model_options``, the model's own
hyperparameters (the frozen ``Options`` dataclass of the model class, see
:mod:`vaecore.models.registry`). Configs keep the flat layout of earlier releases: a model option
may be given as a top-level key (``beta = 4`` in TOML, ``--set beta=4``, ``TrainConfig(beta=4)``,
``config.beta``), and :meth:`TrainConfig.to_dict` writes the options flat, so run folders and
stores written now stay readable by the previous release.

Unknown keys raise ``ValueError`` naming the key and listing the valid ones; values are checked
when the config is made, before any data is loaded or file written.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaecore.models import ModelOptions, Networks, registry
from vaecore.training.config_checks import DEVICES, OPTIMIZERS, TUPLE_FIELDS, check_config
from vaecore.training.flat import FlatOption, flat

__all__ = ["DEVICES", "OPTIMIZERS", "TrainConfig"]

# Settings that may change between a checkpoint and its resumption.
RESUMABLE_CHANGES = frozenset(
    {"steps", "epochs", "device", "log_every", "checkpoint_every", "threads",
     "eval_every", "eval_metrics", "eval_points", "tensorboard"}
)
# Keys added after the flat layout; :meth:`TrainConfig.to_dict` writes them only when they differ
# from these defaults, so that configs that do not use them stay readable by that release.
_ADDED_DEFAULTS: dict[str, Any] = {"init": "torch", "pairing": None, "pair_rate": 1.0, "pair_k": -1,
                                   "eval_every": 1000, "eval_metrics": (), "eval_points": 1000,
                                   "tensorboard": False}


@dataclass
class TrainConfig:
    """Settings of one training run (thesis Table 3.1, Table 4.1; SPEC §5).

    Attributes
    ----------
    dataset, dataset_options
        Passed to :func:`vaecore.datasets.load`.
    model
        A name of :data:`vaecore.models.MODEL_NAMES` (the registry).
    model_options
        The model's own hyperparameters: an instance of its ``Options`` dataclass (a dict of
        them is accepted), e.g. ``BetaOptions(beta=4)``; missing ones take their defaults.
    beta, gamma, lambda_od, lambda_d, discriminator_hidden, discriminator_lr, backend
        Flat aliases of model options (the earlier layout): given, they set the option of that
        name when the model has it and are ignored otherwise (β for ``vae``/``factor-vae``, as
        before); read, they give the model's option or None. ``config.<option>`` also reads the
        options of models registered later (e.g. ``config.rate_prior``).
    architecture
        "mlp", "linear" (no hidden layers) or "conv" (64 × 64 images).
    encoder_hidden, decoder_hidden
        Hidden layer widths of the MLPs, input to output.
    activation, encoder_activation, decoder_activation
        Hidden-layer non-linearity; the per-network ones override ``activation`` when set.
    conv_kernels, deconv_kernels
        Kernel sizes of the four conv / transposed-conv layers of the conv architecture.
    latent_dim
        Number of latents (≥ 1).
    likelihood
        "bernoulli", "gaussian" or None (= bernoulli for image datasets, else gaussian).
    optimizer, lr, optimizer_options
        One of ``adam, adamw, adagrad, sgd, rmsprop``, its learning rate and extra keyword
        arguments (e.g. ``{"betas": [0.9, 0.999]}``).
    batch_size
        Minibatch size; batches are drawn without replacement within an epoch.
    steps, epochs
        Training length: exactly one of them is set (``steps=0`` = the untrained model, the
        random-decoder baseline). An epoch is ``max(1, n_train // batch_size)`` steps.
    max_train
        Use only the first ``max_train`` points of the (random) training split.
    split_seed
        Seed of the 80/10/10 split (``dataset.split(seed=split_seed)``); evaluation uses the
        same split's test part.
    seed
        Seeds initialisation, batch order and posterior noise; same seed, same run (on CPU).
    device
        "cpu", "cuda" or "auto".
    monitor_every, probe_size
        Polarized-regime monitor period (batches) and probe-batch size.
    log_every, checkpoint_every
        History period and checkpoint period (steps); the final step always does both.
    pairing, pair_rate, pair_k
        Paired models only (batches ``(x1, x2, label)``, :func:`vaecore.datasets.pairs`): the pair
        kind (None: the model's own, ``laplace`` for slow-vae, ``dlib-k`` for ada-gvae/ada-ml-vae),
        the Laplace rate and the number of changed factors (-1: random). ``batch_size`` counts pairs.
    init
        Parameter initialisation: "torch" (default) or "glorot" (disentanglement_lib's: Glorot-
        uniform weights, zero biases; SPEC-ch4 §1).
    eval_metrics, eval_every, eval_points
        Live metrics (:data:`vaecore.training.live.LIVE_METRICS`: ``mig``, ``ds``, ``dto``,
        ``active_units``) computed every ``eval_every`` steps on a fixed probe of ``eval_points``
        test-split points, shown in the progress bar and written to ``metrics.jsonl``; empty = none.
        They never touch the training's random streams, so a run trains identically with them.
    tensorboard
        Also send the ``metrics.jsonl`` stream to TensorBoard (``out/tensorboard``; extra
        ``tensorboard``).
    threads
        torch intra-op threads during training; 0 = automatic: 1 thread for tiny models
        (batch_size × parameters < 5·10⁶, where thread hand-offs cost more than they save:
        10× on the synthetic sets on 2 busy cores), torch's default otherwise.
    """

    dataset: str = "synth-lin"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    model: str = "beta-vae"
    beta: float | None = flat()
    gamma: float | None = flat()
    lambda_od: float | None = flat()
    lambda_d: float | None = flat()
    architecture: str = "mlp"
    encoder_hidden: tuple[int, ...] = ()
    decoder_hidden: tuple[int, ...] = ()
    activation: str = "relu"
    encoder_activation: str | None = None
    decoder_activation: str | None = None
    conv_kernels: tuple[int, ...] = (4, 4, 2, 2)
    deconv_kernels: tuple[int, ...] = (4, 4, 4, 4)
    discriminator_hidden: tuple[int, ...] | None = flat()
    discriminator_lr: float | None = flat()
    latent_dim: int = 10
    likelihood: str | None = None
    optimizer: str = "adam"
    lr: float = 1e-3
    optimizer_options: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 64
    steps: int | None = 1000
    epochs: int | None = None
    max_train: int | None = None
    split_seed: int = 0
    seed: int = 0
    device: str = "cpu"
    monitor_every: int = 500
    probe_size: int = 1000
    log_every: int = 100
    checkpoint_every: int = 5000
    backend: str | None = flat()
    threads: int = 0
    init: str = "torch"
    pairing: str | None = None
    pair_rate: float = 1.0
    pair_k: int = -1
    eval_every: int = 1000
    eval_metrics: tuple[str, ...] = ()
    eval_points: int = 1000
    tensorboard: bool = False
    model_options: ModelOptions | Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in (*TUPLE_FIELDS, "eval_metrics"):
            value = getattr(self, name)
            if isinstance(value, list):
                setattr(self, name, tuple(value))
        pending = self.__dict__.pop("_pending", {})
        registry.model_class(self.model, where="TrainConfig")
        self.model_options = registry.make_options(self.model, self.model_options, legacy=pending)
        self.validate()

    def __getattr__(self, name: str) -> Any:
        # only reached when normal lookup fails: the options of models registered later
        opts = self.__dict__.get("model_options")
        if isinstance(opts, ModelOptions) and name in opts.names():
            return getattr(opts, name)
        raise AttributeError(f"TrainConfig has no attribute {name!r} (model {self.__dict__.get('model')!r})")

    # -- validation -----------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ``ValueError``/``TypeError`` naming the first bad setting
        (:func:`vaecore.training.config_checks.check_config`)."""
        check_config(self)

    # -- derived values ----------------------------------------------------------------------------
    @property
    def resolved_pairing(self) -> str | None:
        """The pair kind the model trains on: ``pairing``, else the model option ``pair_kind``
        (the weak GAN's), else the model's default (None: unpaired)."""
        return self.pairing or getattr(self.model_options, "pair_kind", None) or registry.model_class(self.model).pairing

    def networks(self, observation_shape: tuple[int, ...], likelihood: str) -> Networks:
        """The :class:`vaecore.models.Networks` of this config for data of that shape."""
        same = {fl.name: getattr(self, fl.name) for fl in dataclasses.fields(Networks) if fl.name in self.field_names()}
        same["encoder_activation"] = self.encoder_activation or self.activation
        same["decoder_activation"] = self.decoder_activation or self.activation
        return Networks(**{**same, "observation_shape": tuple(observation_shape), "likelihood": likelihood})

    # -- (de)serialisation ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able flat dict (the model's options as top-level keys) that :meth:`from_dict`
        reads back; keys added after the flat layout are written only when set."""
        d: dict[str, Any] = {}
        for fl in dataclasses.fields(self):
            if fl.name == "model_options" or _is_flat(fl.name):
                continue
            value = getattr(self, fl.name)
            if _ADDED_DEFAULTS.get(fl.name, object()) != value:
                d[fl.name] = list(value) if isinstance(value, tuple) else value
        d.update(self.model_options.to_dict())  # type: ignore[union-attr]
        return json.loads(json.dumps(d))

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The dataclass fields (the settings every run shares, ``model_options`` and the flat aliases)."""
        return tuple(fl.name for fl in dataclasses.fields(cls))

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """Every key :meth:`from_dict` accepts: the fields and every registered model's options."""
        return tuple(dict.fromkeys((*cls.field_names(), *registry.option_names())))

    @classmethod
    def _unknown(cls, where: str, keys: Any, extra: str = "") -> None:
        unknown = sorted(set(keys) - set(cls.keys()))
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r}; valid keys are {', '.join(cls.keys())}{extra}")

    @classmethod
    def from_flat(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build from fields and flat model options (e.g. ``rate_prior`` of a later model)."""
        cls._unknown("TrainConfig", data)
        fields = {k: v for k, v in data.items() if k in cls.field_names()}
        extra = {k: v for k, v in data.items() if k not in fields}
        if extra:
            opts = fields.get("model_options")
            if isinstance(opts, ModelOptions):
                opts = opts.to_dict()
            model = fields.get("model", cls.model)
            fields["model_options"] = registry.make_options(model, opts, legacy=extra)
        return cls(**fields)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build from a dict (flat or with ``model_options``); unknown keys raise ``ValueError``
        listing the valid ones. A ``"preset"`` key (with optional ``"scale"``) starts from
        :meth:`preset` and applies the other keys as overrides.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"TrainConfig.from_dict: data must be a dict; got {type(data).__name__}")
        data = dict(data)
        preset = data.pop("preset", None)
        scale = data.pop("scale", "quick" if preset is not None else None)
        if scale is not None and preset is None:
            raise ValueError("TrainConfig.from_dict: 'scale' needs a 'preset' key")
        cls._unknown("TrainConfig", data, ", preset, scale" if preset is None else "")
        if preset is not None:
            return cls.preset(preset, scale=scale, **data)
        return cls.from_flat(data)

    @classmethod
    def from_toml(cls, path: str | Path) -> TrainConfig:
        """Read a TOML file with the same keys as :meth:`from_dict` (top level or ``[train]``)."""
        try:
            import tomllib
        except ModuleNotFoundError:  # pragma: no cover - Python 3.10
            import tomli as tomllib  # type: ignore[no-redef]
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"TrainConfig.from_toml: no such file {str(p)!r}")
        with p.open("rb") as fh:
            data = tomllib.load(fh)
        if set(data) == {"train"}:
            data = data["train"]
        return cls.from_dict(data)

    @classmethod
    def from_json(cls, path: str | Path) -> TrainConfig:
        """Read a JSON file written by :meth:`to_dict` (e.g. a run's ``config.json``)."""
        return cls.from_dict(json.loads(Path(path).read_text()))

    @classmethod
    def preset(cls, dataset: str, *, scale: str = "quick", **overrides: Any) -> TrainConfig:
        """The Table 3.1 / 4.1 settings for ``dataset`` at ``scale`` "thesis" or "quick", with
        ``overrides`` applied. A model override that cannot run on the preset's architecture gets
        its own (linear-vae: "linear"). See :data:`vaecore.training.presets.PRESETS`.
        """
        from vaecore.training.presets import preset_dict

        cls._unknown("TrainConfig.preset", overrides)
        base = preset_dict(dataset, scale, model=overrides.get("model"))
        model = overrides.get("model", base.get("model"))
        if ("steps" in overrides) != ("epochs" in overrides):
            # one length given: it replaces the preset's
            base.pop("steps", None)
            base.pop("epochs", None)
            base["steps" if "epochs" in overrides else "epochs"] = None
        if model in registry.MODELS:
            base["architecture"] = registry.default_architecture(model, base.get("architecture", "mlp"))
            if "model_options" in overrides:  # given as a whole, they replace the preset's
                base = {k: v for k, v in base.items() if k not in registry.MODELS[model].Options.names()}
        base.update(overrides)
        return cls.from_flat(base)

    def replace(self, **changes: Any) -> TrainConfig:
        """A validated copy with ``changes`` (fields or model options, flat or as
        ``model_options``). A new ``model`` keeps the options it shares with the old one."""
        self._unknown("TrainConfig.replace", changes)
        common = [n for n in self.field_names() if n != "model_options" and not _is_flat(n)]
        model = changes.get("model", self.model)
        names = registry.model_class(model, where="TrainConfig").Options.names()
        opts = changes.pop("model_options", None)
        if opts is None:
            opts = {k: v for k, v in self.model_options.to_dict().items() if k in names}  # type: ignore[union-attr]
        opts = opts.to_dict() if isinstance(opts, ModelOptions) else dict(opts)
        opts.update({k: v for k, v in changes.items() if k in names})
        rest = {k: v for k, v in changes.items() if k not in names}
        return type(self).from_flat({**{n: getattr(self, n) for n in common}, "model_options": opts, **rest})


def _is_flat(name: str) -> bool:
    return isinstance(TrainConfig.__dict__.get(name), FlatOption)
