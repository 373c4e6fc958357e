"""Ground-truth datasets behind one abstraction (SPEC §4, thesis §3.3.1, §4.3.3).

>>> from vaecore import datasets
>>> ds = datasets.load("dsprites")            # procedural, rendered by the C++ core
>>> train, eval_, test = ds.split(seed=0)     # 80/10/10
>>> x = ds.observations_at(train[:64])        # float32 (64, 1, 64, 64) in [0, 1]
"""

from vaecore.datasets.base import GridDataset, GroundTruthDataset
from vaecore.datasets.cache import CachedDataset, cache_to_file
from vaecore.datasets.calibrate import CalibrationResult, calibrate_dsprites
from vaecore.datasets.dsprites import DSprites, DSpritesGeometry, render_dsprites
from vaecore.datasets.image_folder import ImageFolder
from vaecore.datasets.mnist import MNIST, FashionMNIST, read_idx
from vaecore.datasets.pairs import PAIR_KINDS, PairBatch, PairIndices, PairSampler, pairs
from vaecore.datasets.registry import NAMES, dataset_class, dataset_options, load
from vaecore.datasets.shapes3d import Shapes3D, Shapes3DScene, render_shapes3d
from vaecore.datasets.subgrid import Subgrid, subgrid
from vaecore.datasets.synthetic import SynthLin, SynthNonLin
from vaecore.datasets.variants import NoisyDataset, TransformedDataset, noisy

__all__ = [
    "NAMES",
    "CachedDataset",
    "CalibrationResult",
    "DSprites",
    "DSpritesGeometry",
    "FashionMNIST",
    "GridDataset",
    "GroundTruthDataset",
    "ImageFolder",
    "MNIST",
    "NoisyDataset",
    "PAIR_KINDS",
    "PairBatch",
    "PairIndices",
    "PairSampler",
    "TransformedDataset",
    "Shapes3D",
    "Shapes3DScene",
    "Subgrid",
    "SynthLin",
    "SynthNonLin",
    "cache_to_file",
    "calibrate_dsprites",
    "dataset_class",
    "dataset_options",
    "load",
    "noisy",
    "pairs",
    "read_idx",
    "render_dsprites",
    "render_shapes3d",
    "subgrid",
]
