"""The visuals people look at first: a traversal grid over every latent, its animated GIF, and a
reconstructions grid (issue 16 item 2; optional extras ``plot`` for matplotlib, Pillow for GIFs).

**Probe batch.** Every statistic comes from a fixed probe batch of the run's *test* split
(``run.split()[2]``, the 80/10/10 split of thesis §3.3.1): ``n`` indices drawn without replacement
by ``numpy.random.default_rng(seed)``, sorted.

**Row order.** Latents are sorted by their mean KL over the probe batch,
``KL_j = mean_b ½(μ_bj² + σ_bj² − log σ_bj² − 1)`` (the per-latent terms of eq. 2.6, in nats),
largest first (for the full-covariance β-VAE-Σ, from the marginal variances that ``encode``
returns). A latent with ``KL_j < collapsed_below`` (default 0.01 nats) encodes nothing: it
is *collapsed* (the passive latents of the polarized regime, thesis §3.2) and marked by a label
and a grey frame. Deterministic models (the AE: no posterior variance) are ordered by the
variance of μ_j instead and nothing is marked.

**Traversal values.** The base code ``z0`` is the mean posterior mean over the probe batch (as for
Fig. 3.6, §3.3.5); row ``j`` sets ``z_j = z0_j + o · s_j`` for the offsets
``o = linspace(−span, span, steps)`` (default span 2) and holds the other latents at ``z0``.
``mode="fitted"`` (default) uses disentanglement_lib's fitted Gaussian of the aggregate posterior
(``visualize/visualize_model.py``, "conf_interval_cycle": ``s_j = sqrt(mean σ_j² + var μ_j)``,
so ±2 standard deviations); ``mode="fixed"`` uses ``s_j = 1`` (± span in latent units, the
thesis's ±α of Fig. 3.6). Images are the decoder mean (sigmoid of the logits for a Bernoulli
decoder). The GIF has one frame per traversal step with every latent tiled in KL order (row-major),
as disentanglement_lib's ``visualize_util.save_animation``; a slider under the tiles shows the step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaecore._io import atomic_write
from vaecore._validation import check_float, check_int, check_option
from vaecore.report.traversals import _as_image, _decode_mean

__all__ = [
    "COLLAPSED_KL", "MODES", "ReconstructionGrid", "TraversalGrid", "draw_reconstructions",
    "draw_traversals", "latent_traversals", "per_latent_kl", "plot_reconstructions",
    "plot_traversals", "probe_indices", "reconstructions", "save_figure_atomic",
    "traversals_from_probe",
]

COLLAPSED_KL = 0.01
MODES: tuple[str, ...] = ("fitted", "fixed")
GREY = "0.55"


@dataclass(frozen=True)
class TraversalGrid:
    """Decoded traversals of every latent, rows sorted by ``score`` (largest first).

    ``images`` (d, steps, *observation_shape); ``values`` (d, steps) the latent value of each cell;
    ``offsets`` (steps,) in units of ``s_j``; ``order`` (d,) the latent index of each row; ``score``
    (d,) per row, mean KL in nats (``score_name="kl"``) or Var μ_j (``"var_mu"``); ``collapsed``
    (d,) bool per row; ``z0`` (d,) the base code in latent order; ``probe`` the test-split indices.
    """

    images: np.ndarray
    values: np.ndarray
    offsets: np.ndarray
    order: np.ndarray
    score: np.ndarray
    score_name: str
    collapsed: np.ndarray
    z0: np.ndarray
    mode: str
    observation_shape: tuple[int, ...]
    probe: np.ndarray


@dataclass(frozen=True)
class ReconstructionGrid:
    """``inputs`` and ``outputs`` (n, *observation_shape): test-split observations at ``indices``
    and the decoder mean of their posterior mean."""

    inputs: np.ndarray
    outputs: np.ndarray
    indices: np.ndarray
    observation_shape: tuple[int, ...]


def _as_run(run: Any, func: str) -> Any:
    if isinstance(run, (str, Path)):
        from vaecore import load_run

        return load_run(run)
    if not all(hasattr(run, a) for a in ("model", "split", "dataset", "observation_shape")):
        raise TypeError(f"{func}: run must be a vaecore Run or a run folder; got {type(run).__name__}")
    return run


def probe_indices(run: Any, n: int, seed: int = 0, *, func: str = "probe_indices") -> np.ndarray:
    """``n`` sorted indices drawn without replacement from the run's test split (seeded)."""
    n = check_int(func, "n", n, minimum=1)
    seed = check_int(func, "seed", seed, minimum=0)
    test = np.asarray(run.split()[2])
    if n > len(test):
        raise ValueError(f"{func}: n must be <= the {len(test)} observations of the test split; got {n}")
    return np.sort(np.random.default_rng(seed).choice(test, size=n, replace=False))


def _posterior(model: Any, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import torch

    model.eval()
    with torch.no_grad():
        mu, logvar = model.encode(torch.as_tensor(np.asarray(x), dtype=torch.float32))
    return mu.cpu().numpy().astype(np.float64), logvar.cpu().numpy().astype(np.float64)


def per_latent_kl(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Mean over the batch of KL(N(μ_j, σ_j²) ‖ N(0, 1)) per latent, in nats (eq. 2.6 terms)."""
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    if mu.ndim != 2 or mu.shape != logvar.shape:
        raise ValueError(
            f"per_latent_kl: mu and logvar must both be (B, d); got {mu.shape} and {logvar.shape}"
        )
    return 0.5 * (mu**2 + np.exp(logvar) - logvar - 1.0).mean(axis=0)


def traversals_from_probe(model: Any, x: np.ndarray, observation_shape: tuple[int, ...], *,
                          steps: int = 9, span: float = 2.0, mode: str = "fitted",
                          collapsed_below: float = COLLAPSED_KL,
                          probe: np.ndarray | None = None) -> TraversalGrid:
    """Traverse every latent of ``model`` from the probe batch ``x`` (see the module docstring)."""
    func = "latent_traversals"
    steps = check_int(func, "steps", steps, minimum=2)
    span = check_float(func, "span", span, minimum=0.0, strict=True)
    check_option(func, "mode", mode, MODES)
    collapsed_below = check_float(func, "collapsed_below", collapsed_below, minimum=0.0)
    mu, logvar = _posterior(model, x)
    stochastic = bool(getattr(model, "stochastic", True))
    score = per_latent_kl(mu, logvar) if stochastic else mu.var(axis=0)
    if not np.all(np.isfinite(score)):
        raise ValueError(f"{func}: the posterior on the probe batch is not finite (score {score})")
    order = np.argsort(-score, kind="stable")
    z0 = mu.mean(axis=0)
    scale = np.ones_like(z0)
    if mode == "fitted":  # dlib's fitted Gaussian: total variance of the aggregate posterior
        scale = np.sqrt(np.exp(logvar).mean(axis=0) + mu.var(axis=0))
    offsets = np.linspace(-span, span, steps)
    d = z0.size
    values = (z0[order, None] + offsets[None, :] * scale[order, None])  # (d, steps), row order
    z = np.repeat(z0[None, None, :], d * steps, axis=0).reshape(d, steps, d)
    z[np.arange(d), :, order] = values
    out = _decode_mean(model, z.reshape(d * steps, d).astype(np.float32))
    collapsed = score[order] < collapsed_below if stochastic else np.zeros(d, dtype=bool)
    return TraversalGrid(
        images=out.reshape(d, steps, *out.shape[1:]), values=values, offsets=offsets, order=order,
        score=score[order], score_name="kl" if stochastic else "var_mu", collapsed=collapsed,
        z0=z0, mode=mode, observation_shape=tuple(int(s) for s in observation_shape),
        probe=np.asarray(probe if probe is not None else np.arange(len(x))),
    )


def latent_traversals(run: Any, *, n_probe: int = 256, steps: int = 9, span: float = 2.0,
                      mode: str = "fitted", seed: int = 0,
                      collapsed_below: float = COLLAPSED_KL) -> TraversalGrid:
    """:func:`traversals_from_probe` on ``n_probe`` observations of the run's test split."""
    run = _as_run(run, "latent_traversals")
    idx = probe_indices(run, n_probe, seed, func="latent_traversals")
    return traversals_from_probe(run.model, run.dataset.observations_at(idx), run.observation_shape,
                                 steps=steps, span=span, mode=mode, collapsed_below=collapsed_below,
                                 probe=idx)


def reconstructions(run: Any, *, n: int = 8, seed: int = 0) -> ReconstructionGrid:
    """``n`` test-split observations and the decoder mean at their posterior mean."""
    run = _as_run(run, "reconstructions")
    idx = probe_indices(run, n, seed, func="reconstructions")
    x = np.asarray(run.dataset.observations_at(idx), dtype=np.float32)
    mu, _ = _posterior(run.model, x)
    out = _decode_mean(run.model, mu.astype(np.float32))
    return ReconstructionGrid(inputs=x, outputs=out, indices=idx,
                              observation_shape=tuple(int(s) for s in run.observation_shape))


def _draw_cell(ax: Any, x: np.ndarray, shape: tuple[int, ...]) -> None:
    if len(shape) >= 2:
        ax.imshow(_as_image(x, shape), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.bar(range(x.size), np.ravel(x), color="C0")
    ax.set_xticks([])
    ax.set_yticks([])


def _mark_collapsed(ax: Any) -> None:
    for spine in ax.spines.values():
        spine.set_edgecolor(GREY)
        spine.set_linewidth(3.0)


def plot_traversals(grid: TraversalGrid) -> Any:
    """Figure: one row per latent (largest KL first), one column per offset; collapsed rows grey."""
    from vaecore.report.figures import _figure

    d, steps = grid.values.shape
    fig, axes = _figure(nrows=d, ncols=steps, size=(0.8 * steps + 1.4, 0.8 * d + 0.6))
    unit = "σ" if grid.mode == "fitted" else ""
    label = "KL" if grid.score_name == "kl" else "Var μ"
    for r in range(d):
        for c in range(steps):
            ax = axes[r, c]
            _draw_cell(ax, grid.images[r, c], grid.observation_shape)
            if grid.collapsed[r]:
                _mark_collapsed(ax)
            if r == 0:
                ax.set_title(f"{grid.offsets[c]:+.1f}{unit}", fontsize=7)
        text = f"z{grid.order[r]}\n{label} {grid.score[r]:.2f}"
        if grid.collapsed[r]:
            text += "\ncollapsed"
        axes[r, 0].set_ylabel(text, fontsize=7, color=GREY if grid.collapsed[r] else "black")
    fig.suptitle(f"latent traversals ({grid.mode}), rows by {label} (collapsed: grey)", fontsize=8)
    return fig


def plot_reconstructions(grid: ReconstructionGrid) -> Any:
    """Figure: the inputs in the top row, their reconstructions below, one column each."""
    from vaecore.report.figures import _figure

    n = grid.inputs.shape[0]
    fig, axes = _figure(nrows=2, ncols=n, size=(0.9 * n + 0.8, 2.2))
    for c in range(n):
        _draw_cell(axes[0, c], grid.inputs[c], grid.observation_shape)
        _draw_cell(axes[1, c], grid.outputs[c], grid.observation_shape)
    axes[0, 0].set_ylabel("input", fontsize=8)
    axes[1, 0].set_ylabel("output", fontsize=8)
    return fig


def save_figure_atomic(fig: Any, stem: str | Path, formats: tuple[str, ...] = ("png", "pdf"),
                       *, dpi: int = 100) -> list[Path]:
    """Write ``stem.<fmt>`` for each format through :func:`vaecore._io.atomic_write`."""
    stem = Path(stem)
    return [atomic_write(stem.parent / f"{stem.name}.{fmt}",
                         lambda fh, fmt=fmt: fig.savefig(fh, format=fmt, dpi=dpi))
            for fmt in formats]


def draw_traversals(run: Any, out: str | Path, *, n_probe: int = 256, steps: int = 9,
                    span: float = 2.0, mode: str = "fitted", seed: int = 0, gif: bool = False,
                    fps: float = 4.0) -> list[Path]:
    """Traversal grid of ``run`` as ``out.png`` + ``out.pdf`` (+ ``out.gif`` with ``gif``)."""
    if gif:
        from vaecore.report.animation import require_pillow

        require_pillow()  # fail before the work
    grid = latent_traversals(run, n_probe=n_probe, steps=steps, span=span, mode=mode, seed=seed)
    paths = save_figure_atomic(plot_traversals(grid), out)
    if gif:
        from vaecore.report.animation import save_traversal_gif

        paths.append(save_traversal_gif(grid, Path(out).parent / f"{Path(out).name}.gif", fps=fps))
    return paths


def draw_reconstructions(run: Any, out: str | Path, *, n: int = 8, seed: int = 0) -> list[Path]:
    """Reconstructions grid of ``run`` as ``out.png`` + ``out.pdf``."""
    return save_figure_atomic(plot_reconstructions(reconstructions(run, n=n, seed=seed)), out)
