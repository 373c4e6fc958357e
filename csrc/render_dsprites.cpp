// Procedural dSprites renderer: binary 64x64 sprites (square, ellipse, heart).
//
// Contract: poses float64 (n, 8), one row per image:
//   [shape, cx, cy, a, b, radius, p0, p1]
// shape 0 = square, 1 = ellipse, 2 = heart; (cx, cy) the sprite centre in pixel units
// (x = column, y = row, pixel (i, j) has centre (j + 0.5, i + 0.5)); a = cos(t)/size,
// b = sin(t)/size give the sprite-local coordinates of a pixel centre
//   dx = X - cx, dy = Y - cy,  u = dx*a + dy*b,  v = dy*a - dx*b;
// radius (pixels) bounds the sprite: pixel centres farther than it are never inside;
// p0, p1 are the shape's parameters:
//   square:  |u| <= 1 and |v| <= 1
//   ellipse: u*u*p0 + v*v*p1 <= 1
//   heart:   x = u*p0, y = p1 - v*p0, q = x*x + y*y - 1, q*q*q - x*x*y*y*y <= 0
// The pose is computed in Python (vaecore/datasets/dsprites.py) so that sin/cos are
// shared with the numpy twin (vaecore/reference/render.py); the inside-tests use only +, -,
// * and comparisons, compiled without FMA contraction, so native and twin agree bit for bit
// (sqrt only clips each row to the bounding disk, which never changes a pixel).
// out: uint8 or float32 (n, 64, 64), written with 1 inside and 0 outside.
#include "common.hpp"

#include <cmath>
#include <cstring>

namespace vaecore {
namespace {

constexpr int kSize = 64;

// Inside-test of one pixel centre in sprite-local coordinates (u, v).
template <int Shape>
inline bool inside(double u, double v, double p0, double p1) {
  if constexpr (Shape == 0) {
    return std::fabs(u) <= 1.0 && std::fabs(v) <= 1.0;
  } else if constexpr (Shape == 1) {
    return u * u * p0 + v * v * p1 <= 1.0;
  } else {
    const double x = u * p0;
    const double y = p1 - v * p0;
    const double q = x * x + y * y - 1.0;
    return q * q * q - x * x * y * y * y <= 0.0;
  }
}

// Only pixel centres within `radius` of the sprite centre can be inside, so each row is
// clipped to the chord of that disk (plus 0.01 px against rounding); the numpy twin
// evaluates every pixel and agrees bit for bit (tests check it).
template <int Shape, typename T>
void draw(const double* pose, T* img) {
  const double cx = pose[1], cy = pose[2], a = pose[3], b = pose[4], r = pose[5] + 0.01;
  const double p0 = pose[6], p1 = pose[7];
  const int i0 = std::max(0, static_cast<int>(std::ceil(cy - r - 0.5)));
  const int i1 = std::min(kSize - 1, static_cast<int>(std::floor(cy + r - 0.5)));
  for (int i = i0; i <= i1; ++i) {
    const double dy = (static_cast<double>(i) + 0.5) - cy;
    const double w = std::sqrt(std::max(0.0, r * r - dy * dy));
    const int j0 = std::max(0, static_cast<int>(std::ceil(cx - w - 0.5)));
    const int j1 = std::min(kSize - 1, static_cast<int>(std::floor(cx + w - 0.5)));
    T* row = img + i * kSize;
    for (int j = j0; j <= j1; ++j) {
      const double dx = (static_cast<double>(j) + 0.5) - cx;
      const double u = dx * a + dy * b;
      const double v = dy * a - dx * b;
      row[j] = static_cast<T>(inside<Shape>(u, v, p0, p1));
    }
  }
}

template <typename T>
void render_one(const double* pose, T* img) {
  std::memset(img, 0, sizeof(T) * kSize * kSize);
  const int shape = static_cast<int>(pose[0]);
  if (shape == 0) draw<0, T>(pose, img);
  else if (shape == 1) draw<1, T>(pose, img);
  else draw<2, T>(pose, img);
}

template <typename T>
void render_all(const double* poses, py::ssize_t n, T* out) {
  parallel_for(
      n,
      [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t k = begin; k < end; ++k)
          render_one<T>(poses + 8 * k, out + k * kSize * kSize);
      },
      64);
}

void render_dsprites(const carray<double>& poses, py::array out) {
  require_ndim(poses, 2, "render_dsprites", "poses");
  require(poses.shape(1) == 8, "render_dsprites: poses must have 8 columns; got " +
                                   std::to_string(poses.shape(1)));
  const py::ssize_t n = poses.shape(0);
  require(out.ndim() == 3 && out.shape(0) == n && out.shape(1) == kSize && out.shape(2) == kSize,
          "render_dsprites: out must have shape (n, 64, 64) with n = len(poses)");
  require(out.flags() & py::array::c_style, "render_dsprites: out must be C-contiguous");
  require(out.writeable(), "render_dsprites: out must be writeable");
  const double* p = poses.data();
  for (py::ssize_t k = 0; k < n; ++k) {
    const double s = p[8 * k];
    require(s == 0.0 || s == 1.0 || s == 2.0, "render_dsprites: shape ids must be 0, 1 or 2");
    for (int c = 1; c < 8; ++c)
      require(std::isfinite(p[8 * k + c]), "render_dsprites: poses must be finite");
  }
  if (out.dtype().is(py::dtype::of<std::uint8_t>())) {
    auto* o = static_cast<std::uint8_t*>(out.mutable_data());
    py::gil_scoped_release release;
    render_all<std::uint8_t>(p, n, o);
  } else if (out.dtype().is(py::dtype::of<float>())) {
    auto* o = static_cast<float*>(out.mutable_data());
    py::gil_scoped_release release;
    render_all<float>(p, n, o);
  } else {
    throw std::invalid_argument("render_dsprites: out must have dtype uint8 or float32");
  }
}

}  // namespace

VAECORE_REGISTER(render_dsprites) {
  m.def("render_dsprites", &render_dsprites, py::arg("poses"), py::arg("out"),
        "Render binary 64x64 dSprites images from per-image poses (n, 8) into out "
        "(uint8 or float32, (n, 64, 64)); see vaecore.datasets.dsprites for the pose layout.");
}

}  // namespace vaecore
