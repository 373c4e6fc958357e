"""Pure-numpy twins of the procedural renderers in ``csrc/render_dsprites.cpp`` and
``csrc/render_shapes3d.cpp``.

They take the same per-image parameter rows as the kernels (computed by
:mod:`vaecore.datasets.dsprites` / :mod:`vaecore.datasets.shapes3d`, so sin/cos are
shared) and evaluate the same formulas, in the same order, on every pixel. The dSprites
twin matches the kernel bit for bit; the Shapes3D twin matches to float rounding (see
:func:`render_shapes3d`).
"""

from __future__ import annotations

import numpy as np

SIZE = 64


def _fill(out: np.ndarray | None, n: int, channels: int | None = None) -> np.ndarray:
    shape = (n, SIZE, SIZE) if channels is None else (n, channels, SIZE, SIZE)
    return np.zeros(shape, np.uint8) if out is None else out


def render_dsprites(poses: np.ndarray, out: np.ndarray) -> None:
    """Render binary sprites from pose rows ``[shape, cx, cy, a, b, radius, p0, p1]``.

    Pixel ``(i, j)`` has centre ``(X, Y) = (j + 0.5, i + 0.5)``; with ``dx = X - cx``,
    ``dy = Y - cy`` the sprite-local coordinates are ``u = dx*a + dy*b``,
    ``v = dy*a - dx*b`` and the pixel is set when

    - square (0): ``|u| <= 1 and |v| <= 1``
    - ellipse (1): ``u*u*p0 + v*v*p1 <= 1``
    - heart (2): ``x = u*p0, y = p1 - v*p0, q = x*x + y*y - 1``, ``q*q*q - x*x*y*y*y <= 0``
      (the heart curve ``(x² + y² - 1)³ = x² y³``).

    Parameters
    ----------
    poses : float64 (n, 8)
    out : uint8 or float32 (n, 64, 64), overwritten.
    """
    centres = np.arange(SIZE, dtype=np.float64) + 0.5
    for k in range(poses.shape[0]):
        shape, cx, cy, a, b, _r, p0, p1 = (float(x) for x in poses[k])
        dx = (centres - cx)[None, :]
        dy = (centres - cy)[:, None]
        u = dx * a + dy * b
        v = dy * a - dx * b
        if shape == 0.0:
            mask = (np.abs(u) <= 1.0) & (np.abs(v) <= 1.0)
        elif shape == 1.0:
            mask = u * u * p0 + v * v * p1 <= 1.0
        else:
            x = u * p0
            y = p1 - v * p0
            q = x * x + y * y - 1.0
            mask = q * q * q - x * x * y * y * y <= 0.0
        out[k] = mask
