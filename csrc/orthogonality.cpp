// Distance to orthogonality (DtO) of decoder Jacobians, thesis §3.2.6 (eq. 3.25–3.29).
//
// For each Jacobian J_i (n_out x d, row-major, float32 or float64) the kernel
//   1. accumulates the Gram matrix G_i = J_i^T J_i in float64 (one read of J_i),
//   2. diagonalises G_i with cyclic Jacobi rotations: G_i = V_i diag(lambda) V_i^T,
//      eigenvalues descending, singular values of J_i = sqrt(max(lambda, 0)); the
//      eigenvectors are the right singular vectors of J_i up to column signs,
//   3. finds the signed permutation P_i closest to V_i: an exact maximum-weight
//      assignment on |V_i| (Hungarian algorithm with potentials, O(d^3)), signs
//      taken from the chosen entries — for |V_ij| <= 1 this is the optimum of the
//      MILP (3.29), and it is always the Frobenius-closest signed permutation
//      (proof in vaecore/metrics/dto.py),
//   4. returns ||V_i - P_i||_F (eq. 3.25 per sample) and the smallest relative gap
//      between consecutive singular values (degeneracy flag, §3.3.4).
// Batched over samples with parallel_for; the GIL is released around the work.
#include <cmath>
#include <limits>

#include "common.hpp"
#include "dto_svd.hpp"

namespace vaecore {
namespace {

using i64 = std::int64_t;

// Gram kernel layout: a block of rows of J is converted to float64 in one
// contiguous pass (row stride d, followed by kTile zeros), then each 4 x 4 tile of
// the upper triangle of a padded Gram matrix Gp (dp x dp, dp = d rounded up to 4)
// accumulates  Gp[a0:a0+4, b0:b0+4] += x[a0:a0+4]^T x[b0:b0+4]  for every row x,
// with one vector load and four broadcasts per row and eight 4-wide accumulators
// (two rows per step). Lanes with a or b >= d read the next row (or the zeros) and
// land only in entries of Gp that are discarded, so no per-row padding is needed.
constexpr i64 kTile = 4;

i64 padded(i64 d) { return ((d + kTile - 1) / kTile) * kTile; }

i64 block_rows(i64 dp) { return std::max<i64>(16, 4096 / dp); }

#if defined(__GNUC__)
#define VAECORE_INLINE inline __attribute__((always_inline))
typedef double v4d __attribute__((vector_size(32)));
#else
#define VAECORE_INLINE inline
#endif

// Convert a block of rows (contiguous, count values) to float64, times 2^shift
// (exact: a power of two, std::ldexp so that even subnormal inputs scale without an
// overflowing factor), plus kTile zeros so that the tile loads below may run past the
// last row. shift is 0 except for badly scaled Jacobians (see dto_one).
template <typename T>
VAECORE_INLINE void load_block(const T* rows, i64 count, double* buf, int shift) {
  if (shift == 0) {
    for (i64 k = 0; k < count; ++k) buf[k] = static_cast<double>(rows[k]);
  } else {
    for (i64 k = 0; k < count; ++k) buf[k] = std::ldexp(static_cast<double>(rows[k]), shift);
  }
  for (i64 k = count; k < count + kTile; ++k) buf[k] = 0.0;
}

#if defined(__GNUC__)
// Rows a0..a0+KA-1 of Gp against NT consecutive 4-column tiles starting at b0, in
// one sweep over the block's rows: per row KA broadcasts and NT vector loads feed
// KA * NT FMAs into KA * NT accumulators (at most 12 of the 16 AVX registers). Sharing
// the broadcasts across tiles and skipping padded a-lanes (KA < 4 in the last tile)
// halves the loads per row against one sweep per 4 x 4 tile.
template <int KA, int NT>
VAECORE_INLINE void gram_strip(const double* buf, i64 nb, i64 d, i64 dp, i64 a0, i64 b0,
                               double* G) {
  // Small strips would wait on the FMA latency (one chain per accumulator): they take
  // R rows per step into R independent sets of accumulators (R * KA * NT <= 12).
  constexpr int R = KA * NT <= 2 ? 4 : (KA * NT <= 4 ? 2 : 1);
  v4d c[R][KA][NT];
  for (int u = 0; u < R; ++u)
    for (int k = 0; k < KA; ++k)
      for (int t = 0; t < NT; ++t) c[u][k][t] = v4d{0, 0, 0, 0};
  i64 r = 0;
  const double* x = buf;
  for (; r + R <= nb; r += R, x += R * d) {
#pragma GCC unroll 4
    for (int u = 0; u < R; ++u) {
      const double* xu = x + u * d;
      v4d y[NT];
#pragma GCC unroll 4
      for (int t = 0; t < NT; ++t) __builtin_memcpy(&y[t], xu + b0 + 4 * t, sizeof(v4d));
#pragma GCC unroll 4
      for (int k = 0; k < KA; ++k) {
        const double xa = xu[a0 + k];
#pragma GCC unroll 4
        for (int t = 0; t < NT; ++t) c[u][k][t] += xa * y[t];
      }
    }
  }
  for (; r < nb; ++r, x += d) {
    v4d y[NT];
    for (int t = 0; t < NT; ++t) __builtin_memcpy(&y[t], x + b0 + 4 * t, sizeof(v4d));
    for (int k = 0; k < KA; ++k) {
      const double xa = x[a0 + k];
      for (int t = 0; t < NT; ++t) c[0][k][t] += xa * y[t];
    }
  }
  for (int k = 0; k < KA; ++k)
    for (int t = 0; t < NT; ++t) {
      v4d sum = c[0][k][t];
      for (int u = 1; u < R; ++u) sum += c[u][k][t];
      for (int l = 0; l < kTile; ++l) G[(a0 + k) * dp + b0 + 4 * t + l] += sum[l];
    }
}

template <int KA>
VAECORE_INLINE void gram_strips(const double* buf, i64 nb, i64 d, i64 dp, i64 a0, double* G) {
  i64 b0 = a0;
  for (; b0 + 3 * kTile <= dp; b0 += 3 * kTile) gram_strip<KA, 3>(buf, nb, d, dp, a0, b0, G);
  if (b0 + 2 * kTile <= dp)
    gram_strip<KA, 2>(buf, nb, d, dp, a0, b0, G);
  else if (b0 < dp)
    gram_strip<KA, 1>(buf, nb, d, dp, a0, b0, G);
}

VAECORE_INLINE void gram_block(const double* buf, i64 nb, i64 d, i64 dp, double* G) {
  for (i64 a0 = 0; a0 < d; a0 += kTile) {
    switch (std::min<i64>(kTile, d - a0)) {
      case 1: gram_strips<1>(buf, nb, d, dp, a0, G); break;
      case 2: gram_strips<2>(buf, nb, d, dp, a0, G); break;
      case 3: gram_strips<3>(buf, nb, d, dp, a0, G); break;
      default: gram_strips<4>(buf, nb, d, dp, a0, G); break;
    }
  }
}
#else
inline void gram_block(const double* buf, i64 nb, i64 d, i64 dp, double* G) {
  for (i64 a = 0; a < d; ++a)
    for (i64 b = a; b < d; ++b) {
      double s = 0.0;
      for (i64 r = 0; r < nb; ++r) s += buf[r * d + a] * buf[r * d + b];
      G[a * dp + b] += s;
    }
}
#endif

// Gp (dp x dp, upper triangle) = J^T J for one Jacobian J (n x d, row-major);
// buf holds B x d + kTile doubles.
template <typename T>
VAECORE_INLINE void gram_padded(const T* J, i64 n, i64 d, i64 dp, i64 B, double* buf, double* Gp,
                                int shift) {
  std::fill(Gp, Gp + dp * dp, 0.0);
  for (i64 r0 = 0; r0 < n; r0 += B) {
    const i64 nb = std::min(B, n - r0);
    load_block(J + r0 * d, nb * d, buf, shift);
    gram_block(buf, nb, d, dp, Gp);
  }
}

// On x86-64 with GCC/Clang the kernel is compiled a second time for AVX2+FMA and
// chosen at run time, so one portable wheel still uses the wide units.
#if defined(__GNUC__) && defined(__x86_64__)
#define VAECORE_X86_DISPATCH 1
__attribute__((target("avx2,fma"))) void gram_padded_avx2(const float* J, i64 n, i64 d, i64 dp,
                                                          i64 B, double* buf, double* Gp, int shift) {
  gram_padded(J, n, d, dp, B, buf, Gp, shift);
}
__attribute__((target("avx2,fma"))) void gram_padded_avx2(const double* J, i64 n, i64 d, i64 dp,
                                                          i64 B, double* buf, double* Gp, int shift) {
  gram_padded(J, n, d, dp, B, buf, Gp, shift);
}
bool cpu_has_avx2_fma() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}
#endif

// G (d x d, row-major) = (2^shift J)^T (2^shift J) for one Jacobian J (n x d,
// row-major), in float64.
template <typename T>
void gram_one(const T* J, i64 n, i64 d, double* G, std::vector<double>& scratch, int shift = 0) {
  const i64 dp = padded(d);
  const i64 B = block_rows(dp);
  scratch.resize(static_cast<std::size_t>(B * d + kTile + dp * dp));
  double* buf = scratch.data();
  double* Gp = buf + B * d + kTile;
#ifdef VAECORE_X86_DISPATCH
  if (cpu_has_avx2_fma())
    gram_padded_avx2(J, n, d, dp, B, buf, Gp, shift);
  else
#endif
    gram_padded(J, n, d, dp, B, buf, Gp, shift);
  for (i64 a = 0; a < d; ++a)
    for (i64 b = 0; b < d; ++b) G[a * d + b] = a <= b ? Gp[a * dp + b] : Gp[b * dp + a];
}

// Cyclic Jacobi eigendecomposition of the symmetric d x d matrix A (destroyed).
// On return w holds the eigenvalues in descending order and V (row-major) the
// matching unit eigenvectors as columns, each with its largest-magnitude entry
// positive (a deterministic sign; DtO does not depend on it). At most 100 sweeps
// (quadratic convergence needs fewer than 10 for d <= 64); A must be finite.
void jacobi_eigh(double* A, i64 d, double* w, double* V, std::vector<double>& tmp,
                 std::vector<i64>& order) {
  for (i64 i = 0; i < d; ++i)
    for (i64 j = 0; j < d; ++j) V[i * d + j] = (i == j) ? 1.0 : 0.0;
  const double eps = std::numeric_limits<double>::epsilon();
  for (int sweep = 0; sweep < 100; ++sweep) {
    bool rotated = false;
    for (i64 p = 0; p < d - 1; ++p) {
      for (i64 q = p + 1; q < d; ++q) {
        const double apq = A[p * d + q];
        if (apq == 0.0) continue;
        const double app = A[p * d + p];
        const double aqq = A[q * d + q];
        // Skip rotations below rounding level (relative criterion of Demmel & Veselic).
        if (std::fabs(apq) <= eps * std::sqrt(std::fabs(app)) * std::sqrt(std::fabs(aqq)) * 0.5) {
          A[p * d + q] = A[q * d + p] = 0.0;
          continue;
        }
        rotated = true;
        const double theta = (aqq - app) / (2.0 * apq);
        double t;
        if (std::fabs(theta) > 1e150) {
          t = 0.5 / theta;
        } else {
          t = 1.0 / (std::fabs(theta) + std::sqrt(theta * theta + 1.0));
          if (theta < 0.0) t = -t;
        }
        const double c = 1.0 / std::sqrt(t * t + 1.0);
        const double s = t * c;
        for (i64 r = 0; r < d; ++r) {
          if (r == p || r == q) continue;
          const double arp = A[r * d + p];
          const double arq = A[r * d + q];
          const double np = c * arp - s * arq;
          const double nq = s * arp + c * arq;
          A[r * d + p] = A[p * d + r] = np;
          A[r * d + q] = A[q * d + r] = nq;
        }
        A[p * d + p] = app - t * apq;
        A[q * d + q] = aqq + t * apq;
        A[p * d + q] = A[q * d + p] = 0.0;
        for (i64 r = 0; r < d; ++r) {
          const double vrp = V[r * d + p];
          const double vrq = V[r * d + q];
          V[r * d + p] = c * vrp - s * vrq;
          V[r * d + q] = s * vrp + c * vrq;
        }
      }
    }
    if (!rotated) break;
  }
  order.resize(static_cast<std::size_t>(d));
  for (i64 i = 0; i < d; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](i64 a, i64 b) { return A[a * d + a] > A[b * d + b]; });
  tmp.assign(V, V + d * d);
  for (i64 k = 0; k < d; ++k) {
    const i64 src = order[k];
    w[k] = A[src * d + src];
    i64 arg = 0;
    for (i64 r = 0; r < d; ++r)
      if (std::fabs(tmp[r * d + src]) > std::fabs(tmp[arg * d + src])) arg = r;
    const double sign = tmp[arg * d + src] < 0.0 ? -1.0 : 1.0;
    for (i64 r = 0; r < d; ++r) V[r * d + k] = sign * tmp[r * d + src];
  }
}

// Exact maximum-weight perfect assignment on the d x d matrix W (row-major):
// Hungarian algorithm with row/column potentials (Kuhn–Munkres in the O(d^3)
// shortest-augmenting-path form of Jonker–Volgenant) minimising -W.
// col_of_row[i] = the column matched to row i. W must be finite (callers check):
// then every augmenting search ends within d steps; a non-finite weight would leave
// no candidate column (j1 = 0), which throws instead of looping.
struct Hungarian {
  std::vector<double> u, v, minv;
  std::vector<i64> p, way;
  std::vector<char> used;

  void solve(const double* W, i64 d, i64* col_of_row) {
    const double inf = std::numeric_limits<double>::infinity();
    u.assign(d + 1, 0.0);
    v.assign(d + 1, 0.0);
    p.assign(d + 1, 0);
    way.assign(d + 1, 0);
    for (i64 i = 1; i <= d; ++i) {
      p[0] = i;
      i64 j0 = 0;
      minv.assign(d + 1, inf);
      used.assign(d + 1, 0);
      do {
        used[j0] = 1;
        const i64 i0 = p[j0];
        double delta = inf;
        i64 j1 = 0;
        for (i64 j = 1; j <= d; ++j) {
          if (used[j]) continue;
          const double cur = -W[(i0 - 1) * d + (j - 1)] - u[i0] - v[j];
          if (cur < minv[j]) {
            minv[j] = cur;
            way[j] = j0;
          }
          if (minv[j] < delta) {
            delta = minv[j];
            j1 = j;
          }
        }
        for (i64 j = 0; j <= d; ++j) {
          if (used[j]) {
            u[p[j]] += delta;
            v[j] -= delta;
          } else {
            minv[j] -= delta;
          }
        }
        if (j1 == 0) throw std::invalid_argument("max_weight_assignment: weights must be finite");
        j0 = j1;
      } while (p[j0] != 0);
      do {
        const i64 j1 = way[j0];
        p[j0] = p[j1];
        j0 = j1;
      } while (j0 != 0);
    }
    for (i64 j = 1; j <= d; ++j) col_of_row[p[j] - 1] = j - 1;
  }
};

// Closest signed permutation to V (d x d): writes P (int8) and returns ||V - P||_F.
double signed_permutation(const double* V, i64 d, std::int8_t* P, Hungarian& h,
                          std::vector<double>& absV, std::vector<i64>& match) {
  absV.resize(static_cast<std::size_t>(d * d));
  match.resize(static_cast<std::size_t>(d));
  for (i64 k = 0; k < d * d; ++k) absV[k] = std::fabs(V[k]);
  h.solve(absV.data(), d, match.data());
  std::fill(P, P + d * d, std::int8_t{0});
  for (i64 i = 0; i < d; ++i) P[i * d + match[i]] = V[i * d + match[i]] < 0.0 ? -1 : 1;
  double s = 0.0;
  for (i64 k = 0; k < d * d; ++k) {
    const double diff = V[k] - static_cast<double>(P[k]);
    s += diff * diff;
  }
  return std::sqrt(s);
}

// Smallest relative gap (s_k - s_{k+1}) / s_k over consecutive singular values
// (descending); 0 when s_k = 0 (two vanishing values), 1 when d = 1.
double min_relative_gap(const double* s, i64 d) {
  double g = 1.0;
  for (i64 k = 0; k + 1 < d; ++k) {
    const double rel = s[k] > 0.0 ? (s[k] - s[k + 1]) / s[k] : 0.0;
    g = std::min(g, rel);
  }
  return g;
}

// Last line of defence for the kernels that take matrices directly (the Python layer
// checks first): the eigensolver and the assignment need finite input.
void require_finite(const double* x, i64 count, const char* func, const char* name) {
  for (i64 k = 0; k < count; ++k)
    require_lazy(std::isfinite(x[k]), [&] {
      return std::string(func) + ": " + name + " must be finite; got NaN or inf at flat index " +
             std::to_string(k);
    });
}

template <typename T>
void check_jacobians(const carray<T>& J, const char* func) {
  require_ndim(J, 3, func, "jacobians");
  require(J.shape(2) >= 1, std::string(func) + ": jacobians must have d >= 1 columns");
  require(J.shape(1) >= J.shape(2), std::string(func) + ": jacobians must have n_out >= d; got n_out=" +
                                        std::to_string(J.shape(1)) + ", d=" + std::to_string(J.shape(2)));
}

template <typename T>
py::array_t<double> gram(const carray<T>& J) {
  check_jacobians(J, "gram");
  const i64 N = J.shape(0), n = J.shape(1), d = J.shape(2);
  py::array_t<double> G({N, d, d});
  const T* src = J.data();
  double* dst = G.mutable_data();
  {
    py::gil_scoped_release release;
    parallel_for(N, [&](i64 begin, i64 end) {
      std::vector<double> buf;
      for (i64 i = begin; i < end; ++i) gram_one(src + i * n * d, n, d, dst + i * d * d, buf);
    });
  }
  return G;
}

py::tuple sym_eig(const carray<double>& G) {
  require_ndim(G, 3, "sym_eig", "matrices");
  require(G.shape(1) == G.shape(2), "sym_eig: matrices must be square (N, d, d)");
  const i64 N = G.shape(0), d = G.shape(1);
  require_finite(G.data(), N * d * d, "sym_eig", "matrices");
  py::array_t<double> w({N, d});
  py::array_t<double> V({N, d, d});
  const double* src = G.data();
  double* pw = w.mutable_data();
  double* pV = V.mutable_data();
  {
    py::gil_scoped_release release;
    parallel_for(N, [&](i64 begin, i64 end) {
      std::vector<double> A, tmp;
      std::vector<i64> order;
      for (i64 i = begin; i < end; ++i) {
        A.assign(src + i * d * d, src + (i + 1) * d * d);
        jacobi_eigh(A.data(), d, pw + i * d, pV + i * d * d, tmp, order);
      }
    });
  }
  return py::make_tuple(w, V);
}

py::array_t<i64> max_weight_assignment(const carray<double>& W) {
  require_ndim(W, 3, "max_weight_assignment", "weights");
  require(W.shape(1) == W.shape(2), "max_weight_assignment: weights must be square (N, d, d)");
  const i64 N = W.shape(0), d = W.shape(1);
  require_finite(W.data(), N * d * d, "max_weight_assignment", "weights");
  py::array_t<i64> out({N, d});
  const double* src = W.data();
  i64* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    parallel_for(N, [&](i64 begin, i64 end) {
      Hungarian h;
      for (i64 i = begin; i < end; ++i) h.solve(src + i * d * d, d, dst + i * d);
    });
  }
  return out;
}

py::tuple closest_signed_permutation(const carray<double>& V) {
  require_ndim(V, 3, "closest_signed_permutation", "V");
  require(V.shape(1) == V.shape(2), "closest_signed_permutation: V must be square (N, d, d)");
  const i64 N = V.shape(0), d = V.shape(1);
  require_finite(V.data(), N * d * d, "closest_signed_permutation", "V");
  py::array_t<std::int8_t> P({N, d, d});
  py::array_t<double> dist(N);
  const double* src = V.data();
  std::int8_t* pP = P.mutable_data();
  double* pd = dist.mutable_data();
  {
    py::gil_scoped_release release;
    parallel_for(N, [&](i64 begin, i64 end) {
      Hungarian h;
      std::vector<double> absV;
      std::vector<i64> match;
      for (i64 i = begin; i < end; ++i)
        pd[i] = signed_permutation(src + i * d * d, d, pP + i * d * d, h, absV, match);
    });
  }
  return py::make_tuple(P, dist);
}

// ---------------------------------------------------------------------------
// Per-sample DtO, exact at every finite scale and conditioning.
//
// Scale: DtO does not depend on the scale of J, but J^T J overflows for entries
// beyond ~1e154 and underflows below ~1e-162. The common case needs one read: the
// Gram pass runs unscaled and its diagonal (the squared column norms) shows whether
// it was safe (finite, largest >= 2^-600). If not, J is scanned once for its largest
// |entry| (which also finds NaN/inf: the finiteness check costs nothing when J is
// finite) and the Gram pass is repeated on 2^-ilogb(max) J, an exact rescaling.
// G is then scaled by an even power of two to a largest diagonal in [1, 4) before
// the eigensolver, so the rotations never see overflowing products.
//
// Conditioning: with the scaled eigenvalues w, the Gram path is kept when it is
// accurate (see gram_unsafe); otherwise V comes from QR + one-sided Jacobi of J
// itself (csrc/dto_svd.hpp), at the accuracy of numpy's SVD.
// The QR path runs in double up to cond(J) ~ 1e6 (errors ~ eps * cond / gap, below
// 1e-9 for gaps above ~5 %) and beyond in extended precision where long double is the
// x87 80-bit type (64-bit significand: errors ~2^11 times smaller than a float64 SVD's;
// about 10x slower, so only where double would not do). Elsewhere (e.g. aarch64, where
// long double is software quad) it stays in double.
#if defined(__x86_64__) || defined(__i386__)
using QrExtended = long double;
#else
using QrExtended = double;
#endif
constexpr double kExtendedBelow = 1e-12;  // lambda_d / lambda_1 < 1e-12: cond(J) > 1e6

struct DtoScratch {
  std::vector<double> buf, G, tmp, absV;
  std::vector<double> qr_d, rot_d;
  std::vector<QrExtended> qr_x, rot_x;
  std::vector<i64> order, match;
  Hungarian h;
};

// Largest |entry| of J (count values), or -1 when an entry is NaN or inf.
template <typename T>
double max_abs_or_bad(const T* J, i64 count) {
  double m = 0.0;
  for (i64 k = 0; k < count; ++k) {
    const double v = std::fabs(static_cast<double>(J[k]));
    if (!(v <= std::numeric_limits<double>::max())) return -1.0;
    m = std::max(m, v);
  }
  return m;
}

// Largest diagonal entry of G (d x d), or NaN when one is NaN or inf.
double max_diag(const double* G, i64 d) {
  double m = 0.0;
  for (i64 k = 0; k < d; ++k) {
    const double g = G[k * d + k];
    if (!(g <= std::numeric_limits<double>::max())) return std::numeric_limits<double>::quiet_NaN();
    m = std::max(m, g);
  }
  return m;
}

// Is the Gram path unsafe for eigenvalues w (descending, scaled to w[0] in [1, 4))?
// Its eigenvector error is about eps * w_1 / (w_k - w_{k+1}), i.e. eps * cond^2 / gap,
// QR's about eps * cond / gap. Switch when cond > 1e3 (the Gram error could exceed
// ~1e-10 even with wide gaps), or when the predicted Gram error exceeds 1e-9 and QR is
// at least ~10x more accurate (cond > 10). Cheap: O(d) on the eigenvalues.
bool gram_unsafe(const double* w, i64 d) {
  if (d < 2 || !(w[0] > 0.0)) return false;
  const double last = std::max(w[d - 1], 0.0);
  if (last > 1e-2 * w[0]) return false;
  if (last < 1e-6 * w[0]) return true;
  double gap = std::numeric_limits<double>::infinity();
  for (i64 k = 0; k + 1 < d; ++k) gap = std::min(gap, w[k] - w[k + 1]);
  return std::numeric_limits<double>::epsilon() * w[0] > 1e-9 * gap;
}

// V and singular values of 2^shift J by Householder QR + one-sided Jacobi.
template <typename QrReal, typename T>
void qr_path(const T* J, i64 n, i64 d, int shift, double* sv, double* V, std::vector<QrReal>& qr,
             std::vector<QrReal>& rot, std::vector<i64>& order) {
  qr.resize(static_cast<std::size_t>(n * d + d * d));
  QrReal* A = qr.data();
  if (shift >= -1000 && shift <= 1000) {  // a representable power of two: exact product
    const double scale = std::ldexp(1.0, shift);
    for (i64 r = 0; r < n; ++r)
      for (i64 c = 0; c < d; ++c) A[c * n + r] = static_cast<double>(J[r * d + c]) * scale;
  } else {
    for (i64 r = 0; r < n; ++r)
      for (i64 c = 0; c < d; ++c) A[c * n + r] = std::ldexp(static_cast<double>(J[r * d + c]), shift);
  }
  dto_svd::householder_r(A, n, d);
  QrReal* R = A + n * d;  // d x d column-major upper triangle
  for (i64 c = 0; c < d; ++c)
    for (i64 r = 0; r < d; ++r) R[c * d + r] = r <= c ? A[c * n + r] : QrReal(0);
  dto_svd::one_sided_jacobi(R, d, V, sv, rot, order);
}

// One sample: false when J holds NaN or inf (nothing else is written then).
template <typename T>
bool dto_one(const T* J, i64 n, i64 d, DtoScratch& s, double* sv, double* V, std::int8_t* P,
             double* gap, double* dist) {
  s.G.resize(static_cast<std::size_t>(d * d));
  double* G = s.G.data();
  gram_one(J, n, d, G, s.buf);
  int shift = 0;  // J is read as 2^shift J
  double gmax = max_diag(G, d);
  if (!(gmax >= 0x1p-600 && gmax <= 0x1p+1000)) {  // NaN/inf, overflow or underflow
    const double m = max_abs_or_bad(J, n * d);
    if (m < 0.0) return false;
    if (m > 0.0) {
      shift = -std::ilogb(m);
      gram_one(J, n, d, G, s.buf, shift);
      gmax = max_diag(G, d);
    }
  }
  int half = 0;  // G is scaled by 2^(-2 half): largest diagonal in [1, 4)
  if (gmax > 0.0) {
    const int e = std::ilogb(gmax);
    half = (e >= 0 ? e : e - 1) / 2;
    for (i64 k = 0; k < d * d; ++k) G[k] = std::ldexp(G[k], -2 * half);
  }
  jacobi_eigh(G, d, sv, V, s.tmp, s.order);
  if (gram_unsafe(sv, d)) {
    if (std::max(sv[d - 1], 0.0) < kExtendedBelow * sv[0])
      qr_path(J, n, d, shift - half, sv, V, s.qr_x, s.rot_x, s.order);
    else
      qr_path(J, n, d, shift - half, sv, V, s.qr_d, s.rot_d, s.order);
  } else {
    for (i64 k = 0; k < d; ++k) sv[k] = std::sqrt(std::max(sv[k], 0.0));
  }
  *gap = min_relative_gap(sv, d);  // scale-invariant: taken before undoing the scaling
  for (i64 k = 0; k < d; ++k) sv[k] = std::ldexp(sv[k], half - shift);
  *dist = signed_permutation(V, d, P, s.h, s.absV, s.match);
  return true;
}

// "(r, c)" of the first NaN/inf entry of J (n x d).
template <typename T>
std::string first_bad_entry(const T* J, i64 n, i64 d) {
  for (i64 k = 0; k < n * d; ++k)
    if (!std::isfinite(static_cast<double>(J[k])))
      return "(" + std::to_string(k / d) + ", " + std::to_string(k % d) + ")";
  return "(?)";
}

template <typename T>
py::tuple dto(const carray<T>& J) {
  check_jacobians(J, "dto");
  const i64 N = J.shape(0), n = J.shape(1), d = J.shape(2);
  py::array_t<double> per_sample(N);
  py::array_t<double> sv({N, d});
  py::array_t<std::int8_t> P({N, d, d});
  py::array_t<double> gap(N);
  py::array_t<double> V({N, d, d});
  const T* src = J.data();
  double* p_dto = per_sample.mutable_data();
  double* p_sv = sv.mutable_data();
  std::int8_t* p_P = P.mutable_data();
  double* p_gap = gap.mutable_data();
  double* p_V = V.mutable_data();
  // Chunks are contiguous and each stops at its first non-finite sample, so the
  // smallest index any chunk reports is the first bad sample overall.
  std::atomic<i64> first_bad{N};
  {
    py::gil_scoped_release release;
    parallel_for(N, [&](i64 begin, i64 end) {
      DtoScratch s;
      for (i64 i = begin; i < end; ++i) {
        if (i > first_bad.load(std::memory_order_relaxed)) return;
        if (!dto_one(src + i * n * d, n, d, s, p_sv + i * d, p_V + i * d * d, p_P + i * d * d,
                     p_gap + i, p_dto + i)) {
          i64 cur = first_bad.load();
          while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {
          }
          return;
        }
      }
    });
  }
  const i64 bad = first_bad.load();
  if (bad < N)
    throw std::invalid_argument("dto: jacobians must be finite; got NaN or inf in sample " +
                                std::to_string(bad) + " (entry " +
                                first_bad_entry(src + bad * n * d, n, d) + ")");
  return py::make_tuple(per_sample, sv, P, gap, V);
}

}  // namespace

VAECORE_REGISTER(orthogonality) {
  // float64 overloads first: in pybind11's first (no-conversion) pass a float32
  // array then binds to the float32 overload without being copied to float64.
  m.def("gram", &gram<double>, py::arg("jacobians"),
        "Gram matrices J^T J in float64 for jacobians (N, n_out, d) -> (N, d, d).");
  m.def("gram", &gram<float>, py::arg("jacobians"));
  m.def("sym_eig", &sym_eig, py::arg("matrices"),
        "Cyclic Jacobi eigendecomposition of symmetric (N, d, d) float64 matrices -> "
        "(eigenvalues (N, d) descending, eigenvectors (N, d, d) as columns).");
  m.def("max_weight_assignment", &max_weight_assignment, py::arg("weights"),
        "Exact maximum-weight perfect assignment (Hungarian) per (d, d) matrix -> "
        "(N, d) int64: column matched to each row.");
  m.def("closest_signed_permutation", &closest_signed_permutation, py::arg("V"),
        "Signed permutation maximising sum |V_ij| on its support, signs of V -> "
        "(P (N, d, d) int8, ||V - P||_F (N,)).");
  m.def("dto", &dto<double>, py::arg("jacobians"),
        "Per-sample DtO of jacobians (N, n_out, d) -> (dto (N,), singular_values (N, d), "
        "permutations (N, d, d) int8, min_relative_gap (N,), V (N, d, d)). "
        "Exact at every finite scale; ill-conditioned samples take V from QR + "
        "one-sided Jacobi instead of the Gram matrix. NaN/inf: ValueError naming the first bad "
        "sample.");
  m.def("dto", &dto<float>, py::arg("jacobians"));
}

}  // namespace vaecore
