"""Training presets: thesis Table 3.1 (chapter 3) and Table 4.1 (chapter 4, Shapes3D), each at
two scales.

* ``scale="thesis"``: the table's optimizer, learning rate, architecture, latent dim, epochs, β.
  The table gives no batch size: 64 for images (disentanglement_lib's default), 256 for the
  synthetic sets.
* ``scale="quick"``: runs in about a minute on 2 CPU cores. On the synthetic sets it still finds
  the axes (SPEC §5 measurements): Synth. Lin. uses the linear β-VAE with Adam 1e-2, batch 256,
  β = 1e-2; Synth. Non-Lin. the 60-40-20 tanh MLP with Adam 3e-3, batch 256, β = 3e-3. Image sets
  train a few hundred steps on a subset (``max_train``): enough to smoke-test a pipeline, not to
  reproduce the thesis numbers.
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
    "shapes3d": {
        "thesis": dict(
            dataset="shapes3d", model="beta-vae", beta=32.0, latent_dim=6, architecture="conv",
            likelihood="bernoulli", optimizer="adam", lr=1e-4, batch_size=_IMAGE_BATCH,
            steps=300_000, epochs=None,
        ),
        "quick": dict(steps=200, max_train=4000, monitor_every=100, probe_size=256),
    },
}
_ALIASES = {"fmnist": "fashion-mnist", "synth_lin": "synth-lin", "synth_nonlin": "synth-nonlin"}
SCALES: tuple[str, ...] = ("quick", "thesis")


def preset_dict(dataset: str, scale: str, *, model: str | None = None) -> dict[str, Any]:
    """The preset's settings as a flat dict (thesis settings updated by the quick overrides).

    ``model``: the model the preset will be used with (reserved for presets whose primary
    hyperparameter depends on the model).
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
    return out
