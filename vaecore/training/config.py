"""``TrainConfig``: every setting of a training run, as a JSON/TOML-able dataclass.

Unknown keys raise ``ValueError`` naming the key and listing the valid ones; values are checked
when the config is made, before any data is loaded or file written.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaecore.models import ACTIVATIONS, ARCHITECTURES, MODEL_NAMES
from vaecore.models.base import LIKELIHOODS

__all__ = ["OPTIMIZERS", "TrainConfig"]

OPTIMIZERS: tuple[str, ...] = ("adam", "adamw", "adagrad", "sgd", "rmsprop")
DEVICES: tuple[str, ...] = ("cpu", "cuda", "auto")
_TUPLE_FIELDS = (
    "encoder_hidden",
    "decoder_hidden",
    "conv_kernels",
    "deconv_kernels",
    "discriminator_hidden",
)
# Settings that may change between a checkpoint and its resumption.
RESUMABLE_CHANGES = frozenset(
    {"steps", "epochs", "device", "log_every", "checkpoint_every", "threads"}
)


@dataclass
class TrainConfig:
    """Settings of one training run (thesis Table 3.1, Table 4.1; SPEC §5).

    Attributes
    ----------
    dataset, dataset_options
        Passed to :func:`vaecore.datasets.load`.
    model
        One of ``ae, vae, beta-vae, beta-vae-sigma, beta-tcvae, factor-vae, dip-vae-i,
        dip-vae-ii, linear-vae``.
    beta
        KL weight (β-VAE, β-VAE-Σ, linear-VAE) or TC weight (β-TCVAE: loss = recon + KL +
        (β−1)·TC); ignored by ``ae``/``vae``/``factor-vae``/DIP-VAE.
    gamma
        FactorVAE's TC weight γ.
    lambda_od, lambda_d
        DIP-VAE weights; ``lambda_d=None`` means 10·λ_od for DIP-VAE-I and λ_od for DIP-VAE-II
        (disentanglement_lib's ``lambda_d_factor``).
    architecture
        "mlp", "linear" (no hidden layers) or "conv" (64 × 64 images).
    encoder_hidden, decoder_hidden
        Hidden layer widths of the MLPs, input to output.
    activation, encoder_activation, decoder_activation
        Hidden-layer non-linearity; the per-network ones override ``activation`` when set.
    conv_kernels, deconv_kernels
        Kernel sizes of the four conv / transposed-conv layers of the conv architecture.
    discriminator_hidden, discriminator_lr
        FactorVAE discriminator widths and its Adam learning rate (betas 0.5, 0.9).
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
    backend
        Backend of the fused β-VAE-Σ op.
    threads
        torch intra-op threads during training; 0 = automatic: 1 thread for tiny models
        (batch_size × parameters < 5·10⁶, where thread hand-offs cost more than they save:
        10× on the synthetic sets on 2 busy cores), torch's default otherwise.
    """

    dataset: str = "synth-lin"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    model: str = "beta-vae"
    beta: float = 1.0
    gamma: float = 10.0
    lambda_od: float = 10.0
    lambda_d: float | None = None
    architecture: str = "mlp"
    encoder_hidden: tuple[int, ...] = ()
    decoder_hidden: tuple[int, ...] = ()
    activation: str = "relu"
    encoder_activation: str | None = None
    decoder_activation: str | None = None
    conv_kernels: tuple[int, ...] = (4, 4, 2, 2)
    deconv_kernels: tuple[int, ...] = (4, 4, 4, 4)
    discriminator_hidden: tuple[int, ...] = (1000, 1000, 1000, 1000, 1000, 1000)
    discriminator_lr: float = 1e-4
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
    backend: str = "auto"
    threads: int = 0

    def __post_init__(self) -> None:
        for name in _TUPLE_FIELDS:
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                object.__setattr__(self, name, tuple(value))
        self.validate()

    # -- validation -----------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ``ValueError``/``TypeError`` naming the first bad setting."""
        f = "TrainConfig"

        def option(name: str, valid: tuple[Any, ...]) -> None:
            if getattr(self, name) not in valid:
                raise ValueError(f"{f}: {name} must be one of {valid}; got {getattr(self, name)!r}")

        def integer(name: str, minimum: int, *, optional: bool = False) -> None:
            v = getattr(self, name)
            if optional and v is None:
                return
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{f}: {name} must be an int; got {type(v).__name__} {v!r}")
            if v < minimum:
                raise ValueError(f"{f}: {name} must be >= {minimum}; got {v}")

        def real(name: str, *, positive: bool = False, optional: bool = False) -> None:
            v = getattr(self, name)
            if optional and v is None:
                return
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise TypeError(f"{f}: {name} must be a finite number; got {v!r}")
            if (v <= 0) if positive else (v < 0):
                raise ValueError(f"{f}: {name} must be {'> 0' if positive else '>= 0'}; got {v!r}")

        if not isinstance(self.dataset, str) or not self.dataset:
            raise ValueError(f"{f}: dataset must be a dataset name; got {self.dataset!r}")
        for name in ("dataset_options", "optimizer_options"):
            if not isinstance(getattr(self, name), Mapping):
                raise TypeError(f"{f}: {name} must be a dict; got {getattr(self, name)!r}")
        option("model", MODEL_NAMES)
        option("architecture", ARCHITECTURES)
        option("optimizer", OPTIMIZERS)
        option("device", DEVICES)
        option("backend", ("auto", "native", "reference"))
        option("likelihood", (*LIKELIHOODS, None))
        option("activation", ACTIVATIONS)
        if self.encoder_activation is not None:
            option("encoder_activation", ACTIVATIONS)
        if self.decoder_activation is not None:
            option("decoder_activation", ACTIVATIONS)
        if self.model == "linear-vae" and self.architecture != "linear":
            raise ValueError(
                f"{f}: model 'linear-vae' needs architecture 'linear'; got {self.architecture!r}"
            )
        for name in ("beta", "gamma", "lambda_od"):
            real(name)
        real("lambda_d", optional=True)
        real("lr", positive=True)
        real("discriminator_lr", positive=True)
        integer("latent_dim", 1)
        integer("batch_size", 1)
        integer("steps", 0, optional=True)
        integer("epochs", 0, optional=True)
        integer("max_train", 1, optional=True)
        integer("split_seed", 0)
        integer("seed", 0)
        integer("monitor_every", 1)
        integer("probe_size", 2)
        integer("log_every", 1)
        integer("checkpoint_every", 1)
        integer("threads", 0)
        if (self.steps is None) == (self.epochs is None):
            raise ValueError(
                f"{f}: exactly one of steps and epochs must be set; got steps={self.steps!r}, "
                f"epochs={self.epochs!r}"
            )
        for name in _TUPLE_FIELDS:
            value = getattr(self, name)
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
                raise ValueError(f"{f}: {name} must be a list of positive ints; got {list(value)!r}")
        for name in ("conv_kernels", "deconv_kernels"):
            if len(getattr(self, name)) != 4:
                raise ValueError(f"{f}: {name} must have 4 kernel sizes; got {list(getattr(self, name))!r}")

    # -- derived values ----------------------------------------------------------------------------
    @property
    def resolved_lambda_d(self) -> float:
        """λ_d: the set value, else 10·λ_od (DIP-VAE-I) or λ_od (DIP-VAE-II)."""
        if self.lambda_d is not None:
            return float(self.lambda_d)
        return self.lambda_od * (10.0 if self.model == "dip-vae-i" else 1.0)

    # -- (de)serialisation ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (tuples become lists) that :meth:`from_dict` reads back."""
        d = dataclasses.asdict(self)
        for name in _TUPLE_FIELDS:
            d[name] = list(d[name])
        return json.loads(json.dumps(d))

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(fl.name for fl in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build from a dict; unknown keys raise ``ValueError`` listing the valid ones.

        A ``"preset"`` key (with optional ``"scale"``) starts from :meth:`preset` and applies
        the other keys as overrides.
        """
        if not isinstance(data, Mapping):
            raise TypeError(f"TrainConfig.from_dict: data must be a dict; got {type(data).__name__}")
        data = dict(data)
        preset = data.pop("preset", None)
        scale = data.pop("scale", "quick" if preset is not None else None)
        if scale is not None and preset is None:
            raise ValueError("TrainConfig.from_dict: 'scale' needs a 'preset' key")
        valid = cls.field_names()
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise ValueError(
                f"TrainConfig: unknown key {unknown[0]!r}; valid keys are {', '.join(valid)}"
                + (", preset, scale" if preset is None else "")
            )
        if preset is not None:
            return cls.preset(preset, scale=scale, **data)
        return cls(**data)

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
        """The Table 3.1 settings for ``dataset`` at ``scale`` "thesis" or "quick".

        See :data:`vaecore.training.presets.PRESETS` for the values and what "quick" changes.
        """
        from vaecore.training.presets import preset_dict

        base = preset_dict(dataset, scale)
        valid = cls.field_names()
        unknown = sorted(set(overrides) - set(valid))
        if unknown:
            raise ValueError(
                f"TrainConfig.preset: unknown key {unknown[0]!r}; valid keys are {', '.join(valid)}"
            )
        if ("steps" in overrides) != ("epochs" in overrides):
            # one length given: it replaces the preset's
            base.pop("steps", None)
            base.pop("epochs", None)
            base["steps" if "epochs" in overrides else "epochs"] = None
        if "model" in overrides and overrides["model"] == "linear-vae":
            base["architecture"] = "linear"
        base.update(overrides)
        return cls(**base)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied (validated)."""
        unknown = sorted(set(changes) - set(self.field_names()))
        if unknown:
            raise ValueError(
                f"TrainConfig.replace: unknown key {unknown[0]!r}; valid keys are "
                f"{', '.join(self.field_names())}"
            )
        return dataclasses.replace(self, **changes)
