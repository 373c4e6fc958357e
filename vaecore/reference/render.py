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
# radius (units of s) of a sphere around (0, s, 0) holding each Shapes3D object:
# cube sqrt(3), cylinder sqrt(2), sphere and capsule 1, with a small margin
BOUND = (1.75, 1.42, 1.01, 1.01)


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


def _sphere(o, d, centre_y, radius, best, normal):
    px, py, pz = o[0], o[1] - centre_y, o[2]
    b = px * d[0] + py * d[1] + pz * d[2]
    c = px * px + py * py + pz * pz - radius * radius
    disc = b * b - c
    with np.errstate(invalid="ignore"):
        t = -b - np.sqrt(disc)
    hit = (disc >= 0.0) & (t > 0.0) & (t < best)
    best[hit] = t[hit]
    normal[0][hit] = ((o[0] + t * d[0]) / radius)[hit]
    normal[1][hit] = ((o[1] + t * d[1] - centre_y) / radius)[hit]
    normal[2][hit] = ((o[2] + t * d[2]) / radius)[hit]


def _tube(o, d, radius, y0, y1, best, normal):
    a = d[0] * d[0] + d[2] * d[2]
    b = o[0] * d[0] + o[2] * d[2]
    c = o[0] * o[0] + o[2] * o[2] - radius * radius
    disc = b * b - a * c
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (-b - np.sqrt(disc)) / a
    y = o[1] + t * d[1]
    hit = (a != 0.0) & (disc >= 0.0) & (t > 0.0) & (t < best) & (y >= y0) & (y <= y1)
    best[hit] = t[hit]
    normal[0][hit] = ((o[0] + t * d[0]) / radius)[hit]
    normal[1][hit] = 0.0
    normal[2][hit] = ((o[2] + t * d[2]) / radius)[hit]


def _cube(o, d, s, best, normal):
    n = best.shape
    tnear = np.full(n, -np.inf)
    tfar = np.full(n, np.inf)
    axis = np.full(n, -1)
    sign = np.zeros(n)
    ok = np.ones(n, bool)
    for ax, (lo, hi) in enumerate(((-s, s), (0.0, 2.0 * s), (-s, s))):
        oo, dd = o[ax], d[ax]
        zero = dd == 0.0
        ok &= ~zero | ((oo >= lo) & (oo <= hi))
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = (lo - oo) / dd
            t2 = (hi - oo) / dd
        swap = t1 > t2
        a1 = np.where(swap, t2, t1)
        a2 = np.where(swap, t1, t2)
        sg = np.where(swap, 1.0, -1.0)
        upd = ~zero & (a1 > tnear)
        tnear = np.where(upd, a1, tnear)
        axis = np.where(upd, ax, axis)
        sign = np.where(upd, sg, sign)
        tfar = np.where(~zero & (a2 < tfar), a2, tfar)
    hit = ok & (axis >= 0) & (tnear <= tfar) & (tnear > 0.0) & (tnear < best)
    best[hit] = tnear[hit]
    for ax in range(3):
        normal[ax][hit] = np.where(axis == ax, sign, 0.0)[hit]


def render_shapes3d(params: np.ndarray, scene: np.ndarray, out: np.ndarray) -> None:
    """Ray-cast the Shapes3D room from kernel rows ``params (n, 23)`` and ``scene (6,)``.

    Same formulas and evaluation order as ``csrc/render_shapes3d.cpp`` (see its header for
    the layout): the ray of pixel (i, j) is ``f + x r + y u`` with
    ``x = (j + 0.5)/32 - 1``, ``y = 1 - (i + 0.5)/32``, normalised; the nearest hit among the
    floor ``y = 0``, the wall ``z = wall_z`` and the object gives the colour, shaded by
    ``ambient + diffuse * max(0, n . l)``. Only rays passing within ``BOUND[shape] * s`` of the object's
    centre are normalised and tested against the object (the kernel's quick reject; floor
    and wall distances compare equally well along an unnormalised direction). Results
    agree with the kernel to float rounding: identical except, rarely, a silhouette pixel
    decided by the last bit.
    """
    wall_z, lx, ly, lz, ambient, diffuse = (float(v) for v in scene)
    c = np.arange(SIZE, dtype=np.float64) + 0.5
    x = np.broadcast_to((c / 32.0 - 1.0)[None, :], (SIZE, SIZE)).ravel()
    y = np.broadcast_to((1.0 - c / 32.0)[:, None], (SIZE, SIZE)).ravel()
    for k in range(params.shape[0]):
        p = params[k]
        shape, s = int(p[0]), float(p[1])
        o = (float(p[2]), float(p[3]), float(p[4]))
        dx = p[5] + x * p[8] + y * p[11]
        dy = p[6] + x * p[9] + y * p[12]
        dz = p[7] + x * p[10] + y * p[13]
        # candidate rays (within BOUND[shape] * s of the object's centre) are normalised and tested
        # against everything; the others only decide floor vs wall, exactly as the kernel
        qx, qy, qz = -o[0], s - o[1], -o[2]
        qq = qx * qx + qy * qy + qz * qz
        bound = BOUND[shape] * s
        dd = dx * dx + dy * dy + dz * dz
        qd = qx * dx + qy * dy + qz * dz
        cand = qq * dd - qd * qd <= (bound * bound) * dd
        inv = 1.0 / np.sqrt(dd)
        d = (np.where(cand, dx * inv, dx), np.where(cand, dy * inv, dy),
             np.where(cand, dz * inv, dz))
        best = np.full(x.shape, np.inf)
        colour = np.zeros((x.size, 3))
        shade = np.zeros(x.size)
        surface = np.zeros(x.size, np.int64)  # 0 none, 1 floor, 2 wall, 3 object
        with np.errstate(divide="ignore", invalid="ignore"):
            tf = -o[1] / d[1]
            tw = (wall_z - o[2]) / d[2]
        hit = (d[1] < 0.0) & (tf > 0.0)
        best[hit] = tf[hit]
        surface[hit] = 1
        hit = (d[2] > 0.0) & (tw > 0.0) & (tw < best)
        best[hit] = tw[hit]
        surface[hit] = 2
        # non-candidates: floor vs wall without division, along the unnormalised direction
        wall_front = wall_z - o[2]
        f_ok = (dy < 0.0) & (o[1] > 0.0)
        w_ok = (dz > 0.0) & (wall_front > 0.0)
        wall_wins = np.where(f_ok & w_ok, wall_front * (-dy) < o[1] * dz, w_ok)
        quick = np.where(wall_wins, 2, np.where(f_ok, 1, 0))
        surface = np.where(cand, surface, quick)
        best_obj = np.where(cand, best, -np.inf)  # non-candidates never take the object
        obj = best_obj.copy()
        normal = [np.zeros(x.size), np.zeros(x.size), np.zeros(x.size)]
        if shape == 0:
            _cube(o, d, s, obj, normal)
        elif shape == 1:
            _tube(o, d, s, 0.0, 2.0 * s, obj, normal)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (2.0 * s - o[1]) / d[1]
            px = o[0] + t * d[0]
            pz = o[2] + t * d[2]
            cap = (d[1] < 0.0) & (t > 0.0) & (t < obj) & (px * px + pz * pz <= s * s)
            obj[cap] = t[cap]
            normal[0][cap], normal[1][cap], normal[2][cap] = 0.0, 1.0, 0.0
        elif shape == 2:
            _sphere(o, d, s, s, obj, normal)
        else:
            r = 0.6 * s
            _tube(o, d, r, r, 2.0 * s - r, obj, normal)
            _sphere(o, d, r, r, obj, normal)
            _sphere(o, d, 2.0 * s - r, r, obj, normal)
        hit = cand & (obj < best)
        surface[hit] = 3
        floor_shade = ambient + diffuse * max(0.0, ly)
        wall_shade = ambient + diffuse * max(0.0, -lz)
        for code, rows, sh in ((1, p[14:17], floor_shade), (2, p[17:20], wall_shade)):
            m = surface == code
            colour[m] = rows
            shade[m] = sh
        m = surface == 3
        colour[m] = p[20:23]
        shade[m] = ambient + diffuse * np.maximum(
            0.0, normal[0][m] * lx + normal[1][m] * ly + normal[2][m] * lz)
        value = colour * shade[:, None]
        if out.dtype == np.uint8:
            img = np.floor(255.0 * value + 0.5).astype(np.uint8)
        else:
            img = value.astype(np.float32)
        out[k] = img.T.reshape(3, SIZE, SIZE)
