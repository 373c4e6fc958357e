"""``vaecore.evaluate``: metrics of a trained run, through a registry of evaluators.

An evaluator is ``fn(run, *, seed) -> dict`` (optionally also taking ``n_points``) whose dict
holds at least ``"value"``; register one with ``@register_evaluator("name")``. Built in:

* ``dto`` — distance to orthogonality (thesis §3.3, :func:`vaecore.metrics.dto`) of the decoder
  Jacobians (:func:`vaecore.jacobians`, of the decoder mean) at the posterior means of a sample of
  ``n_points`` (default 1000) test-split points, restricted to latents by the active-latent rule
  of :mod:`vaecore.evaluation_options`; options :class:`~vaecore.evaluation_options.DtoOptions`.
* ``ds`` — the disentanglement score (:func:`vaecore.metrics.ds`) of the test-split posterior
  means against the factors (``n_points`` default: the whole test split, at most 10,000),
  categorical factors as the dataset's ``factor_kinds`` say.
* ``polarized`` — :func:`vaecore.metrics.polarized_regime` on the test split (value = ΔKL) with
  the active units (E σ² < 0.8) added.
* ``active_units`` — :func:`vaecore.metrics.active_units` on the test split.
* ``mig``, ``sap``, ``dci``, ``factor_vae``, ``beta_vae`` — through
  :func:`vaecore.metrics.score_representation` on fresh samples of the dataset's generative process
  with disentanglement_lib's sizes (``fast=True`` presets when ``n_points`` is given and below
  10,000); they need a dataset that can sample factors (not an ``ArrayDataset``). DCI's tree
  estimator is an explicit option (:class:`~vaecore.evaluation_options.DciOptions`, default
  sklearn), recorded in its result.
"""

from __future__ import annotations

import inspect
from dataclasses import asdict
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["EVALUATORS", "evaluate", "register_evaluator", "sample_test_split"]

EVALUATORS: dict[str, Callable[..., dict[str, Any]]] = {}

DTO_POINTS = 1000
DS_POINTS = 10_000


def register_evaluator(name: str) -> Callable[[Callable[..., dict[str, Any]]], Callable[..., dict[str, Any]]]:
    """Decorator registering ``fn(run, *, seed[, n_points]) -> dict`` as metric ``name``."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"register_evaluator: name must be a non-empty string; got {name!r}")

    def deco(fn: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        EVALUATORS[name] = fn
        return fn

    return deco


def sample_test_split(run: Any, n_points: int | None, seed: int) -> np.ndarray:
    """Indices of (a sample of ``n_points`` of) the run's test split, sorted."""
    test = np.asarray(run.split()[2])
    if n_points is not None and n_points < test.size:
        test = np.random.default_rng(seed).choice(test, size=n_points, replace=False)
    return np.sort(test)


@torch.no_grad()
def _posterior(run: Any, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    model = run.model
    param = next(model.parameters())
    was_training = model.training
    model.eval()
    mus, lvs = [], []
    try:
        for i in range(0, idx.size, 2048):
            x = torch.as_tensor(np.asarray(run.dataset.observations_at(idx[i : i + 2048]), dtype=np.float32))
            mu, lv = model.encode(x.to(param.device))
            mus.append(mu.double().cpu().numpy())
            lvs.append(lv.double().cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(mus), np.concatenate(lvs)


@register_evaluator("dto")
def _dto(
    run: Any, *, seed: int, n_points: int | None = None, points: str = "posterior", latents: str = "auto"
) -> dict[str, Any]:
    """DtO of the decoder Jacobians (thesis §3.2.6, eq. 3.25) at ``n_points`` latent codes.

    Options are those of :class:`vaecore.evaluation_options.DtoOptions`:

    * ``points="posterior"`` (default, the thesis's definition: "for each x(i) the Jacobian of
      the decoder at x(i)"): the posterior means μ(x) of a seeded sample of test-split points.
      ``points="prior"``: ``n_points`` seeded samples z ~ N(0, I), the decoder's input
      distribution in the generative model (the random-decoder baseline of Table 3.3, whose
      untrained encoder maps every input to almost the same code).
    * ``latents``: which latents J is restricted to, by the active-latent rule
      (:func:`~vaecore.evaluation_options.dto_latents_for` for "auto",
      :func:`~vaecore.evaluation_options.active_latents`).

    Besides the value, the result holds ``n_active`` (the latents the DtO was taken over),
    ``latents`` (the rule applied) and ``n_active_directions``: how many principal directions of
    the evaluation codes have a standard deviation above the same 0.5 (eigenvalues of their
    covariance above 0.25), the rotation-invariant count of the directions the encoder uses.
    Where it is below ``n_active``, some of the latents span directions the decoder hardly uses
    (near-zero singular values, whose V columns are ill-defined, Prop. 1).
    """
    from vaecore import jacobians
    from vaecore.evaluation_options import ACTIVE_SPREAD, DtoOptions, active_latents, dto_latents_for
    from vaecore.metrics import dto

    if not getattr(run.model, "has_decoder", True):  # PCL, the weak GAN: a clear error
        run.model.require_decoder("DtO")
    opts = DtoOptions(points=points, latents=latents)
    if opts.latents == "auto":
        latents = dto_latents_for(getattr(getattr(run, "config", None), "model", None))
    n = n_points or DTO_POINTS
    if opts.points == "posterior":
        idx = sample_test_split(run, n, seed)
        codes, _ = _posterior(run, idx)
        n = int(idx.size)
    else:
        codes = np.random.default_rng(seed).standard_normal((n, run.model.latent_dim))
    spread = np.linalg.eigvalsh(np.atleast_2d(np.cov(codes, rowvar=False))) if len(codes) > 1 else np.zeros(1)
    active = active_latents(codes, latents)
    param = next(run.model.parameters())
    z = torch.as_tensor(codes, dtype=param.dtype, device=param.device)
    J = jacobians(run.model.decoder, z, of="mean")
    out = dto(J, active=active).as_dict()
    out["n_points"] = n
    out["n_active"] = int(active.sum())
    out["n_active_directions"] = int((spread > ACTIVE_SPREAD**2).sum())
    out["points"] = opts.points
    out["latents"] = latents
    return out


@register_evaluator("ds")
def _ds(run: Any, *, seed: int, n_points: int | None = None) -> dict[str, Any]:
    from vaecore.metrics import ds

    idx = sample_test_split(run, n_points or DS_POINTS, seed)
    mu, _ = _posterior(run, idx)
    factors = np.asarray(run.dataset.factors_at(idx))
    categorical = [k == "categorical" for k in run.dataset.factor_kinds]
    out = ds(mu, factors, categorical=categorical, seed=seed).as_dict()
    out["n_points"] = int(idx.size)
    return out


@register_evaluator("polarized")
def _polarized(run: Any, *, seed: int, n_points: int | None = None) -> dict[str, Any]:
    from vaecore.metrics import active_units, polarized_regime

    mu, lv = _posterior(run, sample_test_split(run, n_points or DS_POINTS, seed))
    out = polarized_regime(mu, lv).as_dict()
    out["active_units"] = active_units(lv).value
    return out


@register_evaluator("active_units")
def _active_units(run: Any, *, seed: int, n_points: int | None = None) -> dict[str, Any]:
    from vaecore.metrics import active_units

    _, lv = _posterior(run, sample_test_split(run, n_points or DS_POINTS, seed))
    return active_units(lv).as_dict()


def _representation_evaluator(metric: str) -> Callable[..., dict[str, Any]]:
    def fn(run: Any, *, seed: int, n_points: int | None = None) -> dict[str, Any]:
        from vaecore.metrics import score_representation

        fast = n_points is not None and n_points < 10_000
        return score_representation(metric, run.dataset, run.model.represent, seed=seed, fast=fast).as_dict()

    fn.__name__ = f"_{metric}"
    fn.__doc__ = f"{metric} of the run's representation (vaecore.metrics.score_representation)."
    return fn


for _metric in ("mig", "sap", "factor_vae", "beta_vae", "modularity_explicitness", "irs"):
    register_evaluator(_metric)(_representation_evaluator(_metric))


@register_evaluator("unsupervised")
def _unsupervised(run: Any, *, seed: int, n_points: int | None = None) -> dict[str, Any]:
    """disentanglement_lib's unsupervised scores (Gaussian total correlation, Gaussian
    Wasserstein correlation, mutual-information score) of the posterior means on the test split."""
    from vaecore.metrics import unsupervised_scores

    idx = sample_test_split(run, n_points or 10_000, seed)
    mu, _ = _posterior(run, idx)
    out = unsupervised_scores(mu).as_dict()
    out["n_points"] = int(idx.size)
    return out


@register_evaluator("dci")
def _dci(run: Any, *, seed: int, n_points: int | None = None, estimator: str = "sklearn") -> dict[str, Any]:
    """DCI of the run's representation with the tree ``estimator`` of
    :class:`~vaecore.evaluation_options.DciOptions` (never chosen by what is installed); the
    result records it as ``estimator``."""
    from vaecore.evaluation_options import DciOptions
    from vaecore.metrics import score_representation

    opts = DciOptions(estimator=estimator)
    fast = n_points is not None and n_points < 10_000
    out = score_representation("dci", run.dataset, run.model.represent, seed=seed, fast=fast,
                               estimator=opts.estimator).as_dict()
    out["estimator"] = opts.estimator
    return out


def _check_options(func: str, names: list[str], options: Mapping[str, Any] | None) -> dict[str, Any]:
    """Typed options per metric (:mod:`vaecore.evaluation_options`) from mappings or dataclasses."""
    from vaecore.evaluation_options import options_from_dict

    out = {}
    for name, opts in ({} if options is None else dict(options)).items():
        if name not in names:
            raise ValueError(f"{func}: options must name metrics among {tuple(names)}; got {name!r}")
        try:
            out[name] = options_from_dict(name, opts)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{func}: {exc}") from None
    return out


def evaluate(
    run: Any,
    metrics: Iterable[str] = ("dto", "ds"),
    *,
    seed: int = 0,
    n_points: int | None = None,
    errors: str = "raise",
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Evaluate a trained run with registered metrics.

    Parameters
    ----------
    run
        A :class:`vaecore.training.Run` or the path of a run folder.
    metrics
        Names of registered evaluators (see :data:`EVALUATORS`).
    seed
        Seed of the point sampling and of the metrics.
    n_points
        Test points per metric; None uses each evaluator's default.
    errors
        "raise" (default) or "record": a failing metric becomes ``{"error": "..."}`` and the
        others are still computed.
    options
        Options per metric: the dataclasses of :mod:`vaecore.evaluation_options` (e.g.
        ``{"dto": DtoOptions(points="prior")}``) or mappings of their fields
        (``{"dci": {"estimator": "lightgbm"}}``); each metric must be among ``metrics``.

    Returns
    -------
    dict
        One entry per metric, each a dict with ``"value"`` (JSON-able).
    """
    from vaecore._validation import check_int, check_option
    from vaecore.training.run import load_run

    func = "evaluate"
    check_option(func, "errors", errors, ("raise", "record"))
    seed = check_int(func, "seed", seed, minimum=0)
    if n_points is not None:
        n_points = check_int(func, "n_points", n_points, minimum=2)
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    for name in names:
        if name not in EVALUATORS:
            raise ValueError(f"{func}: metrics must be among {tuple(sorted(EVALUATORS))}; got {name!r}")
    options = _check_options(func, names, options)
    if isinstance(run, (str, Path)):
        run = load_run(run)
    results: dict[str, dict[str, Any]] = {}
    for name in names:
        fn = EVALUATORS[name]
        kwargs: dict[str, Any] = {"seed": seed}
        if "n_points" in inspect.signature(fn).parameters:
            kwargs["n_points"] = n_points
        if name in options:
            kwargs.update(asdict(options[name]))
        try:
            res = fn(run, **kwargs)
        except Exception as exc:
            if errors == "raise":
                raise
            res = {"value": None, "error": f"{type(exc).__name__}: {exc}"}
        if "value" not in res:
            raise ValueError(f"{func}: evaluator {name!r} returned no 'value'")
        results[name] = res
    return results
