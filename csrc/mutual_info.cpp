// Histogram mutual information of every (factor, latent) pair for MIG
// (thesis eq. 2.8; disentanglement_lib's discrete MIG; vaecore.metrics.mig).
//
// Each latent column is discretised with np.digitize(z, edges[:-1]) semantics
// (bin = number of the first n_bins edges that are <= z) against bin edges the
// Python layer computed with np.histogram, then one pass over the samples fills
// the contingency table of that latent against every factor (labels 0..C-1).
// MI follows sklearn.metrics.mutual_info_score term by term, in nats: terms
// smaller than machine epsilon are zeroed, the sum is clipped at 0, and a pair
// where either variable takes a single value has MI 0. Parallel over latents.
#include "common.hpp"

#include <cfloat>
#include <cmath>

namespace vaecore {
namespace {

double table_mutual_info(const std::vector<std::int64_t>& table, std::int64_t rows,
                         std::int64_t cols, std::int64_t n) {
  std::vector<std::int64_t> pi(static_cast<std::size_t>(rows), 0), pj(static_cast<std::size_t>(cols), 0);
  for (std::int64_t a = 0; a < rows; ++a)
    for (std::int64_t b = 0; b < cols; ++b) {
      const std::int64_t c = table[a * cols + b];
      pi[a] += c;
      pj[b] += c;
    }
  const auto nonzero = [](const std::vector<std::int64_t>& v) {
    return std::count_if(v.begin(), v.end(), [](std::int64_t c) { return c > 0; });
  };
  if (nonzero(pi) <= 1 || nonzero(pj) <= 1) return 0.0;
  const double total = static_cast<double>(n);
  const double log_total = std::log(total);
  double mi = 0.0;
  for (std::int64_t a = 0; a < rows; ++a)
    for (std::int64_t b = 0; b < cols; ++b) {
      const std::int64_t c = table[a * cols + b];
      if (c == 0) continue;
      const double nm = static_cast<double>(c) / total;
      const double outer = static_cast<double>(pi[a] * pj[b]);
      const double log_outer = -std::log(outer) + log_total + log_total;
      const double term = nm * (std::log(static_cast<double>(c)) - log_total) + nm * log_outer;
      if (std::fabs(term) >= DBL_EPSILON) mi += term;
    }
  return std::max(mi, 0.0);
}

// mi[i, j] = I(factor i; digitised latent j) in nats; shape (n_factors, n_latents).
py::array_t<double> histogram_mutual_info(const carray<double>& codes, const carray<double>& edges,
                                          const carray<std::int64_t>& labels,
                                          const carray<std::int64_t>& n_classes) {
  const char* f = "histogram_mutual_info";
  require_ndim(codes, 2, f, "codes");
  require_ndim(edges, 2, f, "edges");
  require_ndim(labels, 2, f, "labels");
  require_ndim(n_classes, 1, f, "n_classes");
  const std::int64_t n = codes.shape(0), L = codes.shape(1), F = labels.shape(1);
  require(labels.shape(0) == n, "histogram_mutual_info: labels must have as many rows as codes");
  require(edges.shape(0) == L && edges.shape(1) >= 2,
          "histogram_mutual_info: edges must have shape (n_latents, n_bins + 1)");
  require(n_classes.shape(0) == F, "histogram_mutual_info: n_classes must have one entry per factor");
  require(n >= 1, "histogram_mutual_info: codes must have at least one row");
  const std::int64_t nb = edges.shape(1) - 1;
  const std::int64_t* lab = labels.data();
  const std::int64_t* ncls = n_classes.data();
  for (std::int64_t i = 0; i < F; ++i) require(ncls[i] >= 1, "histogram_mutual_info: n_classes must be >= 1");
  for (std::int64_t s = 0; s < n * F; ++s)
    require(lab[s] >= 0 && lab[s] < ncls[s % F],
            "histogram_mutual_info: labels must be integers in [0, n_classes)");
  py::array_t<double> result({F, L});
  double* out = result.mutable_data();
  const double* z = codes.data();
  const double* e = edges.data();
  {
    py::gil_scoped_release release;
    parallel_for(L, [&](std::int64_t begin, std::int64_t end) {
      std::vector<std::int64_t> bins(static_cast<std::size_t>(n));
      std::vector<std::vector<std::int64_t>> tables(static_cast<std::size_t>(F));
      for (std::int64_t j = begin; j < end; ++j) {
        const double* ej = e + j * (nb + 1);
        for (std::int64_t s = 0; s < n; ++s)  // np.digitize(z, edges[:-1]), right=False
          bins[s] = std::upper_bound(ej, ej + nb, z[s * L + j]) - ej;
        for (std::int64_t i = 0; i < F; ++i) tables[i].assign(static_cast<std::size_t>((nb + 1) * ncls[i]), 0);
        for (std::int64_t s = 0; s < n; ++s) {
          const std::int64_t b = bins[s];
          const std::int64_t* row = lab + s * F;
          for (std::int64_t i = 0; i < F; ++i) ++tables[i][b * ncls[i] + row[i]];
        }
        for (std::int64_t i = 0; i < F; ++i) out[i * L + j] = table_mutual_info(tables[i], nb + 1, ncls[i], n);
      }
    });
  }
  return result;
}

}  // namespace

VAECORE_REGISTER(mutual_info) {
  m.def("histogram_mutual_info", &histogram_mutual_info, py::arg("codes"), py::arg("edges"),
        py::arg("labels"), py::arg("n_classes"),
        "Mutual information (nats) between every factor (labels 0..C-1) and every latent "
        "discretised by np.digitize(z, edges[j, :-1]); returns (n_factors, n_latents) float64, "
        "term by term as sklearn.metrics.mutual_info_score.");
}

}  // namespace vaecore
