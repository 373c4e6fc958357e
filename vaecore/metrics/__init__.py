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
from vaecore.metrics.modularity_explicitness import (
    ModularityExplicitnessResult,
    modularity_explicitness,
)
from vaecore.metrics.irs import IRSResult, irs
from vaecore.metrics.unsupervised import (
    GaussianTCResult,
    GaussianWassersteinResult,
    LatentMutualInfoResult,
    UnsupervisedResult,
    gaussian_total_correlation,
    gaussian_wasserstein_correlation,
    latent_mutual_info,
    unsupervised_scores,
)
from vaecore.metrics.udr import UDRResult, gaussian_kl_per_latent, udr
from vaecore.metrics.embedding_geometry import EmbeddingGeometryResult, embedding_geometry

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
    "ModularityExplicitnessResult",
    "modularity_explicitness",
    "IRSResult",
    "irs",
    "GaussianTCResult",
    "GaussianWassersteinResult",
    "LatentMutualInfoResult",
    "UnsupervisedResult",
    "gaussian_total_correlation",
    "gaussian_wasserstein_correlation",
    "latent_mutual_info",
    "unsupervised_scores",
    "UDRResult",
    "gaussian_kl_per_latent",
    "udr",
    "EmbeddingGeometryResult",
    "embedding_geometry",
]
