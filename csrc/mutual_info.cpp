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

// Minimum and maximum of every column of x (n, d): (d, 2) float64. Exact, so
// np.histogram's edges can be rebuilt from them; parallel over row chunks.
py::array_t<double> column_ranges(const carray<double>& x) {
  require_ndim(x, 2, "column_ranges", "x");
  const std::int64_t n = x.shape(0), d = x.shape(1);
  require(n >= 1, "column_ranges: x must have at least one row");
  py::array_t<double> result({d, static_cast<std::int64_t>(2)});
  double* out = result.mutable_data();
  const double* px = x.data();
  {
    py::gil_scoped_release release;
    std::vector<double> lo(px, px + d), hi(px, px + d);
    std::mutex merge;
    parallel_for(
        n,
        [&](std::int64_t begin, std::int64_t end) {
          std::vector<double> l(px + begin * d, px + begin * d + d), h(l);
          for (std::int64_t s = begin; s < end; ++s) {
            const double* row = px + s * d;
            for (std::int64_t c = 0; c < d; ++c) {
              l[c] = std::min(l[c], row[c]);
              h[c] = std::max(h[c], row[c]);
            }
          }
          std::lock_guard<std::mutex> lock(merge);
          for (std::int64_t c = 0; c < d; ++c) {
            lo[c] = std::min(lo[c], l[c]);
            hi[c] = std::max(hi[c], h[c]);
          }
        },
        8192);
    for (std::int64_t c = 0; c < d; ++c) {
      out[2 * c] = lo[c];
      out[2 * c + 1] = hi[c];
    }
  }
  return result;
}

// Entropy (nats) of class counts, term by term as sklearn's mutual_info_score(w, w).
double counts_entropy(const std::vector<std::int64_t>& counts, std::int64_t n) {
  const auto present = std::count_if(counts.begin(), counts.end(), [](std::int64_t c) { return c > 0; });
  if (present <= 1) return 0.0;
  const double total = static_cast<double>(n);
  const double log_total = std::log(total);
  double h = 0.0;
  for (std::int64_t c : counts) {
    if (c == 0) continue;
    const double nm = static_cast<double>(c) / total;
    const double cd = static_cast<double>(c);
    const double term = nm * (std::log(cd) - log_total) + nm * (-std::log(cd * cd) + log_total + log_total);
    if (std::fabs(term) >= DBL_EPSILON) h += term;
  }
  return std::max(h, 0.0);
}

// (mi, entropy): mi[i, j] = I(factor i; digitised latent j), shape (n_factors, n_latents),
// and entropy[i] = H(factor i), in nats. Factor i's class of sample s is
// factors[s, i] - offsets[i], an integer in [0, n_slots[i]) (slots that never occur
// count for nothing).
py::tuple histogram_mutual_info(const carray<double>& codes, const carray<double>& edges,
                                const carray<double>& factors, const carray<double>& offsets,
                                const carray<std::int64_t>& n_slots) {
  const char* f = "histogram_mutual_info";
  require_ndim(codes, 2, f, "codes");
  require_ndim(edges, 2, f, "edges");
  require_ndim(factors, 2, f, "factors");
  require_ndim(offsets, 1, f, "offsets");
  require_ndim(n_slots, 1, f, "n_slots");
  const std::int64_t n = codes.shape(0), L = codes.shape(1), F = factors.shape(1);
  require(factors.shape(0) == n, "histogram_mutual_info: factors must have as many rows as codes");
  require(edges.shape(0) == L && edges.shape(1) >= 2,
          "histogram_mutual_info: edges must have shape (n_latents, n_bins + 1)");
  require(offsets.shape(0) == F && n_slots.shape(0) == F,
          "histogram_mutual_info: offsets and n_slots must have one entry per factor");
  require(n >= 1, "histogram_mutual_info: codes must have at least one row");
  const std::int64_t nb = edges.shape(1) - 1;
  const double* fw = factors.data();
  const double* off = offsets.data();
  const std::int64_t* ncls = n_slots.data();
  for (std::int64_t i = 0; i < F; ++i) require(ncls[i] >= 1, "histogram_mutual_info: n_slots must be >= 1");
  py::array_t<double> result({F, L});
  py::array_t<double> entropy(F);
  double* out = result.mutable_data();
  double* ent = entropy.mutable_data();
  const double* z = codes.data();
  const double* e = edges.data();
  // One flat table of counts per latent: factor i's block (nb+1) x C_i starts at offset[i].
  std::vector<std::int64_t> offset(static_cast<std::size_t>(F + 1), 0);
  for (std::int64_t i = 0; i < F; ++i) offset[i + 1] = offset[i] + (nb + 1) * ncls[i];
  const std::int64_t block = offset[F];
  std::vector<double> scale(static_cast<std::size_t>(L));  // bins per unit, for the first guess
  for (std::int64_t j = 0; j < L; ++j) {
    const double width = e[j * (nb + 1) + nb] - e[j * (nb + 1)];
    scale[j] = width > 0 ? static_cast<double>(nb) / width : 0.0;
  }
  {
    py::gil_scoped_release release;
    std::vector<std::int64_t> counts(static_cast<std::size_t>(L * block), 0);
    std::mutex merge;
    // Parallel over samples (each row of codes and factors read once, contiguously);
    // every chunk fills private tables, merged by integer addition (order-independent).
    parallel_for(
        n,
        [&](std::int64_t begin, std::int64_t end) {
          // 32-bit private counts (half the cache footprint of the tables), flushed into
          // the shared 64-bit tables at least every 2^30 samples.
          std::vector<std::uint32_t> local(static_cast<std::size_t>(L * block), 0);
          std::vector<std::int64_t> bins(static_cast<std::size_t>(L));
          std::vector<std::int64_t> labs(static_cast<std::size_t>(F));
          const auto flush = [&]() {
            std::lock_guard<std::mutex> lock(merge);
            for (std::size_t x = 0; x < local.size(); ++x) counts[x] += local[x];
            std::fill(local.begin(), local.end(), 0u);
          };
          std::int64_t pending = 0;
          for (std::int64_t s = begin; s < end; ++s) {
            const double* w_row = fw + s * F;
            for (std::int64_t i = 0; i < F; ++i) {
              const double v = w_row[i] - off[i];
              require_lazy(v >= 0 && v < static_cast<double>(ncls[i]) && v == std::floor(v), [] {
                return std::string("histogram_mutual_info: factors - offsets must be integers in [0, n_slots)");
              });
              labs[i] = offset[i] + static_cast<std::int64_t>(v);  // table slot of the class
            }
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
                const double g = (v - ej[0]) * scale[j];
                c = static_cast<std::int64_t>(std::min(std::max(g, 0.0), static_cast<double>(nb - 1))) + 1;
                while (c < nb && ej[c] <= v) ++c;
                while (c > 1 && ej[c - 1] > v) --c;
              }
              bins[j] = c;
            }
            for (std::int64_t j = 0; j < L; ++j) {
              std::uint32_t* tj = local.data() + j * block;
              for (std::int64_t i = 0; i < F; ++i) ++tj[labs[i] + bins[j] * ncls[i]];
            }
            if (++pending == (std::int64_t{1} << 30)) {
              flush();
              pending = 0;
            }
          }
          flush();
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
    for (std::int64_t i = 0; i < F; ++i) {  // class counts = column sums of latent 0's table
      std::vector<std::int64_t> cc(static_cast<std::size_t>(ncls[i]), 0);
      const std::int64_t* src = counts.data() + offset[i];
      for (std::int64_t b = 0; b <= nb; ++b)
        for (std::int64_t c = 0; c < ncls[i]; ++c) cc[c] += src[b * ncls[i] + c];
      ent[i] = counts_entropy(cc, n);
    }
  }
  return py::make_tuple(result, entropy);
}

}  // namespace

VAECORE_REGISTER(mutual_info) {
  m.def("histogram_mutual_info", &histogram_mutual_info, py::arg("codes"), py::arg("edges"),
        py::arg("factors"), py::arg("offsets"), py::arg("n_slots"),
        "(mi, entropy): mutual information (nats) between every factor (classes factors - "
        "offsets in [0, n_slots)) and every latent discretised by np.digitize(z, edges[j, :-1]), "
        "(n_factors, n_latents) float64, and each factor's entropy (n_factors,), term by term "
        "as sklearn.metrics.mutual_info_score.");
  m.def("column_ranges", &column_ranges, py::arg("x"),
        "Minimum and maximum of every column of x (n, d): (d, 2) float64.");
}

}  // namespace vaecore
