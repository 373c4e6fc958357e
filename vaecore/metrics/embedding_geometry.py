"""Polar-vs-cartesian embedding detector for two latents and two factors (SPEC-ch4 §7;
beyond the thesis: §4.3.6's claim that disentangled β-VAE runs embed wall hue × orientation
on a grid ("cartesian") and entangled ones with the hue as the angle and the orientation as
the radius, made a number)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vaecore._validation import check_array, check_int
from vaecore.metrics._histogram import mutual_info_matrix
from vaecore.metrics._result import MetricResult

_FUNC = "embedding_geometry"
#: |polarity| above which a label other than "mixed" is given, and the score it needs.
POLARITY_MARGIN = 0.15
MIN_SCORE = 0.3


@dataclass(frozen=True)
class EmbeddingGeometryResult(MetricResult):
    """Result of :func:`embedding_geometry`.

    Attributes
    ----------
    value : float
        The polarity, score_polar − score_cartesian ∈ [−1, 1].
    label : str
        "polar" (polarity > 0.15 and score_polar > 0.3), "cartesian" (polarity < −0.15
        and score_cartesian > 0.3) or "mixed".
    score_polar, score_cartesian : float
        How well the polar coordinates (r, θ) resp. the two latents (z_a, z_b) separate the
        two factors one-to-one, ∈ [0, 1].
    angular_factor : str
        "cyclic" or "linear": the factor that θ carries in the best polar assignment.
    cyclic_latent : int
        0 or 1: the latent that carries the cyclic factor in the best cartesian assignment.
    m_polar, m_cartesian : ndarray (2, 2)
        M[k, i] = I(s_k; f_i) / H(f_i), rows (r, θ) resp. (z_a, z_b), columns (cyclic,
        linear), averaged over the groups.
    n_groups : int
        Number of groups M was averaged over.
    """

    value: float
    label: str
    score_polar: float
    score_cartesian: float
    angular_factor: str
    cyclic_latent: int
    m_polar: np.ndarray
    m_cartesian: np.ndarray
    n_groups: int


def _inputs(codes: Any, factor_cyclic: Any, factor_linear: Any, groups: Any):
    z = check_array(_FUNC, "codes", codes, ndim=2, min_rows=2)
    if z.shape[1] != 2:
        raise ValueError(f"{_FUNC}: codes must have exactly 2 latents (columns); got shape {z.shape}")
    cols = []
    for name, f in (("factor_cyclic", factor_cyclic), ("factor_linear", factor_linear), ("groups", groups)):
        if f is None:
            cols.append(np.zeros(z.shape[0]))
            continue
        col = check_array(_FUNC, name, f, ndim=1)
        if col.shape[0] != z.shape[0]:
            raise ValueError(
                f"{_FUNC}: {name} must have one entry per row of codes ({z.shape[0]}); got {col.shape[0]}"
            )
        cols.append(col)
    return z, np.stack(cols[:2], axis=1), cols[2]


def _m_matrices(
    z: np.ndarray, w: np.ndarray, n_bins: int, backend: str, g: Any
) -> tuple[np.ndarray, np.ndarray]:
    """(M_cartesian, M_polar), each (2 codes, 2 factors), of one group."""
    if z.shape[0] < 2:
        raise ValueError(f"{_FUNC}: every group must hold at least 2 samples; got 1 in group {g}")
    std = z.std(axis=0)
    c = (z - z.mean(axis=0)) / np.where(std > 0.0, std, 1.0)
    p = np.stack([np.hypot(c[:, 0], c[:, 1]), np.arctan2(c[:, 1], c[:, 0])], axis=1)
    out = []
    for name, s in (("cartesian codes", c), ("polar codes", p)):
        mi, ent = mutual_info_matrix(_FUNC, name, s, w, n_bins, backend)
        if np.any(ent <= 0.0):
            which = ["factor_cyclic", "factor_linear"][int(np.argmin(ent))]
            raise ValueError(
                f"{_FUNC}: {which} must take at least 2 values in every group (H(f) > 0); "
                f"got a constant one in group {g}"
            )
        out.append((mi / ent[:, None]).T)
    return out[0], out[1]


def _score(m: np.ndarray) -> tuple[float, bool]:
    """max over the two one-to-one assignments of ½ Σ_i (M[π(i), i] − M[π'(i), i]);
    True when the identity (code 0 ↔ cyclic factor) is the better one."""
    a = 0.5 * (m[0, 0] - m[1, 0] + m[1, 1] - m[0, 1])
    return float(abs(a)), bool(a >= 0.0)


def embedding_geometry(
    codes: Any,
    factor_cyclic: Any,
    factor_linear: Any,
    *,
    groups: Any = None,
    n_bins: int = 10,
    backend: str = "auto",
) -> EmbeddingGeometryResult:
    """Is a two-latent embedding of two factors polar (rings) or cartesian (a grid)?
    SPEC-ch4 §7; checks: SPEC-ch4 §10 check 7.

    Within each group (e.g. one 150-image wall-hue × orientation sub-grid of Shapes3D with the
    other factors fixed) the codes are standardised per latent, C = (z_a, z_b) and
    P = (r, θ) about the code mean. For S ∈ {C, P}, M_S[k, i] = I(s_k; f_i) / H(f_i) with
    s_k in ``n_bins`` equal-width histogram bins (disentanglement_lib's discretizer, as MIG)
    and f_i the factor's classes; M is averaged over the groups. Then
    score_S = max over the two one-to-one assignments π of ½ Σ_i (M_S[π(i), i] − M_S[π'(i), i])
    (π' pairs each factor with the other code), polarity = score_P − score_C, and the label is
    "polar" if polarity > 0.15 and score_P > 0.3, "cartesian" if polarity < −0.15 and
    score_C > 0.3, else "mixed".

    Invariant to translating and rescaling either latent (standardisation); swapping the
    latents leaves score_C, the label and the named factors unchanged and moves score_P only
    through where θ's bins fall.

    Parameters
    ----------
    codes : array (n_samples, 2)
        The two latents.
    factor_cyclic, factor_linear : array (n_samples,)
        The two factors' values (e.g. wall hue, a cyclic quantity, and orientation); the
        detector does not use which one is cyclic, it only names them in the result.
    groups : array (n_samples,), optional
        Group label of each sample; M is computed per group and averaged. None: one group.
    n_bins : int
        Histogram bins per coordinate (SPEC: 10).
    backend : {"auto", "native", "reference"}
        Mutual information by MIG's C++ kernel or its sklearn twin.

    Returns
    -------
    EmbeddingGeometryResult
    """
    z, w, g = _inputs(codes, factor_cyclic, factor_linear, groups)
    n_bins = check_int(_FUNC, "n_bins", n_bins, minimum=2)
    labels = np.unique(g)
    mc, mp = np.zeros((2, 2)), np.zeros((2, 2))
    for value in labels:
        rows = g == value
        c, p = _m_matrices(z[rows], w[rows], n_bins, backend, value.item())
        mc += c / labels.size
        mp += p / labels.size
    score_c, cyclic_first_c = _score(mc)
    score_p, cyclic_is_r = _score(mp)
    polarity = score_p - score_c
    if polarity > POLARITY_MARGIN and score_p > MIN_SCORE:
        label = "polar"
    elif polarity < -POLARITY_MARGIN and score_c > MIN_SCORE:
        label = "cartesian"
    else:
        label = "mixed"
    return EmbeddingGeometryResult(
        value=float(polarity),
        label=label,
        score_polar=score_p,
        score_cartesian=score_c,
        angular_factor="linear" if cyclic_is_r else "cyclic",
        cyclic_latent=0 if cyclic_first_c else 1,
        m_polar=mp,
        m_cartesian=mc,
        n_groups=int(labels.size),
    )
