"""A stored manipulator: ``manipulator.pt`` + ``perturbation.json`` (SPEC-ch4 §6.5).

``manipulator.pt`` is ``torch.save`` of the manipulator's state dict (tensors only), read back
with ``torch.load(weights_only=True)`` — never unpickling code — and only after its sha256 matched
the one recorded in ``perturbation.json``. The JSON holds ε, the base dataset (registry name,
options, observation shape, factor names and sizes), the factor encoding, the network spec and a
training summary. Both files are written atomically (:mod:`vaecore._io`).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from vaecore._io import atomic_write_bytes, atomic_write_json
from vaecore.perturb.encoding import FactorEncoding
from vaecore.perturb.manipulator import Manipulator, ManipulatorSpec

__all__ = ["BaseRecord", "PerturbationRecord", "load_manipulator", "save_manipulator"]

WEIGHTS = "manipulator.pt"
RECORD = "perturbation.json"
FORMAT = 1


@dataclass(frozen=True)
class BaseRecord:
    """The base dataset a manipulator was trained for."""

    name: str
    options: dict[str, Any]
    observation_shape: tuple[int, ...]
    factor_names: tuple[str, ...]
    factor_sizes: tuple[int, ...]

    @classmethod
    def of(cls, dataset: Any, name: str | None = None, options: dict[str, Any] | None = None) -> BaseRecord:
        return cls(name or dataset.name, dict(options or {}), tuple(int(s) for s in dataset.observation_shape),
                   tuple(dataset.factor_names), tuple(int(s) for s in dataset.factor_sizes))

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "options": self.options, "observation_shape": list(self.observation_shape),
                "factor_names": list(self.factor_names), "factor_sizes": list(self.factor_sizes)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BaseRecord:
        return cls(str(d["name"]), dict(d.get("options", {})), tuple(int(s) for s in d["observation_shape"]),
                   tuple(d["factor_names"]), tuple(int(s) for s in d["factor_sizes"]))


@dataclass(frozen=True)
class PerturbationRecord:
    """The contents of ``perturbation.json``."""

    eps: float
    base: BaseRecord
    encoding: FactorEncoding
    spec: ManipulatorSpec
    sha256: str
    weights: str = WEIGHTS
    training: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "eps": self.eps, "base": self.base.as_dict(),
                "encoding": self.encoding.as_dict(), "manipulator": self.spec.as_dict(),
                "weights": self.weights, "sha256": self.sha256, "training": self.training}

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str) -> PerturbationRecord:
        if d.get("format") != FORMAT:
            raise ValueError(f"load_manipulator: {where} must have format {FORMAT}; got {d.get('format')!r}")
        try:
            return cls(float(d["eps"]), BaseRecord.from_dict(d["base"]), FactorEncoding.from_dict(d["encoding"]),
                       ManipulatorSpec.from_dict(d["manipulator"]), str(d["sha256"]), str(d.get("weights", WEIGHTS)),
                       dict(d.get("training", {})))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"load_manipulator: {where} is not a perturbation record (missing or bad "
                             f"entry {exc})") from exc


def save_manipulator(out: str | Path | None, manipulator: Manipulator, *, eps: float, base: BaseRecord,
                     encoding: FactorEncoding, training: dict[str, Any] | None = None) -> PerturbationRecord:
    """Write ``manipulator.pt`` then ``perturbation.json`` (with the weights' sha256) into ``out``
    (None: only build the record)."""
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu().clone() for k, v in manipulator.state_dict().items()}, buf)
    data = buf.getvalue()
    record = PerturbationRecord(float(eps), base, encoding, manipulator.spec, hashlib.sha256(data).hexdigest(),
                                training=dict(training or {}))
    if out is None:
        return record
    d = Path(out)
    atomic_write_bytes(d / WEIGHTS, data)
    atomic_write_json(d / RECORD, record.as_dict())
    return record


def read_record(folder: str | Path) -> PerturbationRecord:
    """Parse ``perturbation.json`` of a manipulator folder."""
    d = Path(folder)
    path = d / RECORD
    if not path.is_file():
        raise FileNotFoundError(f"load_manipulator: {str(d)!r} is not a manipulator folder (no {RECORD}); "
                                f"create one with `vaecore perturb train`")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"load_manipulator: {str(path)!r} is not valid JSON ({exc})") from exc
    return PerturbationRecord.from_dict(raw, repr(str(path)))


def load_manipulator(folder: str | Path) -> tuple[Manipulator, PerturbationRecord]:
    """The manipulator of ``folder`` in eval mode, and its record.

    Raises ``ValueError`` when the weights file is truncated or modified (its sha256 differs from
    the record's) or does not fit the recorded network; ``FileNotFoundError`` when a file is missing.
    """
    record = read_record(folder)
    wpath = Path(folder) / record.weights
    if wpath.name != record.weights or not wpath.is_file():
        raise FileNotFoundError(f"load_manipulator: the weights file {str(wpath)!r} is missing")
    data = wpath.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != record.sha256:
        raise ValueError(f"load_manipulator: {str(wpath)!r} is truncated or was modified: its sha256 is "
                         f"{digest[:16]}…, perturbation.json records {record.sha256[:16]}… ({len(data)} bytes)")
    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    model = Manipulator(record.spec)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"load_manipulator: {str(wpath)!r} does not fit the network of "
                         f"perturbation.json ({str(exc).splitlines()[0]})") from exc
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, record
