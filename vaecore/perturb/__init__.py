"""Datasets that break VAE disentanglement while keeping every factor (thesis §4.2.3–4.3.1,
Fig. 4.2–4.3; SPEC-ch4 §6).

>>> from vaecore import perturb, datasets
>>> sel = perturb.select_models("out/sweep", n=1)                      # top/bottom MIG β-VAEs
>>> res = perturb.train_manipulator(sel.disentangled, sel.entangled, eps=0.1, steps=200, out="mod")
>>> mod = datasets.load("perturbed", base="dsprites", manipulator="mod")  # x'' regenerated on the fly

Pipeline: :func:`select_models` (MIG ranking, over-pruned runs dropped, :func:`principal_order`),
:class:`Manipulator` m_ψ(w̃) with the factor encoding of :func:`encode_factors`,
:func:`train_manipulator` (frozen encoders, decoders on x'', ψ on L_ent − L_dis), the stored
artifact (:func:`load_manipulator`), :func:`preview` (Fig. 4.3) and :func:`export`.
"""

from vaecore.perturb.artifact import BaseRecord, PerturbationRecord, load_manipulator, save_manipulator
from vaecore.perturb.encoding import FactorEncoding, encode_factors
from vaecore.perturb.export import export
from vaecore.perturb.figures import preview
from vaecore.perturb.manipulator import Manipulator, ManipulatorSpec, perturb_array, reflect
from vaecore.perturb.select import RunScore, Selection, find_runs, principal_order, select_models
from vaecore.perturb.train import PerturbationResult, PerturbConfig, train_manipulator

__all__ = [
    "BaseRecord",
    "FactorEncoding",
    "Manipulator",
    "ManipulatorSpec",
    "PerturbConfig",
    "PerturbationRecord",
    "PerturbationResult",
    "RunScore",
    "Selection",
    "encode_factors",
    "export",
    "find_runs",
    "load_manipulator",
    "perturb_array",
    "preview",
    "principal_order",
    "reflect",
    "save_manipulator",
    "select_models",
    "train_manipulator",
]
