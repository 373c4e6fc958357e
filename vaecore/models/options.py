"""Typed hyperparameters of a model: a frozen dataclass per model, validated when it is made.

Each field is declared with :func:`option`, which records its documentation and its valid range
in the field's metadata; :class:`ModelOptions.__post_init__` checks every field against them, so a
bad value fails when the config loads, naming the option, what was expected and what came.

Example (a model file)::

    @dataclass(frozen=True)
    class BetaOptions(ModelOptions):
        beta: float = option(1.0, "KL weight β (eq. 2.4)", ge=0.0)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelOptions", "NoOptions", "option"]

KINDS = ("real", "int", "ints", "choice")


def option(
    default: Any,
    doc: str,
    *,
    kind: str = "real",
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    choices: tuple[Any, ...] | None = None,
    optional: bool = False,
) -> Any:
    """A model-option field: ``default``, its documentation and its valid values.

    ``kind``: "real" (finite number), "int", "ints" (a tuple of positive ints; lists are
    accepted) or "choice" (one of ``choices``). ``ge``/``gt``/``le`` bound numbers;
    ``optional=True`` also allows None (the model then derives the value, as documented).
    """
    if kind not in KINDS:
        raise ValueError(f"option: kind must be one of {KINDS}; got {kind!r}")
    meta = {"doc": doc, "kind": kind, "ge": ge, "gt": gt, "le": le, "choices": choices, "optional": optional}
    return field(default=default, metadata=meta)


def _check(owner: str, name: str, value: Any, meta: Mapping[str, Any]) -> Any:
    """The validated (and normalised) value of option ``name``; raises naming it."""
    where = f"{owner}: {name}"
    if value is None and meta["optional"]:
        return None
    kind = meta["kind"]
    if kind == "choice":
        if value not in meta["choices"]:
            raise ValueError(f"{where} must be one of {meta['choices']}; got {value!r}")
        return value
    if kind == "ints":
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
        ):
            raise ValueError(f"{where} must be a list of positive ints; got {value!r}")
        return tuple(int(v) for v in value)
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"{where} must be an int; got {type(value).__name__} {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"{where} must be a finite number; got {value!r}")
    for bound, ok, text in (
        (meta["ge"], lambda b: value >= b, ">="),
        (meta["gt"], lambda b: value > b, ">"),
        (meta["le"], lambda b: value <= b, "<="),
    ):
        if bound is not None and not ok(bound):
            raise ValueError(f"{where} must be {text} {bound:g}; got {value!r}")
    return value if kind == "int" else float(value)


@dataclass(frozen=True)
class ModelOptions:
    """Base class of every model's options (an empty set of options by itself)."""

    def __post_init__(self) -> None:
        for fl in dataclasses.fields(self):
            value = _check(type(self).__name__, fl.name, getattr(self, fl.name), fl.metadata)
            object.__setattr__(self, fl.name, value)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in declaration order."""
        return tuple(fl.name for fl in dataclasses.fields(cls))

    @classmethod
    def docs(cls) -> dict[str, str]:
        """Option name → its documentation (with the default)."""
        return {fl.name: f"{fl.metadata['doc']} (default {fl.default!r})" for fl in dataclasses.fields(cls)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, model: str = "this model") -> ModelOptions:
        """Build from a dict; a key that is not an option raises ``ValueError`` listing them."""
        if not isinstance(data, Mapping):
            raise TypeError(f"model_options must be a dict; got {type(data).__name__} {data!r}")
        unknown = sorted(set(data) - set(cls.names()))
        if unknown:
            valid = ", ".join(cls.names()) or "(none)"
            raise ValueError(f"model_options: {model} has no option {unknown[0]!r}; its options are {valid}")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (tuples become lists) that :meth:`from_dict` reads back."""
        return {
            name: list(v) if isinstance(v, tuple) else v
            for name, v in ((n, getattr(self, n)) for n in self.names())
        }

    def replace(self, **changes: Any) -> ModelOptions:
        """A validated copy with ``changes`` (only this model's options)."""
        return type(self).from_dict({**self.to_dict(), **changes})


@dataclass(frozen=True)
class NoOptions(ModelOptions):
    """Options of a model without hyperparameters of its own."""
