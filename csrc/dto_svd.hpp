// Accurate right singular vectors of one tall matrix, for the DtO kernel
// (csrc/orthogonality.cpp) when its Gram path is unsafe.
//
// Forming J^T J squares the condition number: eigenvectors of the Gram matrix carry
// errors of order eps * s_1^2 / (s_k^2 - s_j^2), whereas a backward-stable SVD of J
// itself (what numpy's twin computes) carries eps * s_1 / |s_k - s_j|. This path
// works on J directly:
//   1. Householder QR of J (n x d, column-major copy): J = Q R, R upper triangular
//      d x d (unblocked, LAPACK dgeqr2's reflector convention);
//   2. one-sided (Hestenes) Jacobi on the columns of R: R W = U Sigma, so the
//      accumulated rotations W are the right singular vectors of R and of J, and the
//      final column norms its singular values.
// Both steps are backward stable, so V agrees with numpy's SVD to the conditioning
// of V itself (about eps * s_1 / gap). Sweeps are bounded (kMaxSweeps); the input
// must be finite and scaled (entries of order 1) by the caller.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

namespace vaecore {
namespace dto_svd {

using i64 = std::int64_t;

// Dot product with four partial sums (independent add chains; the order differs from a
// plain loop only by rounding, which the backward-error bound already covers).
template <typename Real>
Real dot(const Real* x, const Real* y, i64 m) {
  Real s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  i64 r = 0;
  for (; r + 4 <= m; r += 4) {
    s0 += x[r] * y[r];
    s1 += x[r + 1] * y[r + 1];
    s2 += x[r + 2] * y[r + 2];
    s3 += x[r + 3] * y[r + 3];
  }
  for (; r < m; ++r) s0 += x[r] * y[r];
  return (s0 + s1) + (s2 + s3);
}

// In-place Householder QR of A (n x d, column-major, n >= d). On return the upper
// triangle of A's first d rows holds R (entries below the diagonal are garbage).
template <typename Real>
void householder_r(Real* A, i64 n, i64 d) {
  using std::sqrt;
  for (i64 k = 0; k < d; ++k) {
    Real* x = A + k * n + k;  // column k, rows k..n-1
    const i64 m = n - k;
    const Real ss = dot(x + 1, x + 1, m - 1);
    if (ss == 0.0) continue;  // already upper triangular in this column: H = I
    const Real alpha = x[0];
    const Real beta = -std::copysign(sqrt(alpha * alpha + ss), alpha);
    const Real tau = (beta - alpha) / beta;
    const Real inv = Real(1) / (alpha - beta);
    for (i64 r = 1; r < m; ++r) x[r] *= inv;  // v = (1, x[1:] / (alpha - beta))
    x[0] = beta;
    for (i64 j = k + 1; j < d; ++j) {  // A[k:, j] -= tau * v (v . A[k:, j])
      Real* y = A + j * n + k;
      Real w = y[0] + dot(x + 1, y + 1, m - 1);
      w *= tau;
      y[0] -= w;
      for (i64 r = 1; r < m; ++r) y[r] -= w * x[r];
    }
  }
}

constexpr int kMaxSweeps = 80;

// One-sided Jacobi on B (d x d, column-major, destroyed): on return V (row-major,
// d x d) holds the right singular vectors as columns, sorted by descending singular
// value s, each column's largest-magnitude entry positive (first on ties).
template <typename Real>
void one_sided_jacobi(Real* B, i64 d, double* V, double* s, std::vector<Real>& W,
                      std::vector<i64>& order) {
  using std::fabs;
  using std::sqrt;
  W.assign(static_cast<std::size_t>(d * d), Real(0));  // column-major rotations
  for (i64 i = 0; i < d; ++i) W[i * d + i] = 1.0;
  const Real tol = std::numeric_limits<Real>::epsilon() * static_cast<Real>(d);
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    bool rotated = false;
    for (i64 p = 0; p + 1 < d; ++p) {
      for (i64 q = p + 1; q < d; ++q) {
        Real* bp = B + p * d;
        Real* bq = B + q * d;
        Real a = 0.0, b = 0.0, g = 0.0;
        for (i64 r = 0; r < d; ++r) {
          a += bp[r] * bp[r];
          b += bq[r] * bq[r];
          g += bp[r] * bq[r];
        }
        if (g == 0 || fabs(g) <= tol * sqrt(a) * sqrt(b)) continue;
        rotated = true;
        const Real zeta = (b - a) / (2 * g);
        const Real t = Real(zeta >= 0 ? 1 : -1) / (fabs(zeta) + sqrt(1 + zeta * zeta));
        const Real c = 1 / sqrt(1 + t * t);
        const Real sn = c * t;
        for (i64 r = 0; r < d; ++r) {
          const Real u = bp[r], v = bq[r];
          bp[r] = c * u - sn * v;
          bq[r] = sn * u + c * v;
        }
        Real* wp = W.data() + p * d;
        Real* wq = W.data() + q * d;
        for (i64 r = 0; r < d; ++r) {
          const Real u = wp[r], v = wq[r];
          wp[r] = c * u - sn * v;
          wq[r] = sn * u + c * v;
        }
      }
    }
    if (!rotated) break;
  }
  std::vector<double> norms(static_cast<std::size_t>(d));
  for (i64 j = 0; j < d; ++j) {
    Real acc = 0.0;
    for (i64 r = 0; r < d; ++r) acc += B[j * d + r] * B[j * d + r];
    norms[j] = static_cast<double>(sqrt(acc));
  }
  order.resize(static_cast<std::size_t>(d));
  std::iota(order.begin(), order.end(), i64{0});
  std::stable_sort(order.begin(), order.end(), [&](i64 u, i64 v) { return norms[u] > norms[v]; });
  for (i64 k = 0; k < d; ++k) {
    const Real* w = W.data() + order[k] * d;
    s[k] = norms[order[k]];
    i64 arg = 0;  // on the rounded values: the same tie rule as the Gram path and the twin
    for (i64 r = 1; r < d; ++r)
      if (std::fabs(static_cast<double>(w[r])) > std::fabs(static_cast<double>(w[arg]))) arg = r;
    const double sign = w[arg] < 0 ? -1.0 : 1.0;
    for (i64 r = 0; r < d; ++r) V[r * d + k] = sign * static_cast<double>(w[r]);
  }
}

}  // namespace dto_svd
}  // namespace vaecore
