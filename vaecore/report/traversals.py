"""Latent traversals of a trained model: 1-D (Fig. 3.6 "nonlinear eigenfaces") and 2-D grids.

Works with any model following vaecore's model interface: ``encode(x) -> (mu, logvar)``,
``decode(z)`` (logits for a Bernoulli decoder, the mean for a Gaussian one; the decoder's
``likelihood`` attribute says which) and ``latent_dim``.

Fig. 3.6 (§3.3.5): start from ``z_mean``, the mean posterior mean of 300 random data points,
and decode ``z_mean ± α e_i`` (α = 2.5) for the 5 latents with the smallest mean posterior
σ_j — the β-VAE's "principal components", ordered by how much variance they carry (§3.2.4).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _torch():
    import torch

    return torch


def _decode_mean(model, z: np.ndarray) -> np.ndarray:
    torch = _torch()
    model.eval()
    with torch.no_grad():
        out = model.decode(torch.as_tensor(z, dtype=torch.float32))
        decoder = getattr(model, "decoder", model)
        if getattr(decoder, "likelihood", None) == "bernoulli":
            out = torch.sigmoid(out)
    return out.detach().cpu().numpy()


def latent_statistics(model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean posterior mean ``z_mean`` (d,) and mean posterior σ per latent (d,) over ``x``."""
    torch = _torch()
    model.eval()
    with torch.no_grad():
        mu, logvar = model.encode(torch.as_tensor(np.asarray(x), dtype=torch.float32))
    mu, logvar = mu.cpu().numpy(), logvar.cpu().numpy()
    return mu.mean(axis=0), np.exp(0.5 * logvar).mean(axis=0)


def eigenface_latents(mean_sigma: np.ndarray, k: int = 5) -> np.ndarray:
    """Indices of the ``k`` latents with the smallest mean σ_j (most informative first)."""
    k = min(int(k), len(mean_sigma))
    return np.argsort(mean_sigma, kind="stable")[:k]


def traverse_1d(model, z0: np.ndarray, latents: Sequence[int], *, alpha: float = 2.5) -> np.ndarray:
    """Decode ``[z0, z0 − α e_i, z0 + α e_i for i in latents]`` → (1 + 2k, *out)."""
    z = [np.asarray(z0, dtype=np.float32)]
    for i in latents:
        for s in (-alpha, alpha):
            zi = z[0].copy()
            zi[i] += s
            z.append(zi)
    return _decode_mean(model, np.stack(z))


def traverse_2d(model, z0: np.ndarray, i: int, j: int, values: Sequence[float]) -> np.ndarray:
    """Decode the grid ``z0 + a e_i + b e_j`` for a, b in ``values`` → (n, n, *out) (a = row)."""
    values = np.asarray(values, dtype=np.float32)
    n = len(values)
    z = np.repeat(np.asarray(z0, dtype=np.float32)[None], n * n, axis=0)
    z[:, i] += np.repeat(values, n)
    z[:, j] += np.tile(values, n)
    out = _decode_mean(model, z)
    return out.reshape(n, n, *out.shape[1:])


def _as_image(x: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    img = np.asarray(x).reshape(shape)
    if img.ndim == 3:  # (C, H, W) -> (H, W, C)
        img = np.moveaxis(img, 0, -1)
        if img.shape[-1] == 1:
            img = img[..., 0]
    return np.clip(img, 0.0, 1.0)


def plot_traversal_grid(grid: np.ndarray, values: Sequence[float], latents: tuple[int, int],
                        observation_shape: Sequence[int]):
    """Figure of a 2-D traversal: images in a grid, or (non-image data) the decoded points."""
    from vaecore.report.figures import _figure

    n = grid.shape[0]
    i, j = latents
    if len(observation_shape) >= 2:
        fig, axes = _figure(nrows=n, ncols=n, size=(1.1 * n, 1.1 * n))
        for a in range(n):
            for b in range(n):
                ax = axes[a, b]
                ax.imshow(_as_image(grid[a, b], observation_shape), cmap="gray", vmin=0, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                if b == 0:
                    ax.set_ylabel(f"{values[a]:+.1f}", fontsize=7)
                if a == n - 1:
                    ax.set_xlabel(f"{values[b]:+.1f}", fontsize=7)
        fig.suptitle(f"traversal of latents z{i} (rows) and z{j} (columns)", fontsize=9)
        return fig
    flat = grid.reshape(n, n, -1)
    fig, axes = _figure()
    ax = axes[0, 0]
    for a in range(n):
        ax.plot(flat[a, :, 0], flat[a, :, 1], color="C0", lw=1)
        ax.plot(flat[:, a, 0], flat[:, a, 1], color="C1", lw=1)
    ax.set_xlabel("output 0")
    ax.set_ylabel("output 1")
    ax.set_title(f"decoded grid: z{i} (blue lines vary z{j}), z{j} (orange vary z{i})", fontsize=8)
    return fig


def plot_eigenfaces(decoded: np.ndarray, latents: Sequence[int], observation_shape: Sequence[int],
                    *, alpha: float = 2.5):
    """Fig. 3.6 layout: the mean in the first column, then −α / +α for each chosen latent."""
    from vaecore.report.figures import _figure

    k = len(latents)
    fig, axes = _figure(nrows=2, ncols=k + 1, size=(1.6 * (k + 1), 3.4))
    image = len(observation_shape) >= 2
    for r in range(2):
        for c in range(k + 1):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                if r == 0:
                    x = decoded[0]
                    if image:
                        ax.imshow(_as_image(x, observation_shape), cmap="gray", vmin=0, vmax=1)
                    else:
                        ax.bar(range(x.size), x.ravel())
                    ax.set_title("mean", fontsize=8)
                else:
                    ax.axis("off")
                continue
            x = decoded[1 + 2 * (c - 1) + r]
            if image:
                ax.imshow(_as_image(x, observation_shape), cmap="gray", vmin=0, vmax=1)
            else:
                ax.bar(range(x.size), x.ravel())
            if r == 0:
                ax.set_title(f"z{latents[c - 1]}", fontsize=8)
            ax.set_ylabel(f"{'−' if r == 0 else '+'}{alpha:g}", fontsize=7) if c == 1 else None
    return fig


def sample_observations(run, n: int, seed: int) -> np.ndarray:
    """Observations of ``n`` points of the run's own test split (seeded sample, sorted indices);
    never training points, whatever ``seed`` is."""
    from vaecore.evaluation import sample_test_split

    return np.asarray(run.dataset.observations_at(sample_test_split(run, n, seed)))


def observation_shape(run) -> tuple[int, ...]:
    return tuple(getattr(run, "observation_shape", None) or run.dataset.observation_shape)


def draw_eigenfaces(run_dir, out, *, alpha: float = 2.5, k: int = 5, n_samples: int = 300,
                    seed: int = 0) -> list:
    """Fig. 3.6 for a trained run folder: ±α along the ``k`` latents of smallest mean σ, from the
    mean latent of ``n_samples`` test-split points; written as ``out.png`` / ``out.pdf``."""
    from vaecore import load_run
    from vaecore.report.figures import save_figure

    run = load_run(run_dir)
    z0, sigma = latent_statistics(run.model, sample_observations(run, n_samples, seed))
    latents = eigenface_latents(sigma, k)
    decoded = traverse_1d(run.model, z0, latents, alpha=alpha)
    fig = plot_eigenfaces(decoded, list(latents), observation_shape(run), alpha=alpha)
    return save_figure(fig, out)
