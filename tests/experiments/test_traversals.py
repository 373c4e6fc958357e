from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from vaecore.report.traversals import (
    eigenface_latents,
    latent_statistics,
    traverse_1d,
    traverse_2d,
)


class Linear(torch.nn.Module):
    """decode(z) = z @ W.T (Gaussian) — traversals then have closed forms."""

    latent_dim = 3

    def __init__(self, likelihood="gaussian"):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([[1.0, 0, 0], [0, 2.0, 0], [0, 0, 3.0], [1, 1, 1]]))
        self.decoder = SimpleNamespace(likelihood=likelihood)

    def encode(self, x):
        mu = x[:, :3]
        logvar = torch.log(torch.tensor([0.5, 0.01, 0.2])).expand_as(mu)
        return mu, logvar

    def decode(self, z):
        return z @ self.w.T


def test_latent_statistics_and_eigenface_order():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    z_mean, sigma = latent_statistics(Linear(), x)
    np.testing.assert_allclose(z_mean, [4, 5, 6])
    np.testing.assert_allclose(sigma, np.sqrt([0.5, 0.01, 0.2]), rtol=1e-6)
    assert eigenface_latents(sigma, 2).tolist() == [1, 2]  # smallest mean sigma first


def test_traversals_closed_form():
    m = Linear()
    z0 = np.zeros(3, dtype=np.float32)
    out = traverse_1d(m, z0, [2], alpha=2.5)
    np.testing.assert_allclose(out, [[0, 0, 0, 0], [0, 0, -7.5, -2.5], [0, 0, 7.5, 2.5]])
    grid = traverse_2d(m, z0, 0, 1, [-1.0, 1.0])
    assert grid.shape == (2, 2, 4)
    np.testing.assert_allclose(grid[0, 1], [-1, 2, 0, 0])  # row = latent 0, column = latent 1
    bern = traverse_1d(Linear("bernoulli"), z0, [0], alpha=1.0)
    np.testing.assert_allclose(bern[0], [0.5] * 4)  # sigmoid of the logits


def test_plots_render():
    pytest.importorskip("matplotlib")
    from vaecore.report.traversals import plot_eigenfaces, plot_traversal_grid

    m = Linear()
    grid = traverse_2d(m, np.zeros(3, np.float32), 0, 1, [-1.0, 0.0, 1.0])
    fig = plot_traversal_grid(grid, [-1.0, 0.0, 1.0], (0, 1), (4,))
    assert len(fig.axes) == 1
    images = np.random.default_rng(0).random((3, 3, 16), dtype=np.float32)
    fig = plot_traversal_grid(images, [-1.0, 0.0, 1.0], (0, 1), (1, 4, 4))
    assert len(fig.axes) == 9
    fig = plot_eigenfaces(images.reshape(9, 16)[:5], [0, 1], (1, 4, 4))
    assert len(fig.axes) == 6


def test_plot_points_come_from_the_runs_test_split():
    """`vaecore plot` samples its points from the run's own test split (split_seed of its
    config), whatever --seed is: never training points."""
    import numpy as np

    from vaecore.report.traversals import sample_observations

    class Data:
        def observations_at(self, idx):
            return np.asarray(idx, dtype=np.float32)[:, None]

        def split(self, seed=0):  # what the old code called with --seed: must not be used
            raise AssertionError("plot must use run.split(), not dataset.split(seed=...)")

    class Run:
        dataset = Data()

        def split(self):
            return np.arange(0, 80), np.arange(80, 90), np.arange(90, 100)

    for seed in range(5):
        x = sample_observations(Run(), 4, seed)[:, 0]
        assert x.shape == (4,) and set(x) <= set(range(90, 100)) and np.all(np.diff(x) > 0)
    assert sorted(sample_observations(Run(), 50, 0)[:, 0]) == list(range(90, 100))
