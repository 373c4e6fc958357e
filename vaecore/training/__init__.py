"""Training: config and presets, the loop, checkpoints, the polarized-regime monitor, runs."""

from vaecore.training.config import OPTIMIZERS, TrainConfig
from vaecore.training.data import ArrayDataset
from vaecore.training.loop import NonFiniteLossError, train
from vaecore.training.presets import PRESETS
from vaecore.training.run import Run, load_run

__all__ = ["ArrayDataset", "OPTIMIZERS", "PRESETS", "NonFiniteLossError", "Run", "TrainConfig", "load_run", "train"]
