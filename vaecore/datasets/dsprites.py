"""dSprites (Matthey et al. 2017): procedural C++ renderer by default, or the real file.

Grid (the published file's layout, disentanglement_lib's ``DSprites`` without the constant
colour factor): shape {square, ellipse, heart} × scale linspace(0.5, 1, 6) × orientation
linspace(0, 2π, 40) (both ends included, as in the file) × posX × posY linspace(0, 1, 32);
``index = dot(classes, [245760, 40960, 1024, 32, 1])``; 737,280 binary 64 × 64 images.

The procedural renderer draws each sprite with pixel-centre inside-tests (see
``csrc/render_dsprites.cpp``): rotation about the sprite's centre, the centre mapped
linearly from [0, 1] into an inner window of the image so that no pixel leaves it, base
sizes chosen so that a scale-1 square covers about the real dataset's area (18 × 18 px),
the heart as the smooth closed curve ``(x² + y² - 1)³ = x² y³``. The real file was drawn in a
vector program whose exact window and heart are unpublished: all constants live in
:class:`DSpritesGeometry`, and :func:`vaecore.datasets.calibrate_dsprites` fits them to the
real file and reports the pixel agreement (IoU).
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaecore._native import native, resolve_backend
from vaecore._validation import check_array, check_option
from vaecore.datasets.base import GridDataset

SIZE = 64
FILE_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
FILE_SOURCE = "https://github.com/google-deepmind/dsprites-dataset"
SHAPES = ("square", "ellipse", "heart")
HEART_OFFSET = 0.118  # centres the heart curve's bounding box (y in [-1, 1.236])
HEART_RADIUS = 1.34  # max distance of the centred heart curve from its centre (1.3366)


@dataclass(frozen=True)
class DSpritesGeometry:
    """Every constant of the procedural dSprites renderer (pixel units, 64 × 64 image).

    Attributes
    ----------
    window : (float, float)
        Sprite centre range as fractions of the image side: pos 0 -> ``window[0] * 64``,
        pos 1 -> ``window[1] * 64`` (same for x = column and y = row; y grows downwards).
    half_size : float
        Half the side of the scale-1 square in pixels; every shape's size is
        ``scale * half_size``.
    ellipse_axes : (float, float)
        Semi-axes of the ellipse along its local u (horizontal at orientation 0) and v,
        in units of ``half_size``.
    heart_scale : float
        Size of the heart curve ``(x² + y² - 1)³ = x² y³`` in units of ``half_size``.
    clockwise : bool
        Rotation sense on screen for increasing orientation (False: counter-clockwise
        with y pointing down, i.e. the local axes turn by ``+orientation``).
    """

    window: tuple[float, float] = (0.2, 0.8)
    half_size: float = 9.0
    ellipse_axes: tuple[float, float] = (1.4, 0.7)
    heart_scale: float = 1.0
    clockwise: bool = False

    def radius(self, shape: int) -> float:
        """Bounding radius of a shape in units of ``half_size``."""
        if shape == 0:
            return float(np.sqrt(2.0))
        if shape == 1:
            return float(max(self.ellipse_axes))
        return HEART_RADIUS * self.heart_scale

    def replace(self, **changes: Any) -> DSpritesGeometry:
        return dataclasses.replace(self, **changes)


DEFAULT_GEOMETRY = DSpritesGeometry()


def dsprites_poses(values: np.ndarray, geometry: DSpritesGeometry = DEFAULT_GEOMETRY) -> np.ndarray:
    """Per-image pose rows ``[shape, cx, cy, a, b, radius, p0, p1]`` from factor *values*.

    ``values``: float64 ``(n, 5)`` = (shape id, scale, orientation [rad], posX, posY).
    sin/cos are evaluated here once, so the C++ kernel and its numpy twin share them.
    """
    n = values.shape[0]
    shape = values[:, 0]
    size = values[:, 1] * geometry.half_size
    theta = -values[:, 2] if geometry.clockwise else values[:, 2]
    lo, hi = geometry.window
    cx = SIZE * (lo + (hi - lo) * values[:, 3])
    cy = SIZE * (lo + (hi - lo) * values[:, 4])
    poses = np.empty((n, 8), np.float64)
    poses[:, 0] = shape
    poses[:, 1] = cx
    poses[:, 2] = cy
    poses[:, 3] = np.cos(theta) / size
    poses[:, 4] = np.sin(theta) / size
    radii = np.array([geometry.radius(s) for s in range(3)])
    poses[:, 5] = radii[shape.astype(np.int64)] * size
    ea, eb = geometry.ellipse_axes
    p0 = np.array([0.0, 1.0 / (ea * ea), 1.0 / geometry.heart_scale])
    p1 = np.array([0.0, 1.0 / (eb * eb), HEART_OFFSET])
    poses[:, 6] = p0[shape.astype(np.int64)]
    poses[:, 7] = p1[shape.astype(np.int64)]
    return poses


def render_dsprites(
    values: Any,
    *,
    geometry: DSpritesGeometry = DEFAULT_GEOMETRY,
    dtype: Any = np.float32,
    backend: str = "auto",
) -> np.ndarray:
    """Render dSprites images from factor values.

    Parameters
    ----------
    values : array (n, 5)
        (shape id in {0, 1, 2}, scale > 0, orientation in radians, posX, posY), any reals.
    geometry : DSpritesGeometry
        Renderer constants.
    dtype : numpy.uint8 or numpy.float32
        Output dtype (values 0 / 1).
    backend : "auto" | "native" | "reference"

    Returns
    -------
    numpy.ndarray, shape (n, 1, 64, 64)
    """
    func = "render_dsprites"
    v = check_array(func, "values", values, ndim=2)
    if v.shape[1] != 5:
        raise ValueError(f"{func}: values must have 5 columns (shape, scale, orientation, "
                         f"posX, posY); got shape {tuple(v.shape)}")
    if v.size and not np.isin(v[:, 0], (0.0, 1.0, 2.0)).all():
        raise ValueError(f"{func}: values[:, 0] (shape) must be 0, 1 or 2; got "
                         f"{v[~np.isin(v[:, 0], (0.0, 1.0, 2.0)), 0][0]!r}")
    if v.size and (v[:, 1] <= 0).any():
        raise ValueError(f"{func}: values[:, 1] (scale) must be > 0; got {v[v[:, 1] <= 0, 1][0]!r}")
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.uint8), np.dtype(np.float32)):
        raise TypeError(f"{func}: dtype must be uint8 or float32; got {dt}")
    path = resolve_backend(func, backend)
    poses = dsprites_poses(v, geometry)
    out = np.empty((len(v), SIZE, SIZE), dt)
    if path == "native":
        native().render_dsprites(poses, out)
    else:
        from vaecore.reference.render import render_dsprites as twin

        twin(poses, out)
    return out.reshape(len(v), 1, SIZE, SIZE)


class DSprites(GridDataset):
    """dSprites: 737,280 binary 64 × 64 images of 2-d shapes (see module docstring).

    Parameters
    ----------
    path : str or None
        None: render procedurally (C++). Otherwise the real
        ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``; its images are kept bit-packed
        in memory (368 MB) and unpacked to float32 per batch; the 3 GB uint8 array is never
        held at once (the npz member is streamed in chunks).
    geometry : DSpritesGeometry
        Constants of the procedural renderer.
    backend : "auto" | "native" | "reference"
        Renderer used by the procedural dataset.

    Notes
    -----
    Factor kinds: shape categorical, scale ordinal, orientation cyclic, posX/posY ordinal.
    """

    name = "dsprites"
    factor_names = ("shape", "scale", "orientation", "posX", "posY")
    factor_sizes = (3, 6, 40, 32, 32)
    factor_kinds = ("categorical", "ordinal", "cyclic", "ordinal", "ordinal")
    factor_values = (
        np.arange(3, dtype=np.float64),
        np.linspace(0.5, 1.0, 6),
        np.linspace(0.0, 2.0 * np.pi, 40),
        np.linspace(0.0, 1.0, 32),
        np.linspace(0.0, 1.0, 32),
    )
    observation_shape = (1, SIZE, SIZE)
    is_image = True

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        geometry: DSpritesGeometry = DEFAULT_GEOMETRY,
        backend: str = "auto",
    ) -> None:
        check_option("load('dsprites')", "backend", backend, ("auto", "native", "reference"))
        if not isinstance(geometry, DSpritesGeometry):
            raise TypeError(f"load('dsprites'): geometry must be a DSpritesGeometry; got "
                            f"{type(geometry).__name__}")
        self.geometry = geometry
        self.backend = backend
        self.path = None if path is None else os.fspath(path)
        self._packed: np.ndarray | None = None
        self._rows: np.ndarray | None = None
        if self.path is not None:
            self._packed, self._rows = read_dsprites_file(self.path)

    @property
    def procedural(self) -> bool:
        """True when images are rendered rather than read from the real file."""
        return self._packed is None

    def render_values(self, values: Any, *, dtype: Any = np.float32) -> np.ndarray:
        """Render images of arbitrary factor *values* ``(n, 5)`` (not only grid points)."""
        return render_dsprites(values, geometry=self.geometry, dtype=dtype, backend=self.backend)

    def observations_at(self, indices: Any) -> np.ndarray:
        idx = self._check_indices("observations_at", indices)
        if self._packed is not None:
            assert self._rows is not None
            rows = self._rows[idx]
            if (rows < 0).any():
                raise ValueError(f"dsprites.observations_at: the file {self.path!r} has no image "
                                 f"for index {int(idx[rows < 0][0])}")
            bits = np.unpackbits(self._packed[rows], axis=-1)
            return bits.astype(np.float32).reshape(len(idx), 1, SIZE, SIZE)
        values = self.factor_values_of(self.index_to_factors(idx))
        return self.render_values(values)


def _missing(path: str, why: str) -> Exception:
    return FileNotFoundError(
        f"load('dsprites'): {why}: {path!r}; expected the file {FILE_NAME} (arrays 'imgs', "
        f"'latents_classes', 'latents_values'), published at {FILE_SOURCE}"
    )


def read_dsprites_file(path: str, *, chunk: int = 16384) -> tuple[np.ndarray, np.ndarray]:
    """Read the real dSprites npz: bit-packed images and the grid index of each row.

    Returns ``(packed, rows)``: ``packed`` uint8 ``(m, 64, 8)`` (``np.packbits`` of the
    binary images along x) and ``rows`` int32 ``(737280,)`` mapping a grid index to its row
    in the file (-1 where the file has no image; the published file has every one). The
    ``imgs`` member is streamed ``chunk`` images at a time, so the 3 GB uint8 array is never
    materialised; ``metadata`` (a pickled dict) is never read. A grid point that appears in
    two rows is refused (``ValueError`` naming both rows) instead of the later image winning.
    """
    if os.path.isdir(path):
        path = os.path.join(path, FILE_NAME)
    if not os.path.isfile(path):
        raise _missing(path, "no such file")
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"load('dsprites'): {path!r} is not an npz (zip) file; expected "
                         f"{FILE_NAME} from {FILE_SOURCE}") from exc
    n = int(np.prod(DSprites.factor_sizes))
    with zf:
        names = set(zf.namelist())
        for member in ("imgs.npy", "latents_classes.npy"):
            if member not in names:
                raise ValueError(
                    f"load('dsprites'): {path!r} has no array {member[:-4]!r}; expected "
                    f"{FILE_NAME} from {FILE_SOURCE}"
                )
        with zf.open("latents_classes.npy") as f:
            classes = np.lib.format.read_array(f, allow_pickle=False)
        if classes.ndim != 2 or classes.shape[1] != 6 or classes.dtype.kind not in "iu":
            raise ValueError(f"load('dsprites'): latents_classes must be an integer array of "
                             f"shape (m, 6); got {classes.shape} {classes.dtype} in {path!r}")
        grid = DSprites()
        cls = classes[:, 1:].astype(np.int64)
        if (cls < 0).any() or (cls >= np.asarray(grid.factor_sizes)).any() or (classes[:, 0] != 0).any():
            raise ValueError(f"load('dsprites'): latents_classes of {path!r} are outside the "
                             f"grid {grid.factor_sizes}")
        index = cls @ grid.strides
        m = len(index)
        rows = np.full(n, -1, np.int32)
        rows[index[::-1]] = np.arange(m - 1, -1, -1, dtype=np.int32)  # the first row of an index wins
        dup = np.flatnonzero(rows[index] != np.arange(m))
        if dup.size:
            r = int(dup[0])
            raise ValueError(f"load('dsprites'): {path!r} must hold each grid point once; rows "
                             f"{int(rows[index[r]])} and {r} of latents_classes are equal "
                             f"({classes[r].tolist()})")
        with zf.open("imgs.npy") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            if shape != (m, SIZE, SIZE) or fortran or dtype.itemsize != 1:
                raise ValueError(f"load('dsprites'): imgs must be a C-order 1-byte array of "
                                 f"shape ({m}, 64, 64); got {shape}, {dtype} in {path!r}")
            packed = np.empty((m, SIZE, SIZE // 8), np.uint8)
            per = SIZE * SIZE
            for start in range(0, m, chunk):
                k = min(chunk, m - start)
                buf = f.read(k * per)
                if len(buf) != k * per:
                    raise ValueError(f"load('dsprites'): {path!r} is truncated")
                block = np.frombuffer(buf, np.uint8).reshape(k, SIZE, SIZE)
                packed[start : start + k] = np.packbits(block != 0, axis=-1)
    return packed, rows
