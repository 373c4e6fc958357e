// Procedural Shapes3D renderer: a small ray caster of a room (floor, back wall) with one
// object (cube, cylinder, sphere, capsule) standing at the origin, Lambert shading.
//
// Contract
//   params float64 (n, 23), one row per image:
//     [0] shape (0 cube, 1 cylinder, 2 sphere, 3 capsule)   [1] size s (> 0)
//     [2:5] camera origin o   [5:8] forward f   [8:11] right r   [11:14] up u
//     (r and u already scaled by tan(fov / 2)); [14:17] floor rgb [17:20] wall rgb
//     [20:23] object rgb
//   scene float64 (6,): [wall_z, lx, ly, lz, ambient, diffuse] (l the unit light direction)
//   out uint8 or float32 (n, 3, 64, 64): colour * (ambient + diffuse * max(0, n . l)),
//     uint8 = floor(255 * value + 0.5).
// World: y up, floor y = 0 (normal +y), wall z = wall_z (normal -z). Objects (size s):
//   cube     [-s, s] x [0, 2s] x [-s, s]
//   cylinder radius s, y in [0, 2s] (side + top cap)
//   sphere   centre (0, s, 0), radius s
//   capsule  radius 0.6 s, axis segment y in [0.6 s, 2s - 0.6 s]
// Pixel (i, j): ray d = f + x r + y u with x = (j + 0.5) / 32 - 1, y = 1 - (i + 0.5) / 32.
// Rays passing within bound = {1.75, 1.42, 1.01, 1.01}[shape] * s of the object's centre
// (0, s, 0) are normalised and tested against floor, wall and object; for the others the
// wall wins over the floor iff (wall_z - oz) * (-dy) < oy * dz (the division-free form of
// t_wall < t_floor, along the unnormalised direction). Nearest hit with t > 0 wins.
// Everything is +, -, *, /, sqrt without FMA contraction, mirrored step by step by
// vaecore/reference/render.py:render_shapes3d (a conservative pixel box only skips rays
// that cannot be candidates).
#include "common.hpp"

#include <cmath>
#include <limits>

namespace vaecore {
namespace {

constexpr int kSize = 64;
constexpr double kInf = std::numeric_limits<double>::infinity();
// Radius (in units of s) of a sphere around (0, s, 0) holding each object: cube sqrt(3),
// cylinder sqrt(2), sphere and capsule 1 (each with a small margin).
constexpr double kBound[4] = {1.75, 1.42, 1.01, 1.01};

struct Hit {
  double t = kInf;
  double nx = 0, ny = 0, nz = 0;
};

// First entry of the ray into the sphere (c, radius); t must be > 0.
inline void sphere(double ox, double oy, double oz, double dx, double dy, double dz, double cx,
                   double cy, double cz, double radius, Hit& h) {
  const double px = ox - cx, py = oy - cy, pz = oz - cz;
  const double b = px * dx + py * dy + pz * dz;
  const double c = px * px + py * py + pz * pz - radius * radius;
  const double disc = b * b - c;
  if (disc < 0.0) return;
  const double t = -b - std::sqrt(disc);
  if (t > 0.0 && t < h.t) {
    h.t = t;
    h.nx = (ox + t * dx - cx) / radius;
    h.ny = (oy + t * dy - cy) / radius;
    h.nz = (oz + t * dz - cz) / radius;
  }
}

// Side of the vertical tube of radius `radius` around the y axis, for y in [y0, y1].
inline void tube(double ox, double oy, double oz, double dx, double dy, double dz, double radius,
                 double y0, double y1, Hit& h) {
  const double a = dx * dx + dz * dz;
  if (a == 0.0) return;
  const double b = ox * dx + oz * dz;
  const double c = ox * ox + oz * oz - radius * radius;
  const double disc = b * b - a * c;
  if (disc < 0.0) return;
  const double t = (-b - std::sqrt(disc)) / a;
  const double y = oy + t * dy;
  if (t > 0.0 && t < h.t && y >= y0 && y <= y1) {
    h.t = t;
    h.nx = (ox + t * dx) / radius;
    h.ny = 0.0;
    h.nz = (oz + t * dz) / radius;
  }
}

// One slab of the cube along an axis: updates [tnear, tfar] and the entry normal axis.
inline bool slab(double o, double d, double lo, double hi, double& tnear, double& tfar,
                 int axis, int& near_axis, double& near_sign) {
  if (d == 0.0) return o >= lo && o <= hi;
  double t1 = (lo - o) / d;
  double t2 = (hi - o) / d;
  double sign = -1.0;  // entering through the `lo` face: outward normal -axis
  if (t1 > t2) {
    const double tmp = t1;
    t1 = t2;
    t2 = tmp;
    sign = 1.0;
  }
  if (t1 > tnear) {
    tnear = t1;
    near_axis = axis;
    near_sign = sign;
  }
  if (t2 < tfar) tfar = t2;
  return true;
}

inline void cube(double ox, double oy, double oz, double dx, double dy, double dz, double s,
                 Hit& h) {
  double tnear = -kInf, tfar = kInf, sign = 0.0;
  int axis = -1;
  if (!slab(ox, dx, -s, s, tnear, tfar, 0, axis, sign)) return;
  if (!slab(oy, dy, 0.0, 2.0 * s, tnear, tfar, 1, axis, sign)) return;
  if (!slab(oz, dz, -s, s, tnear, tfar, 2, axis, sign)) return;
  if (axis < 0 || tnear > tfar || tnear <= 0.0 || tnear >= h.t) return;
  h.t = tnear;
  h.nx = axis == 0 ? sign : 0.0;
  h.ny = axis == 1 ? sign : 0.0;
  h.nz = axis == 2 ? sign : 0.0;
}

template <typename T>
inline T store(double v);
template <>
inline float store<float>(double v) {
  return static_cast<float>(v);
}
template <>
inline std::uint8_t store<std::uint8_t>(double v) {
  return static_cast<std::uint8_t>(static_cast<int>(255.0 * v + 0.5));  // v >= 0: floor
}

// Conservative pixel box [i0, i1] x [j0, j1] outside which no ray passes within `bound`
// of the object's centre c = (0, s, 0): the bounding sphere's camera-space box projected
// (corner extremes of a / z), plus one pixel. The whole image when the sphere is not
// entirely in front of the camera.
inline void candidate_box(const double* p, double bound, int& i0, int& i1, int& j0, int& j1) {
  i0 = 0;
  i1 = kSize - 1;
  j0 = 0;
  j1 = kSize - 1;
  const double cx = -p[2], cy = p[1] - p[3], cz = -p[4];
  const double rn = std::sqrt(p[8] * p[8] + p[9] * p[9] + p[10] * p[10]);
  const double un = std::sqrt(p[11] * p[11] + p[12] * p[12] + p[13] * p[13]);
  const double zc = cx * p[5] + cy * p[6] + cz * p[7];
  if (!(zc - bound > 1e-9) || rn <= 0.0 || un <= 0.0) return;
  const double ac = (cx * p[8] + cy * p[9] + cz * p[10]) / rn;
  const double bc = (cx * p[11] + cy * p[12] + cz * p[13]) / un;
  auto range = [&](double centre, double norm, double& lo, double& hi) {
    lo = kInf;
    hi = -kInf;
    for (double da : {-bound, bound})
      for (double dz : {-bound, bound}) {
        const double v = (centre + da) / ((zc + dz) * norm);
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
  };
  double xlo, xhi, ylo, yhi;
  range(ac, rn, xlo, xhi);
  range(bc, un, ylo, yhi);
  // x = (j + 0.5)/32 - 1, y = 1 - (i + 0.5)/32
  auto clampi = [](double v) {
    return static_cast<int>(std::max(-1.0, std::min(static_cast<double>(kSize), v)));
  };
  j0 = std::max(0, clampi(std::floor(32.0 * (xlo + 1.0) - 0.5)) - 1);
  j1 = std::min(kSize - 1, clampi(std::ceil(32.0 * (xhi + 1.0) - 0.5)) + 1);
  i0 = std::max(0, clampi(std::floor(32.0 * (1.0 - yhi) - 0.5)) - 1);
  i1 = std::min(kSize - 1, clampi(std::ceil(32.0 * (1.0 - ylo) - 0.5)) + 1);
}

template <typename T>
void render_one(const double* p, const double* scene, T* img) {
  const int shape = static_cast<int>(p[0]);
  const double s = p[1];
  const double ox = p[2], oy = p[3], oz = p[4];
  const double wall_z = scene[0], lx = scene[1], ly = scene[2], lz = scene[3];
  const double ambient = scene[4], diffuse = scene[5];
  const double floor_shade = ambient + diffuse * std::max(0.0, ly);
  const double wall_shade = ambient + diffuse * std::max(0.0, -lz);
  T floor_rgb[3], wall_rgb[3];
  for (int c = 0; c < 3; ++c) {
    floor_rgb[c] = store<T>(p[14 + c] * floor_shade);
    wall_rgb[c] = store<T>(p[17 + c] * wall_shade);
  }
  // bounding sphere of the object (centre (0, s, 0)), for a quick reject
  const double bound = kBound[shape] * s;
  const double qx = -ox, qy = s - oy, qz = -oz;
  const double qq = qx * qx + qy * qy + qz * qz;
  const double bound2 = bound * bound;
  const double wall_front = wall_z - oz;
  const bool floor_ok = oy > 0.0;         // -oy/dy > 0 for dy < 0
  const bool wall_ok = wall_front > 0.0;  // (wall_z - oz)/dz > 0 for dz > 0
  int bi0, bi1, bj0, bj1;
  candidate_box(p, bound, bi0, bi1, bj0, bj1);
  T* rch = img;
  T* gch = img + kSize * kSize;
  T* bch = img + 2 * kSize * kSize;
  unsigned char code[kSize];
  for (int i = 0; i < kSize; ++i) {
    const double y = 1.0 - (static_cast<double>(i) + 0.5) / 32.0;
    // 1) floor (1) / wall (2) / nothing (0) for every pixel of the row, division-free:
    //    the wall wins iff (wall_z - oz) * (-dy) < oy * dz (t_wall < t_floor, d unnormalised)
    for (int j = 0; j < kSize; ++j) {
      const double x = (static_cast<double>(j) + 0.5) / 32.0 - 1.0;
      const double dy = p[6] + x * p[9] + y * p[12];
      const double dz = p[7] + x * p[10] + y * p[13];
      const bool f = dy < 0.0 && floor_ok;
      const bool w = dz > 0.0 && wall_ok;
      const bool wall = (f && w) ? (wall_front * (-dy) < oy * dz) : w;
      code[j] = wall ? 2 : (f ? 1 : 0);
    }
    for (int j = 0; j < kSize; ++j) {
      const int k = i * kSize + j;
      const T* rgb = code[j] == 2 ? wall_rgb : floor_rgb;
      const bool none = code[j] == 0;
      rch[k] = none ? T(0) : rgb[0];
      gch[k] = none ? T(0) : rgb[1];
      bch[k] = none ? T(0) : rgb[2];
    }
    if (i < bi0 || i > bi1) continue;
    // 2) rays passing within `bound` of the object's centre: normalised, nearest of floor,
    //    wall and object (distances along the unit direction)
    for (int j = bj0; j <= bj1; ++j) {
      const double x = (static_cast<double>(j) + 0.5) / 32.0 - 1.0;
      double dx = p[5] + x * p[8] + y * p[11];
      double dy = p[6] + x * p[9] + y * p[12];
      double dz = p[7] + x * p[10] + y * p[13];
      const double dd = dx * dx + dy * dy + dz * dz;
      const double qd = qx * dx + qy * dy + qz * dz;
      if (!(qq * dd - qd * qd <= bound2 * dd)) continue;
      const double inv = 1.0 / std::sqrt(dd);
      dx = dx * inv;
      dy = dy * inv;
      dz = dz * inv;
      double best = kInf;
      const double* colour = nullptr;
      double shade = 0.0;
      if (dy < 0.0) {
        const double t = -oy / dy;
        if (t > 0.0) {
          best = t;
          colour = p + 14;
          shade = floor_shade;
        }
      }
      if (dz > 0.0) {
        const double t = (wall_z - oz) / dz;
        if (t > 0.0 && t < best) {
          best = t;
          colour = p + 17;
          shade = wall_shade;
        }
      }
      Hit h;
      h.t = best;
      if (shape == 0) {
        cube(ox, oy, oz, dx, dy, dz, s, h);
      } else if (shape == 1) {
        tube(ox, oy, oz, dx, dy, dz, s, 0.0, 2.0 * s, h);
        if (dy < 0.0) {
          const double t = (2.0 * s - oy) / dy;
          const double px = ox + t * dx, pz = oz + t * dz;
          if (t > 0.0 && t < h.t && px * px + pz * pz <= s * s) {
            h.t = t;
            h.nx = 0.0;
            h.ny = 1.0;
            h.nz = 0.0;
          }
        }
      } else if (shape == 2) {
        sphere(ox, oy, oz, dx, dy, dz, 0.0, s, 0.0, s, h);
      } else {
        const double r = 0.6 * s;
        tube(ox, oy, oz, dx, dy, dz, r, r, 2.0 * s - r, h);
        sphere(ox, oy, oz, dx, dy, dz, 0.0, r, 0.0, r, h);
        sphere(ox, oy, oz, dx, dy, dz, 0.0, 2.0 * s - r, 0.0, r, h);
      }
      if (h.t < best) {
        colour = p + 20;
        shade = ambient + diffuse * std::max(0.0, h.nx * lx + h.ny * ly + h.nz * lz);
      }
      const int k = i * kSize + j;
      if (colour == nullptr) {
        rch[k] = gch[k] = bch[k] = T(0);
      } else {
        rch[k] = store<T>(colour[0] * shade);
        gch[k] = store<T>(colour[1] * shade);
        bch[k] = store<T>(colour[2] * shade);
      }
    }
  }
}

template <typename T>
void render_all(const double* params, const double* scene, py::ssize_t n, T* out) {
  parallel_for(
      n,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t k = begin; k < end; ++k)
          render_one<T>(params + 23 * k, scene, out + k * 3 * kSize * kSize);
      },
      4);
}

void render_shapes3d(const carray<double>& params, const carray<double>& scene, py::array out) {
  require_ndim(params, 2, "render_shapes3d", "params");
  require(params.shape(1) == 23, "render_shapes3d: params must have 23 columns; got " +
                                     std::to_string(params.shape(1)));
  require(scene.ndim() == 1 && scene.shape(0) == 6, "render_shapes3d: scene must have shape (6,)");
  const py::ssize_t n = params.shape(0);
  require(out.ndim() == 4 && out.shape(0) == n && out.shape(1) == 3 && out.shape(2) == kSize &&
              out.shape(3) == kSize,
          "render_shapes3d: out must have shape (n, 3, 64, 64) with n = len(params)");
  require(out.flags() & py::array::c_style, "render_shapes3d: out must be C-contiguous");
  require(out.writeable(), "render_shapes3d: out must be writeable");
  const double* p = params.data();
  for (py::ssize_t k = 0; k < n * 23; ++k)
    require(std::isfinite(p[k]), "render_shapes3d: params must be finite");
  for (py::ssize_t k = 0; k < n; ++k) {
    const double sh = p[23 * k];
    require(sh == 0.0 || sh == 1.0 || sh == 2.0 || sh == 3.0,
            "render_shapes3d: shape ids must be 0, 1, 2 or 3");
    require(p[23 * k + 1] > 0.0, "render_shapes3d: sizes must be > 0");
  }
  const double* sc = scene.data();
  if (out.dtype().is(py::dtype::of<std::uint8_t>())) {
    auto* o = static_cast<std::uint8_t*>(out.mutable_data());
    py::gil_scoped_release release;
    render_all<std::uint8_t>(p, sc, n, o);
  } else if (out.dtype().is(py::dtype::of<float>())) {
    auto* o = static_cast<float*>(out.mutable_data());
    py::gil_scoped_release release;
    render_all<float>(p, sc, n, o);
  } else {
    throw std::invalid_argument("render_shapes3d: out must have dtype uint8 or float32");
  }
}

}  // namespace

VAECORE_REGISTER(render_shapes3d) {
  m.def("render_shapes3d", &render_shapes3d, py::arg("params"), py::arg("scene"), py::arg("out"),
        "Ray-cast 64x64 RGB Shapes3D images from per-image parameters (n, 23) and scene "
        "constants (6,) into out (uint8 or float32, (n, 3, 64, 64)); see "
        "vaecore.datasets.shapes3d for the layout.");
}

}  // namespace vaecore
