"""vaecore: why VAEs disentangle.

Train VAE-family models on ground-truth datasets, measure representations fast
(distance to orthogonality of decoder Jacobians, the kNN disentanglement score,
MIG, DCI, SAP, FactorVAE and BetaVAE scores, polarized-regime statistics) and
reproduce the experiments of the thesis on VAEs and PCA. Numeric kernels live in
the compiled module ``vaecore._core``; each has a pure-Python twin in
:mod:`vaecore.reference`.
"""

__version__ = "0.1.0"

from vaecore import datasets, metrics
from vaecore._native import build_info, has_cuda, has_native, set_num_threads
from vaecore.jacobians import jacobians

# Training and evaluation are imported on first use (see __getattr__).
_LAZY = {
    "TrainConfig": "vaecore.training",
    "train": "vaecore.training",
    "train_seeds": "vaecore.training.batched",
    "load_run": "vaecore.training",
    "Run": "vaecore.training",
    "evaluate": "vaecore.evaluation",
}


def __getattr__(name: str):
    """Import the torch-based parts (training, evaluation) on first use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vaecore' has no attribute {name!r}")


__all__ = [
    "__version__",
    "build_info",
    "datasets",
    "has_cuda",
    "has_native",
    "jacobians",
    "metrics",
    "set_num_threads",
    *_LAZY,
]
