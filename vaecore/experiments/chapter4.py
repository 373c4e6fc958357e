"""Run functions of thesis chapter 4's staged experiments (SPEC-ch4 §7–§8, §10 check 8).

Two run functions, registered at import (configs name them in ``[experiment] runner``):

* ``"perturb"`` (:func:`perturb_run`): from the finished β-VAE restarts of the stage named by
  ``select`` (its :attr:`RunSpec.inputs`), picks the most / least disentangled by MIG
  (:func:`vaecore.perturb.select_models`), trains the manipulator
  (:func:`vaecore.perturb.train_manipulator`) and keeps its folder as the run's artifact, with
  ``selection.json`` and the Fig. 4.3 preview beside it.
* ``"ch4-train"`` (:func:`ch4_train_run`): trains one model of the preset ``dataset`` on the
  variant ``data`` — ``"original"``, ``"modified"`` (the ``perturbed`` dataset of the manipulator
  made by stage ``perturbation``) or ``"noisy"`` (uniform noise of the same ε, reflected into
  [0, 1], SPEC-ch4 §6.6) — and scores it on that variant. ``multiplier`` scales the model's primary
  hyperparameter (line search of Fig. 4.4–4.7); ``cache = true`` reads a small grid's images from a
  uint8 memory map under the run folder; ``eval_points`` below 10⁴ scores with the metrics' fast
  sample sizes (:data:`vaecore.metrics.on_model.SIZES`). An ``"original"`` run whose training config equals
  that of a done run of stage ``reuse`` (same seed) reuses its metrics instead of retraining:
  at the quick scale the selection restarts are the original column (SPEC-ch4 §8).

The gate (SPEC-ch4 §10 check 8): ``gate = {stage, min_spread, run_if}``; the gate passes when the
MIG spread (max − min) of the usable done runs of ``stage`` (not over-pruned: ``active_units`` ≥
``n_factors``, as :func:`vaecore.perturb.select_models` drops them) is ≥ ``min_spread``. A run whose ``run_if``
("pass" / "fail") does not match returns ``{"skipped": 1.0, ...}`` without training, so one plan
holds both the Shapes3D chain and the dSprites fallback and exactly one of them runs; reports
leave skipped runs out and say which chain ran.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaecore._io import atomic_write_text
from vaecore._validation import check_float, check_option
from vaecore.experiments.runfns import _finite, _train_keys, register_run_function

__all__ = ["DATA", "GATE_KEYS", "Gate", "PERTURB_KEYS", "TRAIN_KEYS", "ch4_train_run", "gate_of",
           "perturb_run", "PRIMARY"]

DATA = ("original", "modified", "noisy")
GATE_KEYS = ("stage", "min_spread", "run_if")
#: the primary hyperparameter of each model (thesis Table 4.1), scaled by ``multiplier``
PRIMARY = {"beta-vae": "beta", "beta-tcvae": "beta", "factor-vae": "gamma", "slow-vae": "beta",
           "ada-gvae": "beta", "ada-ml-vae": "beta"}
OWN_TRAIN_KEYS = ("data", "gate", "perturbation", "noise_eps", "reuse", "multiplier", "cache", "eval_points")
PERTURB_OPTIONS = ("decoder_updates", "latent_samples", "batch_size", "lr", "m_lr", "probe_size",
                   "log_every", "checkpoint_every", "loss")
PERTURB_KEYS = ("select", "gate", "n", "eps", "steps", "max_points", "preview", *PERTURB_OPTIONS)


@dataclass(frozen=True)
class Gate:
    """The outcome of a gate: the MIG values of ``stage``'s done runs and whether they differ enough."""

    stage: str
    min_spread: float
    migs: tuple[float, ...]

    @property
    def spread(self) -> float:
        return float(max(self.migs) - min(self.migs)) if len(self.migs) >= 2 else 0.0

    @property
    def passed(self) -> bool:
        return len(self.migs) >= 2 and self.spread >= self.min_spread

    def metrics(self) -> dict:
        return {"gate_spread": self.spread, "gate_passed": 1.0 if self.passed else 0.0,
                "gate_runs": float(len(self.migs)), "gate_min_spread": self.min_spread}


def gate_of(gate: Any, inputs: Sequence[Any]) -> tuple[Gate, bool] | None:
    """``(Gate, should_run)`` for the ``gate`` parameter (``None``: no gate, always run)."""
    if gate is None:
        return None
    if not isinstance(gate, Mapping):
        raise TypeError(f"chapter 4: gate must be a table {{stage, min_spread, run_if}}; got {type(gate).__name__}")
    unknown = sorted(set(gate) - set(GATE_KEYS))
    if unknown or "stage" not in gate:
        raise ValueError(f"chapter 4: gate must have keys {GATE_KEYS} (stage required); got {sorted(gate)}")
    run_if = check_option("chapter 4 gate", "run_if", gate.get("run_if", "pass"), ("pass", "fail"))
    spread = check_float("chapter 4 gate", "min_spread", gate.get("min_spread", 0.15), minimum=0.0)
    migs = tuple(float(i.metrics["mig"]) for i in inputs
                 if i.experiment == gate["stage"] and _finite(i.metrics.get("mig")) is not None and _usable(i.metrics))
    result = Gate(str(gate["stage"]), spread, migs)
    return result, result.passed == (run_if == "pass")


def _usable(metrics: Mapping[str, Any]) -> bool:
    """Not over-pruned (SPEC-ch4 §6.1): active units ≥ varying factors, when the run stored both."""
    au, nf = _finite(metrics.get("active_units")), _finite(metrics.get("n_factors"))
    return au is None or nf is None or au >= nf


def _stage_inputs(spec: Any, stage: str, what: str) -> list[Any]:
    found = sorted((i for i in spec.inputs if i.experiment == stage and not i.metrics.get("skipped")),
                   key=lambda i: (i.seed, i.run_id))  # a perturbation stage's first seed
    if not found:
        raise ValueError(f"{spec.experiment}: {what} {stage!r} has no finished runs among this run's "
                         f"inputs (requires = {list(spec.requires)})")
    return found


def _skip(gate: Gate) -> dict:
    return {"skipped": 1.0, **gate.metrics()}


# -- "perturb" ---------------------------------------------------------------------------------------

def perturb_run(spec: Any, *, out: str | Path | None = None) -> dict:
    """Select dis-/entangled restarts of stage ``select`` and train the manipulator into ``out``."""
    from vaecore.perturb import preview, select_models, train_manipulator

    p = dict(spec.params)
    gated = gate_of(p.get("gate"), spec.inputs)
    if gated is not None and not gated[1]:
        return _skip(gated[0])
    if out is None:
        raise ValueError(f"{spec.experiment}: the perturb runner needs an artifacts folder (its "
                         "manipulator is the input of later stages); run it with --out")
    out = Path(out)
    runs = [i.artifacts for i in _stage_inputs(spec, str(p.get("select", "")), "select stage")]
    if any(r is None for r in runs):
        raise ValueError(f"{spec.experiment}: the selection runs kept no artifacts (run with --out)")
    sel = select_models(sorted(runs), n=int(p.get("n", 1)), seed=int(spec.seed),
                        max_points=int(p.get("max_points", 10_000)))
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "selection.json", json.dumps(sel.as_dict(), indent=1, sort_keys=True))
    options = {k: p[k] for k in PERTURB_OPTIONS if k in p}
    res = train_manipulator(list(sel.disentangled), list(sel.entangled), eps=float(p["eps"]),
                            steps=int(p.get("steps", 20_000)), out=out, progress=False,
                            seed=int(spec.seed), **options)
    if int(p.get("preview", 3)) > 0:
        preview(out, out / "fig-4.3", n=int(p.get("preview", 3)), seed=int(spec.seed))
    by = {s.run: s.mig for s in sel.scores}
    training = res.record.training
    metrics = {"skipped": 0.0, "mig_disentangled": by[sel.disentangled[0]],
               "mig_entangled": by[sel.entangled[0]], "selection_gap": sel.value,
               "gap_initial": _finite(training.get("gap_initial")),
               "gap_final": _finite(training.get("gap_final")), "eps": float(res.record.eps)}
    if gated is not None:
        metrics.update(gated[0].metrics())
    return metrics


# -- "ch4-train" -------------------------------------------------------------------------------------

def _train_config(spec: Any, p: dict) -> Any:
    """The TrainConfig of the run: preset ``dataset`` at ``scale``, the other keys as overrides,
    the model's primary hyperparameter × ``multiplier``."""
    from vaecore import TrainConfig
    from vaecore.experiments.runfns import resolve_train_config
    from vaecore.training.presets import preset_dict

    train = {k: v for k, v in p.items() if k not in OWN_TRAIN_KEYS}
    multiplier = check_float(spec.experiment, "multiplier", p.get("multiplier", 1.0), minimum=0.0, strict=True)
    if multiplier != 1.0:
        model = str(train.get("model") or preset_dict(train["dataset"], train.get("scale", "thesis"))["model"])
        if model not in PRIMARY:
            raise ValueError(f"{spec.experiment}: multiplier needs a model with a primary hyperparameter "
                             f"({', '.join(PRIMARY)}); got {model!r}")
        key = PRIMARY[model]
        base = train.get(key, preset_dict(train["dataset"], train.get("scale", "thesis"), model=model)[key])
        train[key] = float(base) * multiplier
    return TrainConfig.from_dict(resolve_train_config(train, spec.seed))


def _reused(spec: Any, p: dict, config: Any) -> dict | None:
    """Metrics of a done run of stage ``reuse`` with exactly this training config (and seed)."""
    from vaecore import TrainConfig

    for i in spec.inputs:
        if i.experiment != p.get("reuse") or i.seed != spec.seed or not i.artifacts:
            continue
        path = Path(i.artifacts) / "config.json"
        if path.is_file() and TrainConfig.from_dict(json.loads(path.read_text())).to_dict() == config.to_dict():
            if all(m in i.metrics for m in spec.metrics):
                return {**{k: v for k, v in i.metrics.items()}, "reused": 1.0, "skipped": 0.0}
    return None


def _cached(ds: Any, out: Path | None, p: dict) -> Any:
    """``ds`` read from a uint8 memory map under ``out`` (``cache = true``: a small grid, whose
    images training and the metrics' 10⁴-point samples would otherwise render again and again)."""
    from vaecore.datasets.cache import CachedDataset, cache_to_file

    if not p.get("cache") or out is None:
        return ds
    path = out / "data-cache.npy"
    return CachedDataset(ds, path) if path.is_file() else cache_to_file(ds, path)


def _variant(spec: Any, p: dict, config: Any, out: Path | None) -> tuple[Any, Any, dict]:
    """(config, dataset object, extra metrics) of the data variant ``p["data"]``."""
    from vaecore import datasets
    from vaecore.perturb.artifact import read_record

    data = p["data"]
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    if data == "original":
        return config, _cached(datasets.load(config.dataset, **config.dataset_options), out, p), {}
    folder = _stage_inputs(spec, str(p.get("perturbation", "")), "perturbation stage")[0].artifacts
    if data == "modified":
        options = {"base": config.dataset, "base_options": dict(config.dataset_options),
                   "manipulator": str(folder)}
        if out is not None and p.get("cache"):  # x'' made once (uint8, error ≤ 1/510)
            options["cache"] = str(out / "perturbed-cache")
        config = config.replace(dataset="perturbed", dataset_options=options)
        return config, datasets.load(config.dataset, **config.dataset_options), {}
    eps = float(p["noise_eps"]) if p.get("noise_eps") is not None else float(read_record(folder).eps)
    base = datasets.load(config.dataset, **config.dataset_options)
    noisy = datasets.noisy(base, eps, seed=int(spec.seed), boundary="reflect")
    return config, _cached(noisy, out, p), {"noise_eps": eps}


def ch4_train_run(spec: Any, *, out: str | Path | None = None) -> dict:
    """Train (or reuse) one chapter-4 model on ``data`` and score ``spec.metrics`` on that variant."""
    from vaecore import evaluate, train

    p = dict(spec.params)
    check_option(spec.experiment, "data", p.get("data"), DATA)
    gated = gate_of(p.get("gate"), spec.inputs)
    if gated is not None and not gated[1]:
        return _skip(gated[0])
    config = _train_config(spec, p)
    if p["data"] == "original" and p.get("reuse"):
        reused = _reused(spec, p, config)
        if reused is not None:
            return reused
    config, dataset, extra = _variant(spec, p, config, None if out is None else Path(out))
    run = train(config, out=None if out is None else Path(out), resume=True, progress=False, dataset=dataset)
    result: dict[str, Any] = {"skipped": 0.0, "reused": 0.0, **extra}
    points = None if p.get("eval_points") is None else int(p["eval_points"])  # < 10⁴: the fast sizes
    if spec.metrics:
        evaluated = evaluate(run, metrics=tuple(spec.metrics), seed=int(spec.seed), n_points=points)
        result.update({m: _finite(evaluated[m]["value"]) for m in spec.metrics})
        if "mig" in spec.metrics and "per_factor" in evaluated["mig"]:
            result.update({f"mig_factor_{k}": _finite(v) for k, v in enumerate(evaluated["mig"]["per_factor"])})
    au = evaluate(run, metrics=("active_units",), seed=int(spec.seed), n_points=points)["active_units"]
    result["active_units"] = _finite(au["value"])
    result["n_factors"] = float(sum(int(k) > 1 for k in run.dataset.factor_sizes))
    polarized = dict(getattr(run, "polarized", None) or {})
    if "n_active" in polarized:
        result["n_active"] = _finite(polarized["n_active"])
    result["steps"] = int(getattr(run, "step", 0))
    if gated is not None:
        result.update(gated[0].metrics())
    return result


TRAIN_KEYS = tuple(sorted(set(_train_keys()) | set(OWN_TRAIN_KEYS)))
register_run_function("perturb", perturb_run, keys=PERTURB_KEYS)
register_run_function("ch4-train", ch4_train_run, keys=TRAIN_KEYS)
