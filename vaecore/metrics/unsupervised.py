"""disentanglement_lib's unsupervised scores: Gaussian total correlation, Gaussian
Wasserstein correlation and the mutual-information score of the latents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vaecore._validation import check_array, check_int
from vaecore.metrics._histogram import histogram_discretize, mutual_info_matrix
from vaecore.metrics._result import MetricResult


@dataclass(frozen=True)
class GaussianTCResult(MetricResult):
    """Result of :func:`gaussian_total_correlation`.

    Attributes
    ----------
    value : float
        KL(N(0, Σ) ‖ N(0, diag Σ)) = ½ (Σ_j log Σ_jj − log det Σ), in nats.
    covariance : ndarray (n_latents, n_latents)
        Σ, the sample covariance of the codes (ddof=1).
    """

    value: float
    covariance: np.ndarray


@dataclass(frozen=True)
class GaussianWassersteinResult(MetricResult):
    """Result of :func:`gaussian_wasserstein_correlation`.

    Attributes
    ----------
    value : float
        2 tr Σ − 2 tr (D Σ)^½ with D = diag Σ: disentanglement_lib's squared 2-Wasserstein
        distance between N(0, Σ) and the product of its marginals.
    normalized : float
        ``value / tr Σ`` (``gaussian_wasserstein_correlation_norm``).
    covariance : ndarray (n_latents, n_latents)
        Σ (ddof=1).
    """

    value: float
    normalized: float
    covariance: np.ndarray


@dataclass(frozen=True)
class LatentMutualInfoResult(MetricResult):
    """Result of :func:`latent_mutual_info`.

    Attributes
    ----------
    value : float
        Mean of I(z_j; z_k) over the ordered pairs j ≠ k (nats; both latents in ``n_bins``
        histogram bins): disentanglement_lib's ``mutual_info_score``.
    matrix : ndarray (n_latents, n_latents)
        I(z_j; z_k), zero diagonal.
    """

    value: float
    matrix: np.ndarray


def _codes(func: str, codes: Any, min_latents: int) -> np.ndarray:
    z = check_array(func, "codes", codes, ndim=2, min_rows=2)
    if z.shape[1] < min_latents:
        raise ValueError(
            f"{func}: codes must have at least {min_latents} latents (columns); got shape {z.shape}"
        )
    return z


def _cov(z: np.ndarray) -> np.ndarray:
    return np.atleast_2d(np.cov(z, rowvar=False))


def gaussian_total_correlation(codes: Any) -> GaussianTCResult:
    """Total correlation of the Gaussian fitted to the codes, as disentanglement_lib's
    ``gaussian_total_correlation`` (``evaluation/metrics/unsupervised_metrics.py``) applied to
    ``np.cov`` of the codes: ½ (Σ_j log Σ_jj − log det Σ) ≥ 0, zero iff Σ is diagonal.

    Parameters
    ----------
    codes : array (n_samples, n_latents)
        The representation; its covariance must be nonsingular (no constant or collinear
        latents, more samples than latents), where disentanglement_lib returns NaN or inf.

    Returns
    -------
    GaussianTCResult
    """
    func = "gaussian_total_correlation"
    z = _codes(func, codes, 1)
    cov = _cov(z)
    flat = np.flatnonzero(np.diag(cov) <= 0.0)
    if flat.size:
        raise ValueError(
            f"{func}: codes must vary in every latent (log Σ_jj); got constant latent(s) {flat.tolist()}"
        )
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0 or not np.isfinite(logdet):
        raise ValueError(
            f"{func}: codes must have a nonsingular covariance (no collinear latents, more "
            f"samples than latents); got a singular {cov.shape[0]}x{cov.shape[0]} covariance "
            f"from {z.shape[0]} samples"
        )
    return GaussianTCResult(value=float(0.5 * (np.sum(np.log(np.diag(cov))) - logdet)), covariance=cov)


def gaussian_wasserstein_correlation(codes: Any) -> GaussianWassersteinResult:
    """Gaussian Wasserstein correlation, as disentanglement_lib's
    ``gaussian_wasserstein_correlation`` (``evaluation/metrics/unsupervised_metrics.py``):
    2 tr Σ − 2 tr sqrtm(D Σ) with Σ = ``np.cov`` of the codes and D = diag Σ.

    D Σ is similar to the symmetric PSD D^½ Σ D^½, so tr sqrtm(D Σ) is computed as the sum
    of the square roots of that matrix's eigenvalues (dlib calls ``scipy.linalg.sqrtm``; the
    two agree to rounding, and this one never returns complex values).

    Parameters
    ----------
    codes : array (n_samples, n_latents)
        The representation (``normalized`` needs at least one varying latent).

    Returns
    -------
    GaussianWassersteinResult
    """
    func = "gaussian_wasserstein_correlation"
    z = _codes(func, codes, 1)
    cov = _cov(z)
    trace = float(np.trace(cov))
    if trace <= 0.0:
        raise ValueError(f"{func}: codes must vary in at least one latent; got all latents constant")
    root = np.sqrt(np.diag(cov))
    eig = np.linalg.eigvalsh(root[:, None] * cov * root[None, :])
    value = 2.0 * trace - 2.0 * float(np.sum(np.sqrt(np.clip(eig, 0.0, None))))
    return GaussianWassersteinResult(value=value, normalized=value / trace, covariance=cov)


def latent_mutual_info(codes: Any, *, n_bins: int = 20, backend: str = "auto") -> LatentMutualInfoResult:
    """Mean pairwise mutual information of the latents, as disentanglement_lib's
    ``mutual_info_score`` in ``unsupervised_metrics`` (``evaluation/metrics/unsupervised_metrics.py``).

    Every latent is discretised into ``n_bins`` equal-width histogram bins (as MIG); the score
    is Σ_{j≠k} I(z_j; z_k) / (d² − d) in nats. A constant latent shares no information.
    The d × d table is filled by MIG's C++ kernel, d passes over the n × d codes.

    Parameters
    ----------
    codes : array (n_samples, n_latents)
        The representation (at least 2 latents).
    n_bins : int
        Histogram bins per latent (dlib's ``discretizer.num_bins``: 20).
    backend : {"auto", "native", "reference"}
        Mutual information by the C++ kernel or its sklearn twin (agree to 1e-12).

    Returns
    -------
    LatentMutualInfoResult
    """
    func = "latent_mutual_info"
    z = _codes(func, codes, 2)
    n_bins = check_int(func, "n_bins", n_bins, minimum=2)
    binned = histogram_discretize(func, "codes", z, n_bins)
    mi, _ = mutual_info_matrix(func, "codes", z, binned, n_bins, backend)
    mi = 0.5 * (mi + mi.T)  # I is symmetric; average the two float orders of the sums
    np.fill_diagonal(mi, 0.0)
    d = z.shape[1]
    return LatentMutualInfoResult(value=float(mi.sum() / (d * d - d)), matrix=mi)


@dataclass(frozen=True)
class UnsupervisedResult(MetricResult):
    """Result of :func:`unsupervised_scores`: disentanglement_lib's ``unsupervised_metrics``
    dictionary (same key names) in one object.

    Attributes
    ----------
    value : float
        The Gaussian total correlation.
    gaussian_total_correlation, gaussian_wasserstein_correlation,
    gaussian_wasserstein_correlation_norm, mutual_info_score : float
        As :func:`gaussian_total_correlation`, :func:`gaussian_wasserstein_correlation`
        (value and normalized) and :func:`latent_mutual_info`.
    """

    value: float
    gaussian_total_correlation: float
    gaussian_wasserstein_correlation: float
    gaussian_wasserstein_correlation_norm: float
    mutual_info_score: float


def unsupervised_scores(codes: Any, *, n_bins: int = 20, backend: str = "auto") -> UnsupervisedResult:
    """All of disentanglement_lib's ``unsupervised_metrics``
    (``evaluation/metrics/unsupervised_metrics.py``) on one array of codes: Gaussian total
    correlation, Gaussian Wasserstein correlation (and its normalised form) and the
    mutual-information score; the contracts (and errors) are those of the three functions.
    """
    tc = gaussian_total_correlation(codes)
    wc = gaussian_wasserstein_correlation(codes)
    mi = latent_mutual_info(codes, n_bins=n_bins, backend=backend)
    return UnsupervisedResult(
        value=tc.value,
        gaussian_total_correlation=tc.value,
        gaussian_wasserstein_correlation=wc.value,
        gaussian_wasserstein_correlation_norm=wc.normalized,
        mutual_info_score=mi.value,
    )
