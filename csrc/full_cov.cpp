// Fused full-covariance Gaussian reparameterisation + KL to N(0, I) (thesis §3.2.7,
// eq. 3.30-3.31), forward and backward, batched over samples.
//
//   z_b  = mu_b + L_b eps_b                       (L_b lower triangular; upper triangle ignored)
//   kl_b = 1/2 (|mu_b|^2 + sum_{i>=j} L_bij^2 - 2 sum_i log L_bii - k)
//
// Backward (exact): dmu = gz + gkl mu;  dL_ij = gz_i eps_j + gkl (L_ij - [i==j] / L_ii) for
// i >= j, 0 above the diagonal;  deps_j = sum_{i>=j} L_ij gz_i.
// Inputs are C-contiguous float32 or float64 arrays: mu (B, k), L (B, k, k), eps (B, k).
// The kernel checks what it reads: a non-positive diagonal or a non-finite result throws
// std::invalid_argument (ValueError) naming the sample.
#include <cmath>
#include <sstream>

#include "common.hpp"

namespace vaecore {
namespace {

constexpr const char* kFunc = "full_cov_rsample";

[[noreturn]] void fail_diag(std::int64_t b, std::int64_t i, double v) {
  std::ostringstream msg;
  msg << kFunc << ": scale_tril must have a positive, finite diagonal; got scale_tril[" << b << ", "
      << i << ", " << i << "] = " << v;
  throw std::invalid_argument(msg.str());
}

[[noreturn]] void fail_finite(std::int64_t b) {
  std::ostringstream msg;
  msg << kFunc << ": mu, scale_tril and eps must be finite; got a non-finite value (or overflow) "
      << "in sample " << b;
  throw std::invalid_argument(msg.str());
}

void check_shapes(const py::array& mu, const py::array& L, const py::array& eps) {
  require(mu.ndim() == 2, std::string(kFunc) + ": mu must have 2 dimensions (B, k)");
  require(L.ndim() == 3, std::string(kFunc) + ": scale_tril must have 3 dimensions (B, k, k)");
  require(eps.ndim() == 2, std::string(kFunc) + ": eps must have 2 dimensions (B, k)");
  const auto B = mu.shape(0), k = mu.shape(1);
  require(L.shape(0) == B && L.shape(1) == k && L.shape(2) == k,
          std::string(kFunc) + ": scale_tril must have shape (B, k, k) matching mu");
  require(eps.shape(0) == B && eps.shape(1) == k,
          std::string(kFunc) + ": eps must have the shape of mu");
  require(k >= 1, std::string(kFunc) + ": k must be >= 1");
}

// Run small batches on the calling thread: thread start-up costs more than the work.
std::int64_t min_chunk_for(std::int64_t k) {
  return std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(1, k * k));
}

template <typename T>
py::tuple forward_impl(const py::array& mu_in, const py::array& L_in, const py::array& eps_in) {
  carray<T> mu(mu_in), L(L_in), eps(eps_in);
  const std::int64_t B = mu.shape(0), k = mu.shape(1);
  carray<T> z({B, k});
  carray<T> kl({B});
  const T* pm = mu.data();
  const T* pl = L.data();
  const T* pe = eps.data();
  T* pz = z.mutable_data();
  T* pk = kl.mutable_data();
  {
    py::gil_scoped_release release;
    parallel_for(
        B,
        [&](std::int64_t begin, std::int64_t end) {
          for (std::int64_t b = begin; b < end; ++b) {
            const T* m = pm + b * k;
            const T* l = pl + b * k * k;
            const T* e = pe + b * k;
            T* zb = pz + b * k;
            T sq = 0, logdet = 0;
            bool finite = true;
            for (std::int64_t i = 0; i < k; ++i) {
              const T* row = l + i * k;
              const T d = row[i];
              if (!(d > T(0)) || !std::isfinite(d)) fail_diag(b, i, static_cast<double>(d));
              T acc = m[i];
              for (std::int64_t j = 0; j <= i; ++j) {
                acc += row[j] * e[j];
                sq += row[j] * row[j];
              }
              zb[i] = acc;
              finite = finite && std::isfinite(acc);
              sq += m[i] * m[i];
              logdet += std::log(d);
            }
            const T v = T(0.5) * (sq - T(2) * logdet - static_cast<T>(k));
            if (!finite || !std::isfinite(v)) fail_finite(b);
            pk[b] = v;
          }
        },
        min_chunk_for(k));
  }
  return py::make_tuple(z, kl);
}

template <typename T>
py::tuple backward_impl(const py::array& mu_in, const py::array& L_in, const py::array& eps_in,
                        const py::array& gz_in, const py::array& gk_in, bool need_eps) {
  carray<T> mu(mu_in), L(L_in), eps(eps_in), gz(gz_in), gk(gk_in);
  const std::int64_t B = mu.shape(0), k = mu.shape(1);
  require(gz.ndim() == 2 && gz.shape(0) == B && gz.shape(1) == k,
          std::string(kFunc) + ": grad_z must have the shape of mu");
  require(gk.ndim() == 1 && gk.shape(0) == B, std::string(kFunc) + ": grad_kl must have shape (B,)");
  carray<T> gmu({B, k});
  carray<T> gL({B, k, k});
  carray<T> geps(need_eps ? std::vector<py::ssize_t>{B, k} : std::vector<py::ssize_t>{0, k});
  const T* pm = mu.data();
  const T* pl = L.data();
  const T* pe = eps.data();
  const T* pgz = gz.data();
  const T* pgk = gk.data();
  T* pgm = gmu.mutable_data();
  T* pgl = gL.mutable_data();
  T* pge = need_eps ? geps.mutable_data() : nullptr;
  {
    py::gil_scoped_release release;
    parallel_for(
        B,
        [&](std::int64_t begin, std::int64_t end) {
          for (std::int64_t b = begin; b < end; ++b) {
            const T* m = pm + b * k;
            const T* l = pl + b * k * k;
            const T* e = pe + b * k;
            const T* g = pgz + b * k;
            const T c = pgk[b];
            T* om = pgm + b * k;
            T* ol = pgl + b * k * k;
            for (std::int64_t i = 0; i < k; ++i) {
              om[i] = g[i] + c * m[i];
              const T* row = l + i * k;
              T* orow = ol + i * k;
              for (std::int64_t j = 0; j < i; ++j) orow[j] = g[i] * e[j] + c * row[j];
              orow[i] = g[i] * e[i] + c * (row[i] - T(1) / row[i]);
              for (std::int64_t j = i + 1; j < k; ++j) orow[j] = T(0);
            }
            if (pge != nullptr) {
              T* oe = pge + b * k;
              for (std::int64_t j = 0; j < k; ++j) oe[j] = T(0);
              for (std::int64_t i = 0; i < k; ++i) {
                const T* row = l + i * k;
                for (std::int64_t j = 0; j <= i; ++j) oe[j] += row[j] * g[i];
              }
            }
          }
        },
        min_chunk_for(k));
  }
  return py::make_tuple(gmu, gL, geps);
}

bool is_double(const py::array& a) {
  if (a.dtype().is(py::dtype::of<double>())) return true;
  if (a.dtype().is(py::dtype::of<float>())) return false;
  throw std::invalid_argument(std::string(kFunc) + ": arrays must be float32 or float64");
}

}  // namespace

VAECORE_REGISTER(full_cov) {
  m.def(
      "full_cov_forward",
      [](const py::array& mu, const py::array& L, const py::array& eps) {
        check_shapes(mu, L, eps);
        return is_double(mu) ? forward_impl<double>(mu, L, eps) : forward_impl<float>(mu, L, eps);
      },
      py::arg("mu"), py::arg("scale_tril"), py::arg("eps"),
      "Fused z = mu + L eps and KL(N(mu, L L^T) || N(0, I)) per sample (thesis eq. 3.30-3.31).\n"
      "mu (B, k), scale_tril (B, k, k) (lower triangle read), eps (B, k); float32 or float64.\n"
      "Returns (z (B, k), kl (B,)).");
  m.def(
      "full_cov_backward",
      [](const py::array& mu, const py::array& L, const py::array& eps, const py::array& grad_z,
         const py::array& grad_kl, bool need_eps) {
        check_shapes(mu, L, eps);
        return is_double(mu) ? backward_impl<double>(mu, L, eps, grad_z, grad_kl, need_eps)
                             : backward_impl<float>(mu, L, eps, grad_z, grad_kl, need_eps);
      },
      py::arg("mu"), py::arg("scale_tril"), py::arg("eps"), py::arg("grad_z"), py::arg("grad_kl"),
      py::arg("need_eps"),
      "Exact gradients of full_cov_forward: returns (grad_mu (B, k), grad_scale_tril (B, k, k)\n"
      "with zeros above the diagonal, grad_eps (B, k), or (0, k) when need_eps is False).");
}

}  // namespace vaecore
