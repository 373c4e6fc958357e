"""Disentanglement and orthogonality metrics (thesis chapter 3, §3.3; chapter 4)."""

from vaecore.metrics.beta_vae import BetaVAEResult, beta_vae_score
from vaecore.metrics.dci import DCIResult, dci
from vaecore.metrics.ds import DSResult, ds
from vaecore.metrics.dto import DtOResult, closest_signed_permutation, dto
from vaecore.metrics.factor_vae import FactorVAEResult, factor_vae_score
from vaecore.metrics.mig import MIGResult, mig
from vaecore.metrics.on_model import REPRESENTATION_METRICS, score_representation
from vaecore.metrics.polarized import (
    ActiveUnitsResult,
    PolarizedResult,
    active_units,
    polarized_regime,
)
from vaecore.metrics.sampling import sample_codes
from vaecore.metrics.sap import SAPResult, sap

__all__: list[str] = [
    "ActiveUnitsResult",
    "BetaVAEResult",
    "DCIResult",
    "DSResult",
    "DtOResult",
    "FactorVAEResult",
    "MIGResult",
    "PolarizedResult",
    "REPRESENTATION_METRICS",
    "SAPResult",
    "active_units",
    "beta_vae_score",
    "closest_signed_permutation",
    "dci",
    "ds",
    "dto",
    "factor_vae_score",
    "mig",
    "polarized_regime",
    "sample_codes",
    "sap",
    "score_representation",
]
