// Replay of a fitted gradient-boosted tree ensemble (LightGBM's trees as plain arrays)
// for DCI's importance matrix (vaecore.metrics.dci, backend="lightgbm").
//
// sklearn's GradientBoostingClassifier.feature_importances_ sum, over every split of
// every tree, the decrease of the squared error of the residuals y_k - p_k that the tree
// was fit to (weighted_n_node_samples * impurity minus the children's); LightGBM's own
// "gain" importance weights splits by hessians instead. These kernels recompute sklearn's
// quantity from a fitted LightGBM model:
//
// * gbt_raw_scores: raw scores (sum of leaf values per class) of any samples;
// * gbt_residual_importance: replays boosting on the training samples iteration by
//   iteration -- probabilities from the raw scores so far (sigmoid for one tree per
//   iteration, softmax otherwise), residuals onehot - p, the residual sum G and count n
//   of every node, and per split G_L^2/n_L + G_R^2/n_R - G^2/n (= n var - n_L var_L -
//   n_R var_R) added to the split feature's total.
//
// Trees come as concatenated arrays in LightGBM's layout: tree t has internal nodes
// [node_offset[t], node_offset[t+1]) with split_feature, threshold, left_child,
// right_child (a child >= 0 is an internal node of the same tree, a child < 0 is leaf
// ~child), and leaves [leaf_offset[t], leaf_offset[t+1]) with leaf_value. A sample goes
// left when x[split_feature] <= threshold (LightGBM's numerical decision for finite
// values). Tree t belongs to class t % k of iteration t / k.
//
// Determinism: samples are cut into fixed blocks whose partial sums are merged in block
// order, so results do not depend on the number of threads.
#include "common.hpp"

#include <cmath>
#include <limits>

namespace vaecore {
namespace {

constexpr std::int64_t kBlock = 2048;
constexpr std::int64_t kLanes = 4;

// The trees in a branch-free layout: every tree's internal nodes followed by its leaves in
// one node array; node j of a tree has children[2j] (x <= threshold) and children[2j+1]
// (otherwise); a leaf is a node that points to itself (feature 0, threshold +inf). Routing a
// sample is then exactly depth(t) steps with no data-dependent branch, so the CPU overlaps
// the routes of consecutive samples.
struct Forest {
  std::int64_t n_trees = 0, max_nodes = 0, max_leaves = 0;
  std::vector<std::int64_t> offset;  // first node of tree t in the arrays below
  std::vector<std::int32_t> n_internal, depth, feature, children;
  std::vector<double> threshold;
  const std::int64_t* node_offset = nullptr;
  const std::int32_t* split_feature = nullptr;
  const std::int32_t* left = nullptr;
  const std::int32_t* right = nullptr;
  const std::int64_t* leaf_offset = nullptr;
  const double* leaf_value = nullptr;

  struct Tree {
    const std::int32_t* __restrict feature;
    const double* __restrict threshold;
    const std::int32_t* __restrict children;
    std::int32_t n_internal, depth;
    // Leaf index (within the tree) of the sample `row`.
    std::int64_t leaf_of(const double* __restrict row) const {
      std::int32_t node = 0;
      for (std::int32_t level = 0; level < depth; ++level)
        node = children[2 * node + static_cast<std::int32_t>(!(row[feature[node]] <= threshold[node]))];
      return node - n_internal;
    }
  };
  Tree tree(std::int64_t t) const {
    const std::int64_t b = offset[static_cast<std::size_t>(t)];
    return Tree{feature.data() + b, threshold.data() + b, children.data() + 2 * b, n_internal[t], depth[t]};
  }
};

// Depth (number of splits on the longest root-to-leaf path) of the subtree at `node`.
std::int32_t subtree_depth(const std::int32_t* left, const std::int32_t* right, std::int32_t node) {
  if (node < 0) return 0;
  return 1 + std::max(subtree_depth(left, right, left[node]), subtree_depth(left, right, right[node]));
}

Forest make_forest(const char* f, std::int64_t n_features, const carray<std::int64_t>& node_offset,
                   const carray<std::int32_t>& split_feature, const carray<double>& threshold,
                   const carray<std::int32_t>& left_child, const carray<std::int32_t>& right_child,
                   const carray<std::int64_t>& leaf_offset, const carray<double>& leaf_value) {
  const std::string fn(f);
  require_ndim(node_offset, 1, f, "node_offset");
  require_ndim(split_feature, 1, f, "split_feature");
  require_ndim(threshold, 1, f, "threshold");
  require_ndim(left_child, 1, f, "left_child");
  require_ndim(right_child, 1, f, "right_child");
  require_ndim(leaf_offset, 1, f, "leaf_offset");
  require_ndim(leaf_value, 1, f, "leaf_value");
  Forest forest;
  forest.n_trees = node_offset.shape(0) - 1;
  require(forest.n_trees >= 1, fn + ": node_offset must have at least 2 entries (one tree)");
  require(leaf_offset.shape(0) == forest.n_trees + 1, fn + ": leaf_offset must have one entry more than there are trees");
  const std::int64_t n_nodes = split_feature.shape(0);
  require(threshold.shape(0) == n_nodes && left_child.shape(0) == n_nodes && right_child.shape(0) == n_nodes,
          fn + ": split_feature, threshold, left_child and right_child must have the same length");
  forest.node_offset = node_offset.data();
  forest.split_feature = split_feature.data();
  forest.left = left_child.data();
  forest.right = right_child.data();
  forest.leaf_offset = leaf_offset.data();
  forest.leaf_value = leaf_value.data();
  const double* thr = threshold.data();
  require(forest.node_offset[0] == 0 && forest.node_offset[forest.n_trees] == n_nodes,
          fn + ": node_offset must start at 0 and end at the number of internal nodes");
  require(forest.leaf_offset[0] == 0 && forest.leaf_offset[forest.n_trees] == leaf_value.shape(0),
          fn + ": leaf_offset must start at 0 and end at the number of leaves");
  const std::size_t total = static_cast<std::size_t>(n_nodes + leaf_value.shape(0));
  forest.feature.reserve(total);
  forest.threshold.reserve(total);
  forest.children.reserve(2 * total);
  for (std::int64_t t = 0; t < forest.n_trees; ++t) {
    const std::int64_t nb = forest.node_offset[t], ne = forest.node_offset[t + 1];
    const std::int64_t n_int = ne - nb, n_leaves = forest.leaf_offset[t + 1] - forest.leaf_offset[t];
    require_lazy(n_int >= 0 && n_leaves == n_int + 1,
                 [&] { return fn + ": tree " + std::to_string(t) + " must have one leaf more than internal nodes"; });
    forest.max_nodes = std::max(forest.max_nodes, n_int);
    forest.max_leaves = std::max(forest.max_leaves, n_leaves);
    const std::int32_t base = static_cast<std::int32_t>(n_int);
    forest.offset.push_back(static_cast<std::int64_t>(forest.feature.size()));
    forest.n_internal.push_back(base);
    for (std::int64_t g = nb; g < ne; ++g) {
      require_lazy(forest.split_feature[g] >= 0 && forest.split_feature[g] < n_features,
                   [&] { return fn + ": split_feature out of range in tree " + std::to_string(t); });
      for (const std::int32_t child : {forest.left[g], forest.right[g]}) {
        // children point forward (no cycles): internal children after their parent
        const bool ok = child < 0 ? ~static_cast<std::int64_t>(child) < n_leaves
                                  : child > g - nb && child < n_int;
        require_lazy(ok, [&] {
          return fn + ": child index out of range (or not after its parent) in tree " + std::to_string(t);
        });
        forest.children.push_back(child < 0 ? base + ~child : child);
      }
      forest.feature.push_back(forest.split_feature[g]);
      forest.threshold.push_back(thr[g]);
    }
    for (std::int32_t leaf = 0; leaf < n_leaves; ++leaf) {
      forest.feature.push_back(0);
      forest.threshold.push_back(std::numeric_limits<double>::infinity());
      forest.children.push_back(base + leaf);
      forest.children.push_back(base + leaf);
    }
    forest.depth.push_back(n_int == 0 ? 0 : subtree_depth(forest.left + nb, forest.right + nb, 0));
  }
  return forest;
}

// Raw scores (n, k): per sample, the sum of the leaf values of the trees of each class.
py::array_t<double> gbt_raw_scores(const carray<double>& x, std::int64_t k, const carray<std::int64_t>& node_offset,
                                   const carray<std::int32_t>& split_feature, const carray<double>& threshold,
                                   const carray<std::int32_t>& left_child, const carray<std::int32_t>& right_child,
                                   const carray<std::int64_t>& leaf_offset, const carray<double>& leaf_value) {
  require_ndim(x, 2, "gbt_raw_scores", "x");
  const Forest forest = make_forest("gbt_raw_scores", x.shape(1), node_offset, split_feature, threshold,
                                    left_child, right_child, leaf_offset, leaf_value);
  require(k >= 1 && forest.n_trees % k == 0, "gbt_raw_scores: k must divide the number of trees");
  const std::int64_t n = x.shape(0), d = x.shape(1);
  py::array_t<double> result({n, k});
  double* out = result.mutable_data();
  const double* px = x.data();
  {
    py::gil_scoped_release release;
    std::fill(out, out + n * k, 0.0);
    parallel_for((n + kBlock - 1) / kBlock, [&](std::int64_t b_begin, std::int64_t b_end) {
      for (std::int64_t b = b_begin; b < b_end; ++b) {
        const std::int64_t s0 = b * kBlock, s1 = std::min(n, (b + 1) * kBlock);
        for (std::int64_t t = 0; t < forest.n_trees; ++t) {  // tree-major: the tree stays hot
          const Forest::Tree tree = forest.tree(t);
          const double* values = forest.leaf_value + forest.leaf_offset[t];
          double* o = out + t % k;
          for (std::int64_t s = s0; s < s1; ++s) o[s * k] += values[tree.leaf_of(px + s * d)];
        }
      }
    });
  }
  return result;
}

// (importance (n_features,), raw (n, k)): sklearn's unnormalised impurity importance of
// the replayed boosting and the final raw scores of the training samples. labels are
// class indices in [0, max(k, 2)); init (k,) holds the raw score every sample starts
// from (LightGBM's initial score, which it folds into the first iteration's leaves).
py::tuple gbt_residual_importance(const carray<double>& x, const carray<std::int64_t>& labels,
                                  const carray<double>& init, const carray<std::int64_t>& node_offset,
                                  const carray<std::int32_t>& split_feature, const carray<double>& threshold,
                                  const carray<std::int32_t>& left_child, const carray<std::int32_t>& right_child,
                                  const carray<std::int64_t>& leaf_offset, const carray<double>& leaf_value) {
  const char* f = "gbt_residual_importance";
  require_ndim(x, 2, f, "x");
  require_ndim(labels, 1, f, "labels");
  require_ndim(init, 1, f, "init");
  const Forest forest = make_forest(f, x.shape(1), node_offset, split_feature, threshold, left_child,
                                    right_child, leaf_offset, leaf_value);
  const std::int64_t n = x.shape(0), d = x.shape(1), k = init.shape(0);
  require(n >= 1, "gbt_residual_importance: x must have at least one row");
  require(labels.shape(0) == n, "gbt_residual_importance: labels must have one entry per row of x");
  require(k >= 1 && forest.n_trees % k == 0, "gbt_residual_importance: len(init) must divide the number of trees");
  const std::int64_t n_classes = std::max<std::int64_t>(k, 2);
  const std::int64_t* y = labels.data();
  for (std::int64_t s = 0; s < n; ++s)
    require_lazy(y[s] >= 0 && y[s] < n_classes,
                 [] { return std::string("gbt_residual_importance: labels must be in [0, n_classes)"); });
  const std::int64_t n_iter = forest.n_trees / k;
  const std::int64_t n_blocks = (n + kBlock - 1) / kBlock;
  // Per block and class: residual sums and counts of every internal node, then of every leaf.
  const std::int64_t slots = forest.max_nodes + forest.max_leaves;
  py::array_t<double> importance(d);
  py::array_t<double> raw_out({n, k});
  double* imp = importance.mutable_data();
  double* raw = raw_out.mutable_data();
  const double* px = x.data();
  const double* pinit = init.data();
  {
    py::gil_scoped_release release;
    std::fill(imp, imp + d, 0.0);
    for (std::int64_t s = 0; s < n; ++s) std::copy(pinit, pinit + k, raw + s * k);
    std::vector<double> sums(static_cast<std::size_t>(n_blocks * k * slots));
    std::vector<std::int64_t> counts(sums.size());
    std::vector<double> step(static_cast<std::size_t>(n * k));
    for (std::int64_t it = 0; it < n_iter; ++it) {
      std::fill(sums.begin(), sums.end(), 0.0);
      std::fill(counts.begin(), counts.end(), 0);
      parallel_for(n_blocks, [&](std::int64_t b_begin, std::int64_t b_end) {
        std::vector<double> resid(static_cast<std::size_t>(kBlock * k));
        std::vector<std::int32_t> leaves(static_cast<std::size_t>(kBlock));
        std::vector<double> lane_sum(static_cast<std::size_t>(kLanes * forest.max_leaves));
        std::vector<std::int64_t> lane_cnt(lane_sum.size());
        for (std::int64_t b = b_begin; b < b_end; ++b) {
          const std::int64_t s0 = b * kBlock, s1 = std::min(n, (b + 1) * kBlock);
          // residuals onehot - p of the block's samples (class-major)
          for (std::int64_t s = s0; s < s1; ++s) {
            const double* r = raw + s * k;
            double* res = resid.data() + (s - s0);
            if (k == 1) {
              res[0] = static_cast<double>(y[s]) - 1.0 / (1.0 + std::exp(-r[0]));
            } else {
              const double m = *std::max_element(r, r + k);
              double total = 0.0;
              for (std::int64_t c = 0; c < k; ++c) total += (res[c * kBlock] = std::exp(r[c] - m));
              const double inv = 1.0 / total;
              for (std::int64_t c = 0; c < k; ++c) res[c * kBlock] = (c == y[s] ? 1.0 : 0.0) - res[c * kBlock] * inv;
            }
          }
          // per tree: residual sum and count of every leaf (tree-major: the tree stays hot)
          for (std::int64_t c = 0; c < k; ++c) {
            const std::int64_t t = it * k + c;
            double* sm = sums.data() + (b * k + c) * slots;
            std::int64_t* cn = counts.data() + (b * k + c) * slots;
            const double* values = forest.leaf_value + forest.leaf_offset[t];
            const double* res = resid.data() + c * kBlock - s0;
            const Forest::Tree tree = forest.tree(t);
            for (std::int64_t s = s0; s < s1; ++s) {
              const std::int32_t leaf = static_cast<std::int32_t>(tree.leaf_of(px + s * d));
              leaves[static_cast<std::size_t>(s - s0)] = leaf;
              step[s * k + c] = values[leaf];
            }
            // kLanes interleaved accumulators: consecutive samples in the same leaf do not
            // wait on each other's read-modify-write (fixed order: deterministic).
            std::fill(lane_sum.begin(), lane_sum.end(), 0.0);
            std::fill(lane_cnt.begin(), lane_cnt.end(), 0);
            for (std::int64_t s = s0; s < s1; ++s) {
              const std::size_t j = static_cast<std::size_t>(((s - s0) % kLanes) * forest.max_leaves +
                                                             leaves[static_cast<std::size_t>(s - s0)]);
              lane_sum[j] += res[s];
              ++lane_cnt[j];
            }
            for (std::int64_t lane = 0; lane < kLanes; ++lane)
              for (std::int64_t leaf = 0; leaf < forest.max_leaves; ++leaf) {
                sm[forest.max_nodes + leaf] += lane_sum[static_cast<std::size_t>(lane * forest.max_leaves + leaf)];
                cn[forest.max_nodes + leaf] += lane_cnt[static_cast<std::size_t>(lane * forest.max_leaves + leaf)];
              }
          }
        }
      });
      for (std::int64_t c = 0; c < k; ++c) {
        const std::int64_t t = it * k + c;
        const std::int64_t nb = forest.node_offset[t], n_int = forest.node_offset[t + 1] - nb;
        if (n_int == 0) continue;
        std::vector<double> g(static_cast<std::size_t>(slots), 0.0);
        std::vector<std::int64_t> cnt(static_cast<std::size_t>(slots), 0);
        for (std::int64_t b = 0; b < n_blocks; ++b) {  // fixed order: deterministic sums
          const double* sm = sums.data() + (b * k + c) * slots;
          const std::int64_t* cn = counts.data() + (b * k + c) * slots;
          for (std::int64_t j = forest.max_nodes; j < slots; ++j) {
            g[j] += sm[j];
            cnt[j] += cn[j];
          }
        }
        const auto slot = [&](std::int32_t child) {
          return child < 0 ? forest.max_nodes + ~static_cast<std::int64_t>(child) : static_cast<std::int64_t>(child);
        };
        // Children come after their parents: a backward sweep sums leaves up to the root.
        for (std::int64_t node = n_int - 1; node >= 0; --node) {
          const std::int64_t l = slot(forest.left[nb + node]), r = slot(forest.right[nb + node]);
          g[node] = g[l] + g[r];
          cnt[node] = cnt[l] + cnt[r];
          if (cnt[l] == 0 || cnt[r] == 0) continue;  // a split no training sample crosses
          const double gl = g[l], gr = g[r], gn = g[l] + g[r];
          const double nl = static_cast<double>(cnt[l]), nr = static_cast<double>(cnt[r]);
          imp[forest.split_feature[nb + node]] += gl * gl / nl + gr * gr / nr - gn * gn / (nl + nr);
        }
      }
      // LightGBM's first-iteration leaves already contain the initial score.
      if (it == 0)
        std::copy(step.begin(), step.end(), raw);
      else
        for (std::int64_t j = 0; j < n * k; ++j) raw[j] += step[static_cast<std::size_t>(j)];
    }
  }
  return py::make_tuple(importance, raw_out);
}

}  // namespace

VAECORE_REGISTER(gbt_replay) {
  m.def("gbt_raw_scores", &gbt_raw_scores, py::arg("x"), py::arg("k"), py::arg("node_offset"),
        py::arg("split_feature"), py::arg("threshold"), py::arg("left_child"), py::arg("right_child"),
        py::arg("leaf_offset"), py::arg("leaf_value"),
        "Raw scores (n, k) of a tree ensemble in LightGBM's array layout: per class the sum of leaf values.");
  m.def("gbt_residual_importance", &gbt_residual_importance, py::arg("x"), py::arg("labels"), py::arg("init"),
        py::arg("node_offset"), py::arg("split_feature"), py::arg("threshold"), py::arg("left_child"),
        py::arg("right_child"), py::arg("leaf_offset"), py::arg("leaf_value"),
        "(importance, raw): sklearn's unnormalised gradient-boosting impurity importance of the replayed "
        "boosting (residual squared-error decrease per split) and the final training raw scores.");
}

}  // namespace vaecore
