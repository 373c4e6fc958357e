// Exact one-dimensional k-nearest-neighbour scores for the disentanglement
// score DS (thesis §3.3.1, eq. 3.32-3.37; vaecore.metrics.ds).
//
// For every latent j the training values z_train[:, j] are sorted once; each
// test value finds its k nearest training values by a binary search and a
// window that grows towards the closer side. The neighbour set depends only on
// the latent, so it is computed once per (latent, test point) and scored
// against every factor: the mean squared error of the uniform k-NN regressor
// (regression factors) or the accuracy of the uniform majority vote
// (classification factors, labels 0..C-1).
//
// Tie rules (documented in vaecore.metrics.ds):
//  * distance ties: among training points at the same distance as the k-th
//    nearest one, the earlier training points (smaller training row) are taken;
//  * vote ties: the smaller class label wins (sklearn's rule).
// Work is parallel over latents; sums over test points run in test-row order, so
// results do not depend on the thread count.
#include "common.hpp"

#include <cmath>

namespace vaecore {
namespace {

// The k nearest training points of query q, as positions into the values sorted
// ascending by (value, training row): vals[pos] with training row rows[pos].
// Common case (no other point at the k-th distance): the window [l, r) grown from the
// insertion point is the answer. Otherwise the points strictly closer than the k-th
// distance dk are kept and the rest is filled with the earliest rows at distance dk.
void knn_select(const double* vals, const std::int64_t* rows, std::int64_t n, double q,
                std::int64_t k, std::vector<std::int64_t>& out, std::vector<std::int64_t>& cand) {
  out.clear();
  const std::int64_t p = std::lower_bound(vals, vals + n, q) - vals;  // vals[p-1] < q <= vals[p]
  std::int64_t l = p, r = p;                                           // window [l, r)
  for (std::int64_t s = 0; s < k; ++s) {
    if (l > 0 && (r >= n || q - vals[l - 1] <= vals[r] - q))
      --l;
    else
      ++r;
  }
  double dk = 0.0;  // distance of the k-th nearest neighbour
  if (l < p) dk = std::max(dk, q - vals[l]);
  if (r > p) dk = std::max(dk, vals[r - 1] - q);
  const bool left_tie = l > 0 && q - vals[l - 1] <= dk;
  const bool right_tie = r < n && vals[r] - q <= dk;
  if (!left_tie && !right_tie) {  // the window holds every point within dk
    for (std::int64_t i = l; i < r; ++i) out.push_back(i);
    return;
  }
  // Left side (indices < p): distance q - vals[i] is non-increasing in i.
  // a = first i in [0, p) with dist < dk ; A = first i with dist <= dk.
  auto first_left = [&](bool strict) {
    std::int64_t lo = 0, hi = p;
    while (lo < hi) {
      const std::int64_t mid = lo + (hi - lo) / 2;
      const double d = q - vals[mid];
      if (strict ? (d < dk) : (d <= dk))
        hi = mid;
      else
        lo = mid + 1;
    }
    return lo;
  };
  // Right side (indices >= p): distance vals[i] - q is non-decreasing in i.
  // b = first i in [p, n) with dist >= dk ; B = first i with dist > dk.
  auto first_right = [&](bool strict) {
    std::int64_t lo = p, hi = n;
    while (lo < hi) {
      const std::int64_t mid = lo + (hi - lo) / 2;
      const double d = vals[mid] - q;
      if (strict ? (d > dk) : (d >= dk))
        hi = mid;
      else
        lo = mid + 1;
    }
    return lo;
  };
  const std::int64_t a = first_left(true), A = first_left(false);
  const std::int64_t b = first_right(false), B = first_right(true);
  for (std::int64_t i = a; i < b; ++i) out.push_back(i);  // strictly closer than dk
  const std::int64_t need = k - static_cast<std::int64_t>(out.size());
  if (need <= 0) return;
  // Points exactly at distance dk: runs [A, a) and [b, B). A run of equal values is
  // sorted by training row, so the earliest rows sit at the start of each run.
  cand.clear();
  for (std::int64_t i = A; i < a && i < A + need; ++i) cand.push_back(i);
  for (std::int64_t i = b; i < B && i < b + need; ++i) cand.push_back(i);
  std::partial_sort(cand.begin(), cand.begin() + need, cand.end(),
                    [&](std::int64_t u, std::int64_t v) { return rows[u] < rows[v]; });
  out.insert(out.end(), cand.begin(), cand.begin() + need);
}

// scores[i, j]: mean squared error (is_class[i] == 0) or accuracy (is_class[i] == 1)
// of the k-NN model predicting factor i from latent j.
py::array_t<double> knn1d_scores(const carray<double>& z_train, const carray<double>& z_test,
                                 const carray<double>& y_train, const carray<double>& y_test,
                                 const carray<std::uint8_t>& is_class,
                                 const carray<std::int64_t>& n_classes, std::int64_t k) {
  const char* f = "knn1d_scores";
  require_ndim(z_train, 2, f, "z_train");
  require_ndim(z_test, 2, f, "z_test");
  require_ndim(y_train, 2, f, "y_train");
  require_ndim(y_test, 2, f, "y_test");
  require_ndim(is_class, 1, f, "is_class");
  require_ndim(n_classes, 1, f, "n_classes");
  const std::int64_t ntr = z_train.shape(0), nte = z_test.shape(0), L = z_train.shape(1);
  const std::int64_t F = y_train.shape(1);
  require(z_test.shape(1) == L, "knn1d_scores: z_test must have as many columns as z_train");
  require(y_train.shape(0) == ntr && y_test.shape(0) == nte,
          "knn1d_scores: y_train/y_test must have as many rows as z_train/z_test");
  require(y_test.shape(1) == F && is_class.shape(0) == F && n_classes.shape(0) == F,
          "knn1d_scores: factor dimensions disagree");
  require(k >= 1 && k <= ntr, "knn1d_scores: k must be in [1, n_train]; got " + std::to_string(k));
  require(nte >= 1, "knn1d_scores: z_test must have at least one row");
  const std::uint8_t* cls = is_class.data();
  const std::int64_t* ncls = n_classes.data();
  const double* ytr = y_train.data();
  const double* yte = y_test.data();
  for (std::int64_t i = 0; i < F; ++i) {
    if (!cls[i]) continue;
    require(ncls[i] >= 1, "knn1d_scores: n_classes must be >= 1 for classification factors");
    bool labels_ok = true;
    for (std::int64_t s = 0; s < ntr; ++s) {
      const double v = ytr[s * F + i];
      labels_ok &= v >= 0 && v < static_cast<double>(ncls[i]) && v == std::floor(v);
    }
    require(labels_ok, "knn1d_scores: class labels must be integers in [0, n_classes)");
  }
  py::array_t<double> scores({F, L});
  double* out = scores.mutable_data();
  const double* ztr = z_train.data();
  const double* zte = z_test.data();
  {
    py::gil_scoped_release release;
    // Parallel over latents: each task sorts its latent's training values once and
    // scores every test point against every factor. Sums over test points run in
    // test-row order, so results do not depend on the thread count.
    parallel_for(L, [&](std::int64_t jbegin, std::int64_t jend) {
      std::vector<double> loss(static_cast<std::size_t>(nte * F));  // per (test point, factor)
      std::vector<double> vals(static_cast<std::size_t>(ntr));
      std::vector<std::int64_t> rows(static_cast<std::size_t>(ntr));
      std::vector<double> ysorted(static_cast<std::size_t>(ntr * F));  // y in sorted order
      std::vector<std::pair<double, std::int64_t>> keyed(static_cast<std::size_t>(ntr));
      std::vector<std::pair<double, std::int64_t>> queries(static_cast<std::size_t>(nte));
      std::vector<std::int64_t> nb, cand, votes;
      nb.reserve(static_cast<std::size_t>(k));
      for (std::int64_t j = jbegin; j < jend; ++j) {
        for (std::int64_t s = 0; s < ntr; ++s) keyed[s] = {ztr[s * L + j], s};
        std::sort(keyed.begin(), keyed.end());  // by (value, training row)
        for (std::int64_t s = 0; s < ntr; ++s) {
          vals[s] = keyed[s].first;
          rows[s] = keyed[s].second;
          std::copy(ytr + rows[s] * F, ytr + rows[s] * F + F, ysorted.begin() + s * F);
        }
        // Queries in increasing order: neighbouring queries touch neighbouring memory.
        for (std::int64_t t = 0; t < nte; ++t) queries[t] = {zte[t * L + j], t};
        std::sort(queries.begin(), queries.end());
        for (std::int64_t qi = 0; qi < nte; ++qi) {
          const std::int64_t t = queries[qi].second;
          knn_select(vals.data(), rows.data(), ntr, queries[qi].first, k, nb, cand);
          for (std::int64_t i = 0; i < F; ++i) {
            if (cls[i]) {
              votes.assign(static_cast<std::size_t>(ncls[i]), 0);
              for (std::int64_t pos : nb) ++votes[static_cast<std::size_t>(ysorted[pos * F + i])];
              const std::int64_t pred = std::max_element(votes.begin(), votes.end()) - votes.begin();
              loss[t * F + i] = (static_cast<double>(pred) == yte[t * F + i]) ? 1.0 : 0.0;
            } else {
              double sum = 0.0;
              for (std::int64_t pos : nb) sum += ysorted[pos * F + i];
              const double diff = yte[t * F + i] - sum / static_cast<double>(k);
              loss[t * F + i] = diff * diff;
            }
          }
        }
        for (std::int64_t i = 0; i < F; ++i) {
          double total = 0.0;
          for (std::int64_t t = 0; t < nte; ++t) total += loss[t * F + i];
          out[i * L + j] = total / static_cast<double>(nte);
        }
      }
    });
  }
  return scores;
}

}  // namespace

VAECORE_REGISTER(knn1d) {
  m.def("knn1d_scores", &knn1d_scores, py::arg("z_train"), py::arg("z_test"), py::arg("y_train"),
        py::arg("y_test"), py::arg("is_class"), py::arg("n_classes"), py::arg("k"),
        "Exact 1-D k-NN scores of every (factor, latent) pair: (n_factors, n_latents) float64 "
        "holding the test MSE of the uniform k-NN regressor (is_class 0) or the test accuracy of "
        "the uniform majority vote (is_class 1, labels 0..n_classes-1). Distance ties go to the "
        "earlier training row, vote ties to the smaller label.");
}

}  // namespace vaecore
