"""Shapes3D (Burgess & Kim 2018): procedural C++ ray caster by default, or the real file.

Grid (the layout of ``3dshapes.h5``, orientation fastest): floor hue, wall hue, object hue
(10 each: 0.0, 0.1, ..., 0.9) × scale linspace(0.75, 1.25, 8) × shape {cube, cylinder,
sphere, capsule} × orientation linspace(-30°, 30°, 15); 480,000 RGB 64 × 64 images.

The procedural renderer (``csrc/render_shapes3d.cpp``) ray-casts a room: the floor plane,
a back wall, one object standing in the middle; a camera orbiting the vertical axis through
the object by the orientation angle; Lambert shading under one directional light plus
ambient light; hues turned into RGB at full saturation and value (HSV), so every shaded
pixel keeps the hue of its surface. All constants live in :class:`Shapes3DScene`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaecore._native import native, resolve_backend
from vaecore._validation import check_array, check_option
from vaecore.datasets.base import GridDataset
from vaecore.datasets.files import FILE_NAME, FILE_SOURCE, SIZE, open_shapes3d, read_rows  # noqa: F401 (FILE_* re-exported)
SHAPES = ("cube", "cylinder", "sphere", "capsule")
N_PARAMS = 23


@dataclass(frozen=True)
class Shapes3DScene:
    """Constants of the procedural Shapes3D room (world units, y up, object at the origin).

    Attributes
    ----------
    object_size : float
        Size ``s`` of the scale-1 object: cube half-width, cylinder/sphere radius (height 2s).
    wall_z : float
        The back wall is the plane ``z = wall_z``.
    camera_distance, camera_height : float
        The camera sits at ``(-d sin θ, h, -d cos θ)`` for orientation θ (orbiting the y axis).
    target_height : float
        The camera looks at ``(0, target_height, 0)``.
    fov_degrees : float
        Full vertical (= horizontal) field of view.
    light : (float, float, float)
        Direction towards the light (normalised when used).
    ambient, diffuse : float
        Shading ``ambient + diffuse * max(0, n . l)``; their sum stays <= 1.
    """

    object_size: float = 0.5
    wall_z: float = 2.5
    camera_distance: float = 4.0
    camera_height: float = 2.2
    target_height: float = 0.6
    fov_degrees: float = 50.0
    light: tuple[float, float, float] = (-0.4, 1.0, -0.7)
    ambient: float = 0.45
    diffuse: float = 0.55

    def replace(self, **changes: Any) -> Shapes3DScene:
        return dataclasses.replace(self, **changes)

    def scene_array(self) -> np.ndarray:
        """``[wall_z, lx, ly, lz, ambient, diffuse]`` float64 (the kernel's ``scene``)."""
        light = np.asarray(self.light, np.float64)
        light = light / np.linalg.norm(light)
        return np.array([self.wall_z, *light, self.ambient, self.diffuse], np.float64)


DEFAULT_SCENE = Shapes3DScene()


def hue_to_rgb(hue: np.ndarray) -> np.ndarray:
    """HSV -> RGB at full saturation and value, vectorised (``colorsys.hsv_to_rgb(h, 1, 1)``)."""
    h = np.mod(np.asarray(hue, np.float64), 1.0) * 6.0
    k = np.floor(h)
    f = h - k
    q, t = 1.0 - f, f
    one, zero = np.ones_like(h), np.zeros_like(h)
    table = [
        (one, t, zero), (q, one, zero), (zero, one, t),
        (zero, q, one), (t, zero, one), (one, zero, q),
    ]
    idx = k.astype(np.int64) % 6
    rgb = np.zeros(h.shape + (3,))
    for sector, (r, g, b) in enumerate(table):
        m = idx == sector
        rgb[m, 0], rgb[m, 1], rgb[m, 2] = r[m], g[m], b[m]
    return rgb


def shapes3d_params(values: np.ndarray, scene: Shapes3DScene = DEFAULT_SCENE) -> np.ndarray:
    """Per-image kernel rows (n, 23) from factor *values* ``(n, 6)``:
    (floor hue, wall hue, object hue, scale, shape id, orientation in degrees)."""
    n = values.shape[0]
    theta = np.deg2rad(values[:, 5])
    origin = np.stack(
        [-scene.camera_distance * np.sin(theta), np.full(n, scene.camera_height),
         -scene.camera_distance * np.cos(theta)], axis=1)
    target = np.array([0.0, scene.target_height, 0.0])
    fwd = target[None, :] - origin
    fwd /= np.linalg.norm(fwd, axis=1, keepdims=True)
    world_up = np.array([0.0, 1.0, 0.0])
    right = np.cross(world_up[None, :], fwd)  # y up, camera looking +z: right = +x
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    up = np.cross(fwd, right)
    tan = np.tan(np.deg2rad(scene.fov_degrees) / 2.0)
    p = np.empty((n, N_PARAMS), np.float64)
    p[:, 0] = values[:, 4]
    p[:, 1] = values[:, 3] * scene.object_size
    p[:, 2:5] = origin
    p[:, 5:8] = fwd
    p[:, 8:11] = right * tan
    p[:, 11:14] = up * tan
    p[:, 14:17] = hue_to_rgb(values[:, 0])
    p[:, 17:20] = hue_to_rgb(values[:, 1])
    p[:, 20:23] = hue_to_rgb(values[:, 2])
    return p


def render_shapes3d(
    values: Any,
    *,
    scene: Shapes3DScene = DEFAULT_SCENE,
    dtype: Any = np.float32,
    backend: str = "auto",
) -> np.ndarray:
    """Ray-cast Shapes3D images from factor values.

    Parameters
    ----------
    values : array (n, 6)
        (floor hue, wall hue, object hue, scale > 0, shape id in {0, 1, 2, 3}, orientation in
        degrees), any reals (not only grid points).
    scene : Shapes3DScene
    dtype : numpy.uint8 or numpy.float32
    backend : "auto" | "native" | "reference"

    Returns
    -------
    numpy.ndarray, shape (n, 3, 64, 64), channels first; float32 in [0, 1] or uint8.
    """
    func = "render_shapes3d"
    v = check_array(func, "values", values, ndim=2)
    if v.shape[1] != 6:
        raise ValueError(f"{func}: values must have 6 columns (floor_hue, wall_hue, object_hue, "
                         f"scale, shape, orientation); got shape {tuple(v.shape)}")
    ok = np.isin(v[:, 4], (0.0, 1.0, 2.0, 3.0))
    if not ok.all():
        raise ValueError(f"{func}: values[:, 4] (shape) must be 0, 1, 2 or 3; got {v[~ok, 4][0]!r}")
    if (v[:, 3] <= 0).any():
        raise ValueError(f"{func}: values[:, 3] (scale) must be > 0; got {v[v[:, 3] <= 0, 3][0]!r}")
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.uint8), np.dtype(np.float32)):
        raise TypeError(f"{func}: dtype must be uint8 or float32; got {dt}")
    path = resolve_backend(func, backend)
    params = shapes3d_params(v, scene)
    out = np.empty((len(v), 3, SIZE, SIZE), dt)
    if path == "native":
        native().render_shapes3d(params, scene.scene_array(), out)
    else:
        from vaecore.reference.render import render_shapes3d as twin

        twin(params, scene.scene_array(), out)
    return out


class Shapes3D(GridDataset):
    """Shapes3D: 480,000 RGB 64 × 64 images of a room with one object (see module docstring).

    Parameters
    ----------
    path : str or None
        None: ray-cast procedurally (C++). Otherwise ``3dshapes.h5`` (datasets ``images``
        uint8 (480000, 64, 64, 3) and ``labels`` float64 (480000, 6) = factor values), read
        lazily with h5py (extra ``data``) one batch at a time; never loaded whole.
    scene : Shapes3DScene
        Constants of the procedural renderer.
    backend : "auto" | "native" | "reference"

    Notes
    -----
    Factor kinds: the three hues cyclic, scale ordinal, shape categorical, orientation
    ordinal. Observations are channels first ``(3, 64, 64)``.
    """

    name = "shapes3d"
    factor_names = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    factor_sizes = (10, 10, 10, 8, 4, 15)
    factor_kinds = ("cyclic", "cyclic", "cyclic", "ordinal", "categorical", "ordinal")
    factor_values = (
        np.linspace(0.0, 0.9, 10),
        np.linspace(0.0, 0.9, 10),
        np.linspace(0.0, 0.9, 10),
        np.linspace(0.75, 1.25, 8),
        np.arange(4, dtype=np.float64),
        np.linspace(-30.0, 30.0, 15),
    )
    observation_shape = (3, SIZE, SIZE)
    is_image = True

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        scene: Shapes3DScene = DEFAULT_SCENE,
        backend: str = "auto",
    ) -> None:
        check_option("load('shapes3d')", "backend", backend, ("auto", "native", "reference"))
        if not isinstance(scene, Shapes3DScene):
            raise TypeError(f"load('shapes3d'): scene must be a Shapes3DScene; got "
                            f"{type(scene).__name__}")
        self.scene = scene
        self.backend = backend
        self.path = None if path is None else os.fspath(path)
        self._file: Any = None
        self._rows: np.ndarray | None = None
        if self.path is not None:
            opened = open_shapes3d(self.path, self)
            self.path, self._file, self._rows, self._pid = opened.path, opened.handle, opened.rows, opened.pid

    @property
    def procedural(self) -> bool:
        return self._file is None

    def render_values(self, values: Any, *, dtype: Any = np.float32) -> np.ndarray:
        """Render images of arbitrary factor *values* ``(n, 6)`` (not only grid points)."""
        return render_shapes3d(values, scene=self.scene, dtype=dtype, backend=self.backend)

    def observations_at(self, indices: Any) -> np.ndarray:
        idx = self._check_indices("observations_at", indices)
        if self._file is not None:
            return read_rows(self, idx)
        return self.render_values(self.factor_values_of(self.index_to_factors(idx)))

    def __getstate__(self) -> dict[str, Any]:
        # h5py handles do not pickle (DataLoader workers under spawn): reopen lazily
        state = dict(self.__dict__)
        state["_file"] = None if self._file is None else "reopen"
        return state
