// Exact one-dimensional k-nearest-neighbour scores for the disentanglement
// score DS (thesis §3.3.1, eq. 3.32-3.37; vaecore.metrics.ds).
//
// For every latent j the training values z_train[:, j] are sorted once (a stable
// LSD radix sort on order-preserving 64-bit keys, so equal values stay in training-row
// order), and so are the test values; walking the sorted test values, each finds its
// insertion point by galloping from the previous one and its k nearest training
// values in a window that grows towards the closer side. The neighbour set depends only on
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
#include <cstring>

namespace vaecore {
namespace {

// The k nearest training points of query q, as positions into the values sorted
// ascending by (value, training row): vals[pos] with training row rows[pos].
// Common case (no other point at the k-th distance): the window [l, r) grown from the
// insertion point is the answer. Otherwise the points strictly closer than the k-th
// distance dk are kept and the rest is filled with the earliest rows at distance dk.
void knn_select(const double* vals, const std::uint32_t* rows, std::int64_t n, double q,
                std::int64_t p, std::int64_t k, std::vector<std::int64_t>& out,
                std::vector<std::int64_t>& cand) {
  out.clear();  // p: insertion point of q, vals[p-1] < q <= vals[p]
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
  // Points exactly at distance dk: runs [A, a) and [b, B). A run of one value is
  // sorted by training row, so its earliest rows sit at its start. Far from the data
  // (|q| >> spacing) rounding can give different values the same distance: then the
  // run holds several values and every point of it is a candidate.
  cand.clear();
  const bool left_one = A < a && vals[A] == vals[a - 1];
  const bool right_one = b < B && vals[b] == vals[B - 1];
  for (std::int64_t i = A; i < a && (!left_one || i < A + need); ++i) cand.push_back(i);
  for (std::int64_t i = b; i < B && (!right_one || i < b + need); ++i) cand.push_back(i);
  std::partial_sort(cand.begin(), cand.begin() + need, cand.end(),
                    [&](std::int64_t u, std::int64_t v) { return rows[u] < rows[v]; });
  out.insert(out.end(), cand.begin(), cand.begin() + need);
}

// Sort keys: the IEEE-754 bits of a double mapped so that unsigned order is numeric
// order (-0.0 is first folded into +0.0: equal values must get equal keys, so that
// the stable sort below keeps them in training-row order).
inline std::uint64_t sort_key(double v) {
  v += 0.0;
  std::uint64_t u;
  std::memcpy(&u, &v, sizeof(u));
  return (u >> 63) ? ~u : (u | (std::uint64_t{1} << 63));
}

inline double key_value(std::uint64_t key) {
  const std::uint64_t u = (key >> 63) ? (key & ~(std::uint64_t{1} << 63)) : ~key;
  double v;
  std::memcpy(&v, &u, sizeof(v));
  return v;
}

// Stable LSD radix sort of (keys, idx) by key: six passes of 11-bit digits, skipping
// every pass whose digit is the same for all keys. idx starts as 0..n-1, so equal
// keys stay in index (training-row) order: the (value, row) order of the kernel.
struct RadixSorter {
  static constexpr int kBits = 11, kPasses = 6, kBuckets = 1 << kBits;
  std::vector<std::uint64_t> ktmp;
  std::vector<std::uint32_t> itmp, hist;

  void sort(std::vector<std::uint64_t>& keys, std::vector<std::uint32_t>& idx) {
    const std::size_t n = keys.size();
    ktmp.resize(n);
    itmp.resize(n);
    hist.assign(static_cast<std::size_t>(kPasses) * kBuckets, 0);
    for (std::size_t s = 0; s < n; ++s)
      for (int pass = 0; pass < kPasses; ++pass)
        ++hist[pass * kBuckets + ((keys[s] >> (pass * kBits)) & (kBuckets - 1))];
    for (int pass = 0; pass < kPasses; ++pass) {
      std::uint32_t* h = hist.data() + pass * kBuckets;
      if (n == 0 || h[(keys[0] >> (pass * kBits)) & (kBuckets - 1)] == n) continue;
      std::uint32_t total = 0;
      for (int b = 0; b < kBuckets; ++b) {
        const std::uint32_t c = h[b];
        h[b] = total;
        total += c;
      }
      for (std::size_t s = 0; s < n; ++s) {
        const std::uint32_t dst = h[(keys[s] >> (pass * kBits)) & (kBuckets - 1)]++;
        ktmp[dst] = keys[s];
        itmp[dst] = idx[s];
      }
      keys.swap(ktmp);
      idx.swap(itmp);
    }
  }
};

// lower_bound(v, v + n, q) for a q not below the previous query, whose insertion
// point was p: gallop forward from p, then bisect the last step.
inline std::int64_t advance_lower_bound(const double* v, std::int64_t n, std::int64_t p, double q) {
  if (p >= n || !(v[p] < q)) return p;
  std::int64_t lo = p, step = 1;  // v[lo] < q
  while (lo + step < n && v[lo + step] < q) {
    lo += step;
    step *= 2;
  }
  const std::int64_t hi = std::min(n, lo + step);
  return std::lower_bound(v + lo + 1, v + hi, q) - v;
}

// Majority label among the k neighbours (ties: smaller label). Small k: count by
// pairs, O(k^2) and independent of the number of classes; large k: a vote table.
inline std::int64_t majority(const std::vector<std::int64_t>& nb, const double* ys, std::int64_t F,
                             std::int64_t i, std::int64_t n_classes,
                             std::vector<std::int64_t>& votes) {
  const std::size_t k = nb.size();
  if (k <= 24) {
    std::int64_t best = -1, best_count = 0;
    for (std::size_t u = 0; u < k; ++u) {
      const std::int64_t label = static_cast<std::int64_t>(ys[nb[u] * F + i]);
      std::int64_t count = 0;
      for (std::size_t v = 0; v < k; ++v)
        count += static_cast<std::int64_t>(ys[nb[v] * F + i]) == label;
      if (count > best_count || (count == best_count && label < best)) {
        best = label;
        best_count = count;
      }
    }
    return best;
  }
  votes.assign(static_cast<std::size_t>(n_classes), 0);
  for (std::int64_t pos : nb) ++votes[static_cast<std::size_t>(ys[pos * F + i])];
  return std::max_element(votes.begin(), votes.end()) - votes.begin();
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
  require(ntr < (std::int64_t{1} << 32) && nte < (std::int64_t{1} << 32),
          "knn1d_scores: at most 2^32 - 1 training and test rows");
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
      std::vector<double> vals(static_cast<std::size_t>(ntr)), qvals(static_cast<std::size_t>(nte));
      std::vector<std::uint64_t> keys, qkeys;
      std::vector<std::uint32_t> rows, qrows;
      std::vector<double> ysorted(static_cast<std::size_t>(ntr * F));  // y in sorted order
      std::vector<std::int64_t> nb, cand, votes;
      // This task's latent columns, read once row by row (z is row-major, so reading one
      // column per latent would touch every cache line of z once per latent).
      const std::int64_t nj = jend - jbegin;
      std::vector<std::uint64_t> tr_keys(static_cast<std::size_t>(ntr * nj));
      std::vector<std::uint64_t> te_keys(static_cast<std::size_t>(nte * nj));
      for (std::int64_t s = 0; s < ntr; ++s)
        for (std::int64_t j = jbegin; j < jend; ++j) tr_keys[(j - jbegin) * ntr + s] = sort_key(ztr[s * L + j]);
      for (std::int64_t t = 0; t < nte; ++t)
        for (std::int64_t j = jbegin; j < jend; ++j) te_keys[(j - jbegin) * nte + t] = sort_key(zte[t * L + j]);
      std::vector<double> sums(static_cast<std::size_t>(F));
      RadixSorter sorter;
      nb.reserve(static_cast<std::size_t>(k));
      for (std::int64_t j = jbegin; j < jend; ++j) {
        keys.resize(static_cast<std::size_t>(ntr));
        rows.resize(static_cast<std::size_t>(ntr));
        for (std::int64_t s = 0; s < ntr; ++s) {
          keys[s] = tr_keys[(j - jbegin) * ntr + s];
          rows[s] = static_cast<std::uint32_t>(s);
        }
        sorter.sort(keys, rows);  // by (value, training row)
        // Gather the factors into sorted order: random rows of y_train, so prefetch ahead.
        constexpr std::int64_t kAhead = 16;
        for (std::int64_t s = 0; s < ntr; ++s) {
#if defined(__GNUC__)
          if (s + kAhead < ntr) __builtin_prefetch(ytr + static_cast<std::int64_t>(rows[s + kAhead]) * F);
#endif
          vals[s] = key_value(keys[s]);
          const double* src = ytr + static_cast<std::int64_t>(rows[s]) * F;
          double* dst = ysorted.data() + s * F;
          for (std::int64_t i = 0; i < F; ++i) dst[i] = src[i];
        }
        // Queries in increasing order: neighbouring queries touch neighbouring memory,
        // and each insertion point is found by galloping from the previous one.
        qkeys.resize(static_cast<std::size_t>(nte));
        qrows.resize(static_cast<std::size_t>(nte));
        for (std::int64_t t = 0; t < nte; ++t) {
          qkeys[t] = te_keys[(j - jbegin) * nte + t];
          qrows[t] = static_cast<std::uint32_t>(t);
        }
        sorter.sort(qkeys, qrows);
        std::int64_t p = 0;
        for (std::int64_t qi = 0; qi < nte; ++qi) {
          const std::int64_t t = qrows[qi];
          const double q = key_value(qkeys[qi]);
          p = advance_lower_bound(vals.data(), ntr, p, q);
          knn_select(vals.data(), rows.data(), ntr, q, p, k, nb, cand);
          // Neighbour sums for all factors at once (per factor still in neighbour order).
          std::fill(sums.begin(), sums.end(), 0.0);
          for (std::int64_t pos : nb) {
            const double* yrow = ysorted.data() + pos * F;
            for (std::int64_t i = 0; i < F; ++i) sums[i] += yrow[i];
          }
          for (std::int64_t i = 0; i < F; ++i) {
            if (cls[i]) {
              const std::int64_t pred = majority(nb, ysorted.data(), F, i, ncls[i], votes);
              loss[t * F + i] = (static_cast<double>(pred) == yte[t * F + i]) ? 1.0 : 0.0;
            } else {
              const double diff = yte[t * F + i] - sums[i] / static_cast<double>(k);
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
