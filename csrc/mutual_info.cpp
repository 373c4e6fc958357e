// Histogram mutual information of every (factor, latent) pair for MIG
// (thesis eq. 2.8; disentanglement_lib's discrete MIG; vaecore.metrics.mig).
//
// Each latent column is discretised with np.digitize(z, edges[:-1]) semantics
// (bin = number of the first n_bins edges that are <= z) against bin edges the
// Python layer computed with np.histogram, and one pass over the samples fills
// the contingency tables of every latent against every factor (labels 0..C-1).
// MI follows sklearn.metrics.mutual_info_score term by term, in nats: terms
// smaller than machine epsilon are zeroed, the sum is clipped at 0, and a pair
// where either variable takes a single value has MI 0. Counting is parallel over
// samples (one contiguous pass over codes and labels), MI over (latent, factor) pairs.
#include "common.hpp"

#include <cfloat>
#include <cmath>
#include <mutex>

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
  bool labels_ok = true;
  for (std::int64_t s = 0; s < n; ++s)
    for (std::int64_t i = 0; i < F; ++i) labels_ok &= lab[s * F + i] >= 0 && lab[s * F + i] < ncls[i];
  require(labels_ok, "histogram_mutual_info: labels must be integers in [0, n_classes)");
  py::array_t<double> result({F, L});
  double* out = result.mutable_data();
  const double* z = codes.data();
  const double* e = edges.data();
  // One flat table of counts per latent: factor i's block (nb+1) x C_i starts at offset[i].
  std::vector<std::int64_t> offset(static_cast<std::size_t>(F + 1), 0);
  for (std::int64_t i = 0; i < F; ++i) offset[i + 1] = offset[i] + (nb + 1) * ncls[i];
  const std::int64_t block = offset[F];
  {
    py::gil_scoped_release release;
    std::vector<std::int64_t> counts(static_cast<std::size_t>(L * block), 0);
    std::mutex merge;
    // Parallel over samples (each row of codes and labels read once, contiguously);
    // every chunk fills private tables, merged by integer addition (order-independent).
    parallel_for(
        n,
        [&](std::int64_t begin, std::int64_t end) {
          std::vector<std::int64_t> local(static_cast<std::size_t>(L * block), 0);
          std::vector<std::int64_t> bins(static_cast<std::size_t>(L));
          for (std::int64_t s = begin; s < end; ++s) {
            const double* row = z + s * L;
            for (std::int64_t j = 0; j < L; ++j) {
              // np.digitize(z, edges[:-1]) = number of the first nb edges that are <= z;
              // a guess from the equal widths, corrected against the exact edges.
              const double* ej = e + j * (nb + 1);
              const double v = row[j];
              std::int64_t c;
              if (v < ej[0]) {
                c = 0;
              } else {
                const double width = ej[nb] - ej[0];
                double g = width > 0 ? (v - ej[0]) / width * static_cast<double>(nb) : 0.0;
                c = static_cast<std::int64_t>(std::min(std::max(g, 0.0), static_cast<double>(nb - 1))) + 1;
                while (c < nb && ej[c] <= v) ++c;
                while (c > 1 && ej[c - 1] > v) --c;
              }
              bins[j] = c;
            }
            const std::int64_t* lab_row = lab + s * F;
            for (std::int64_t j = 0; j < L; ++j) {
              std::int64_t* tj = local.data() + j * block;
              for (std::int64_t i = 0; i < F; ++i) ++tj[offset[i] + bins[j] * ncls[i] + lab_row[i]];
            }
          }
          std::lock_guard<std::mutex> lock(merge);
          for (std::size_t x = 0; x < local.size(); ++x) counts[x] += local[x];
        },
        4096);
    parallel_for(L * F, [&](std::int64_t begin, std::int64_t end) {
      std::vector<std::int64_t> table;
      for (std::int64_t ji = begin; ji < end; ++ji) {
        const std::int64_t j = ji / F, i = ji % F;
        const std::int64_t* src = counts.data() + j * block + offset[i];
        table.assign(src, src + (nb + 1) * ncls[i]);
        out[i * L + j] = table_mutual_info(table, nb + 1, ncls[i], n);
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
