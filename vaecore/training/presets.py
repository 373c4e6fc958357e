"""Training presets: thesis Table 3.1 (chapter 3) and Table 4.1 (chapter 4: ``dsprites-ch4``,
``shapes3d-ch4`` = ``shapes3d``, disentanglement_lib's defaults with each model's primary
hyperparameter), each at two scales.

* ``scale="thesis"``: the table's optimizer, learning rate, architecture, latent dim, epochs, β.
  The table gives no batch size: 64 for images (disentanglement_lib's default), 256 for the
  synthetic sets.
* ``scale="quick"``: runs in about a minute on 2 CPU cores. On the synthetic sets it still finds
  the axes (SPEC §5 measurements): Synth. Lin. uses the linear β-VAE with Adam 1e-2, batch 256,
  β = 1e-2; Synth. Non-Lin. the 60-40-20 tanh MLP with Adam 3e-3, batch 256, β = 3e-3. Image sets
  train a few hundred steps on a subset (``max_train``): enough to smoke-test a pipeline, not to
  reproduce the thesis numbers. Chapter 4's quick scale is SPEC-ch4 §8's: a sub-grid, latent dim
  = its free factors, Adam 5e-4, 1,200 steps.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PRESETS", "preset_dict"]

_SYNTH_BATCH = 256
_IMAGE_BATCH = 64



def _mnist_like(dataset: str, epochs: int) -> dict[str, dict[str, Any]]:
    """MNIST and Fashion-MNIST share Table 3.1's row but for the number of epochs."""
    return {
        "thesis": dict(
            dataset=dataset, model="beta-vae", beta=1.0, latent_dim=6, architecture="mlp",
            encoder_hidden=(400,), decoder_hidden=(500, 500), encoder_activation="relu",
            decoder_activation="tanh", likelihood="bernoulli", optimizer="adagrad", lr=1e-2,
            batch_size=_IMAGE_BATCH, epochs=epochs, steps=None,
        ),
        "quick": dict(steps=1500, epochs=None, max_train=20_000, monitor_every=250),
    }


PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "dsprites": {
        "thesis": dict(
            dataset="dsprites", model="beta-vae", beta=4.0, latent_dim=5, architecture="mlp",
            encoder_hidden=(1200, 1200), decoder_hidden=(1200, 1200, 1200),
            encoder_activation="relu", decoder_activation="tanh", likelihood="bernoulli",
            optimizer="adagrad", lr=1e-2, batch_size=_IMAGE_BATCH, epochs=50, steps=None,
        ),
        "quick": dict(steps=400, epochs=None, max_train=8000, probe_size=500, monitor_every=100, log_every=50),
    },
    "synth-lin": {
        "thesis": dict(
            dataset="synth-lin", model="beta-vae", beta=1e-4, latent_dim=2, architecture="linear",
            likelihood="gaussian", optimizer="adam", lr=1e-3, batch_size=_SYNTH_BATCH,
            epochs=600, steps=None,
        ),
        "quick": dict(beta=1e-2, lr=1e-2, steps=24_000, epochs=None, checkpoint_every=8000),
    },
    "synth-nonlin": {
        "thesis": dict(
            dataset="synth-nonlin", model="beta-vae", beta=1e-3, latent_dim=2, architecture="mlp",
            encoder_hidden=(60, 40, 20), decoder_hidden=(20, 40, 60), activation="tanh",
            likelihood="gaussian", optimizer="adam", lr=1e-3, batch_size=_SYNTH_BATCH,
            epochs=600, steps=None,
        ),
        "quick": dict(beta=3e-4, lr=3e-3, steps=20_000, epochs=None, checkpoint_every=10_000),
    },
    "mnist": _mnist_like("mnist", epochs=400),
    "fashion-mnist": _mnist_like("fashion-mnist", epochs=500),
    "celeba": {
        "thesis": dict(
            dataset="image-folder", model="beta-vae", beta=4.0, latent_dim=32, architecture="conv",
            conv_kernels=(4, 4, 4, 4), deconv_kernels=(4, 4, 4, 4), likelihood="bernoulli",
            optimizer="adam", lr=1e-4, batch_size=_IMAGE_BATCH, epochs=50, steps=None,
        ),
        "quick": dict(steps=200, epochs=None, max_train=4000, monitor_every=100, probe_size=256),
    },
}


def _dlib(dataset: str, latent_dim: int, primary: dict[str, float], quick: dict[str, Any]) -> dict[str, Any]:
    """Chapter 4's disentanglement_lib defaults (SPEC-ch4 §1, thesis Table 4.1) for ``dataset``:
    the conv net with Glorot init, Adam 1e-4 (0.9, 0.999, 1e-8), batch 64, 300k steps, latent
    dim = number of factors, and per model its primary hyperparameter (``primary``)."""
    return {
        "thesis": dict(
            dataset=dataset, model="beta-vae", latent_dim=latent_dim, architecture="conv",
            conv_kernels=(4, 4, 2, 2), deconv_kernels=(4, 4, 4, 4), init="glorot",
            likelihood="bernoulli", optimizer="adam", lr=1e-4,
            optimizer_options={"betas": [0.9, 0.999], "eps": 1e-8}, batch_size=_IMAGE_BATCH,
            steps=300_000, epochs=None,
        ),
        "quick": dict(steps=1200, epochs=None, lr=5e-4, monitor_every=200, probe_size=256, log_every=50, **quick),
        "models": {
            "beta-vae": {"beta": primary["beta-vae"]},
            "beta-tcvae": {"beta": primary["beta-tcvae"]},
            "factor-vae": {"gamma": primary["factor-vae"], "discriminator_lr": 1e-4},
            # the source's batch: 64 images = 32 pairs
            "slow-vae": {"beta": primary["slow-vae"], "batch_size": _IMAGE_BATCH // 2},
            "ada-gvae": {"beta": 1.0},
            "ada-ml-vae": {"beta": 1.0},
            # SPEC-ch4 §4 decision: the dlib optimizer (Adam 1e-4), laplace pairs, grid negatives
            "pcl": {"negatives": "grid"},
            # gan.gin: Adam 1e-3 (0.5, 0.999) for G, D and E, share pairs, 500k iterations
            "weak-gan": {"pair_kind": "share", "adam_lr": 1e-3, "adam_beta1": 0.5, "adam_beta2": 0.999,
                         "adam_eps": 1e-8, "thesis": {"steps": 500_000}},
        },
    }


# Quick scale (SPEC-ch4 §8): the Shapes3D sub-grid wall hue × object hue × orientation (1,500
# images, latent dim 3), or the dSprites fallback posX × posY (1,024 images, latent dim 2).
PRESETS["dsprites-ch4"] = _dlib(
    "dsprites", 5, {"beta-vae": 8.0, "beta-tcvae": 6.0, "factor-vae": 35.0, "slow-vae": 1.0},
    dict(dataset="subgrid", latent_dim=2, dataset_options={
        "base": "dsprites", "fixed": {"shape": 0, "scale": 5, "orientation": 0}}),
)
PRESETS["shapes3d-ch4"] = _dlib(
    "shapes3d", 6, {"beta-vae": 32.0, "beta-tcvae": 32.0, "factor-vae": 7.0, "slow-vae": 1.0},
    dict(dataset="subgrid", latent_dim=3, dataset_options={
        "base": "shapes3d", "fixed": {"floor_hue": 0, "scale": 4, "shape": 0}}),
)
_ALIASES = {
    "fmnist": "fashion-mnist", "synth_lin": "synth-lin", "synth_nonlin": "synth-nonlin", "shapes3d": "shapes3d-ch4",
}
SCALES: tuple[str, ...] = ("quick", "thesis")


def preset_dict(dataset: str, scale: str, *, model: str | None = None) -> dict[str, Any]:
    """The preset's settings as a flat dict (thesis settings updated by the quick overrides).

    ``model``: the model the preset will be used with (default: the preset's); presets with
    per-model settings (the chapter-4 family: each model's primary hyperparameter) add its own
    (those under the model's ``"thesis"`` key only at the thesis scale).
    """
    name = _ALIASES.get(dataset, dataset)
    if name not in PRESETS:
        raise ValueError(
            f"TrainConfig.preset: dataset must be one of {tuple(PRESETS)}; got {dataset!r}"
        )
    if scale not in SCALES:
        raise ValueError(f"TrainConfig.preset: scale must be one of {SCALES}; got {scale!r}")
    out = dict(PRESETS[name]["thesis"])
    if scale == "quick":
        out.update(PRESETS[name]["quick"])
    extra = dict(PRESETS[name].get("models", {}).get(model or out["model"], {}))
    thesis_only = extra.pop("thesis", {})  # per-model settings of the thesis scale only
    out.update(extra)
    if scale == "thesis":
        out.update(thesis_only)
    return out
