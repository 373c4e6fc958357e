"""Flat keys of the earlier ``TrainConfig`` layout (``beta``, ``gamma``, ...) as dataclass fields
whose values live in ``config.model_options`` (Python's "descriptor-typed fields")."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from vaecore.models import ModelOptions, registry

__all__ = ["FlatOption", "flat"]


class FlatOption:
    """A flat key of the earlier layout (e.g. ``beta``): a dataclass field whose value lives in
    ``model_options``. Reading gives the model's option (None when the model lacks it); setting it
    on a made config replaces the option (validated); in ``__init__`` the value is folded into
    ``model_options`` by ``__post_init__`` (see :func:`vaecore.models.registry.make_options`)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        opts = obj.__dict__.get("model_options")
        if isinstance(opts, ModelOptions):
            return getattr(opts, self.name, None)
        return obj.__dict__.get("_pending", {}).get(self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        if value is self:  # the dataclass default: not given
            return
        if isinstance(obj.__dict__.get("model_options"), ModelOptions):
            obj.model_options = registry.make_options(obj.model, obj.model_options, legacy={self.name: value})
        else:
            obj.__dict__.setdefault("_pending", {})[self.name] = value


def flat() -> Any:
    return field(default=FlatOption(), compare=False, repr=False)
