// A regression random forest; see random_forest.h.
#include "analysis/random_forest.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

namespace caviar::analysis {
namespace {

// A well-mixed seed for tree `t` of a forest seeded `seed` (SplitMix64's finaliser), so
// each tree's randomness does not depend on how much the others used.
std::uint64_t tree_seed(std::uint64_t seed, std::uint64_t t) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (t + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A uniform integer in [0, n), the same on every platform (unlike
// std::uniform_int_distribution).
std::size_t below(std::mt19937_64& rng, std::size_t n) {
  return static_cast<std::size_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

}  // namespace

class TreeBuilder {
 public:
  TreeBuilder(const std::vector<Feature>& features, const std::vector<std::vector<double>>& x,
              const std::vector<double>& y, const ForestOptions& options, std::uint64_t seed)
      : features_(features), x_(x), y_(y), options_(options), rng_(seed) {
    int d = static_cast<int>(features.size());
    mtry_ = std::clamp(static_cast<int>(std::ceil(options.max_features * d - 1e-9)), 1, d);
  }

  RegressionTree build(std::vector<int> points) {
    Region region;
    std::size_t d = features_.size();
    region.lo.assign(d, 0.0);
    region.hi.assign(d, 1.0);
    region.values.resize(d);
    for (std::size_t j = 0; j < d; ++j)
      if (features_[j].categories > 0) region.values[j].assign(features_[j].categories, 1);
    points_ = std::move(points);
    grow(0, static_cast<int>(points_.size()), region, 0);
    return std::move(tree_);
  }

 private:
  struct Region {
    std::vector<double> lo, hi;
    std::vector<std::vector<char>> values;
  };
  struct Split {
    int feature = -1;
    double threshold = 0;
    std::vector<char> left_values;
    double score = -1;  // sum_L^2 / n_L + sum_R^2 / n_R: larger is a smaller squared error
  };

  const std::vector<Feature>& features_;
  const std::vector<std::vector<double>>& x_;
  const std::vector<double>& y_;
  const ForestOptions& options_;
  std::mt19937_64 rng_;
  int mtry_ = 1;
  std::vector<int> points_;
  RegressionTree tree_;
  // Scratch buffers, reused between nodes.
  std::vector<std::pair<double, double>> sorted_;
  std::vector<int> order_;

  int make_leaf(int begin, int end, const Region& region) {
    double sum = 0;
    for (int i = begin; i < end; ++i) sum += y_[points_[i]];
    Leaf leaf{region.lo, region.hi, region.values, sum / (end - begin)};
    for (std::size_t j = 0; j < features_.size(); ++j)
      if (features_[j].categories == 0) leaf.values[j].clear();
    tree_.leaves_.push_back(std::move(leaf));
    RegressionTree::Node node;
    node.leaf = static_cast<int>(tree_.leaves_.size()) - 1;
    tree_.nodes_.push_back(std::move(node));
    return static_cast<int>(tree_.nodes_.size()) - 1;
  }

  int grow(int begin, int end, Region& region, int depth) {
    int n = end - begin;
    double ymin = y_[points_[begin]], ymax = ymin;
    for (int i = begin; i < end; ++i) {
      ymin = std::min(ymin, y_[points_[i]]);
      ymax = std::max(ymax, y_[points_[i]]);
    }
    if (n < 2 * options_.min_samples_leaf || depth >= options_.max_depth || ymin == ymax)
      return make_leaf(begin, end, region);
    Split split = best_split(begin, end, region);
    if (split.feature < 0) return make_leaf(begin, end, region);

    int f = split.feature;
    bool categorical = features_[f].categories > 0;
    auto goes_left = [&](int p) {
      double v = x_[p][f];
      return categorical ? split.left_values[static_cast<int>(v)] != 0 : v < split.threshold;
    };
    int mid = static_cast<int>(
        std::stable_partition(points_.begin() + begin, points_.begin() + end, goes_left) -
        points_.begin());

    int id = static_cast<int>(tree_.nodes_.size());
    tree_.nodes_.emplace_back();
    tree_.nodes_[id].feature = f;
    tree_.nodes_[id].threshold = split.threshold;
    tree_.nodes_[id].left_values = split.left_values;

    int left, right;
    if (categorical) {
      std::vector<char> saved = region.values[f];
      for (std::size_t c = 0; c < saved.size(); ++c) region.values[f][c] = saved[c] && split.left_values[c];
      left = grow(begin, mid, region, depth + 1);
      for (std::size_t c = 0; c < saved.size(); ++c) region.values[f][c] = saved[c] && !split.left_values[c];
      right = grow(mid, end, region, depth + 1);
      region.values[f] = std::move(saved);
    } else {
      double saved_hi = region.hi[f], saved_lo = region.lo[f];
      region.hi[f] = split.threshold;
      left = grow(begin, mid, region, depth + 1);
      region.hi[f] = saved_hi;
      region.lo[f] = split.threshold;
      right = grow(mid, end, region, depth + 1);
      region.lo[f] = saved_lo;
    }
    tree_.nodes_[id].left = left;
    tree_.nodes_[id].right = right;
    return id;
  }

  Split best_split(int begin, int end, const Region& region) {
    int d = static_cast<int>(features_.size());
    order_.resize(d);
    std::iota(order_.begin(), order_.end(), 0);
    for (int i = d - 1; i > 0; --i) std::swap(order_[i], order_[below(rng_, i + 1)]);
    Split best;
    int searched = 0;
    for (int f : order_) {
      if (searched >= mtry_ && best.feature >= 0) break;
      bool usable = true, varies = false;
      double first = x_[points_[begin]][f];
      for (int i = begin; i < end && usable; ++i) {
        double v = x_[points_[i]][f];
        if (std::isnan(v)) usable = false;
        else if (v != first) varies = true;
      }
      if (!usable || !varies) continue;
      ++searched;
      if (features_[f].categories > 0)
        categorical_split(f, begin, end, region, best);
      else
        numeric_split(f, begin, end, best);
    }
    return best;
  }

  void numeric_split(int f, int begin, int end, Split& best) {
    int n = end - begin, m = options_.min_samples_leaf;
    sorted_.clear();
    double total = 0;
    for (int i = begin; i < end; ++i) {
      sorted_.emplace_back(x_[points_[i]][f], y_[points_[i]]);
      total += y_[points_[i]];
    }
    std::sort(sorted_.begin(), sorted_.end());
    double left = 0;
    for (int i = 0; i + 1 < n; ++i) {
      left += sorted_[i].second;
      int nl = i + 1, nr = n - nl;
      if (nl < m) continue;
      if (nr < m) break;
      if (!(sorted_[i].first < sorted_[i + 1].first)) continue;
      double right = total - left;
      double score = left * left / nl + right * right / nr;
      if (score > best.score) {
        double t = 0.5 * (sorted_[i].first + sorted_[i + 1].first);
        if (!(t > sorted_[i].first)) t = sorted_[i + 1].first;
        best.feature = f;
        best.threshold = t;
        best.left_values.clear();
        best.score = score;
      }
    }
  }

  void categorical_split(int f, int begin, int end, const Region& region, Split& best) {
    int k = features_[f].categories, m = options_.min_samples_leaf;
    std::vector<double> sum(k, 0.0);
    std::vector<int> count(k, 0);
    for (int i = begin; i < end; ++i) {
      int c = static_cast<int>(x_[points_[i]][f]);
      sum[c] += y_[points_[i]];
      ++count[c];
    }
    std::vector<int> seen;
    double total = 0;
    for (int c = 0; c < k; ++c)
      if (count[c] > 0) seen.push_back(c), total += sum[c];
    std::stable_sort(seen.begin(), seen.end(), [&](int a, int b) {
      return sum[a] / count[a] < sum[b] / count[b];
    });
    int n = end - begin, nl = 0;
    double left = 0;
    for (std::size_t i = 0; i + 1 < seen.size(); ++i) {
      left += sum[seen[i]];
      nl += count[seen[i]];
      int nr = n - nl;
      if (nl < m || nr < m) continue;
      double right = total - left;
      double score = left * left / nl + right * right / nr;
      if (score > best.score) {
        best.feature = f;
        best.threshold = 0;
        best.left_values.assign(k, 0);
        for (std::size_t j = 0; j <= i; ++j) best.left_values[seen[j]] = 1;
        // Values of the region that no point in this node has go with the larger side.
        if (nl >= nr)
          for (int c = 0; c < k; ++c)
            if (region.values[f][c] && count[c] == 0) best.left_values[c] = 1;
        best.score = score;
      }
    }
  }
};

double RegressionTree::predict(const std::vector<double>& x) const {
  int id = 0;
  while (nodes_[id].feature >= 0) {
    const Node& node = nodes_[id];
    double v = x[node.feature];
    bool left;
    if (!node.left_values.empty()) {
      left = v >= 0 && v < static_cast<double>(node.left_values.size()) &&
             node.left_values[static_cast<std::size_t>(v)] != 0;
    } else {
      left = v < node.threshold;
    }
    id = left ? node.left : node.right;
  }
  return leaves_[nodes_[id].leaf].value;
}

RandomForest::RandomForest(const std::vector<Feature>& features,
                           const std::vector<std::vector<double>>& x,
                           const std::vector<double>& y, const ForestOptions& options)
    : features_(features) {
  if (x.empty() || x.size() != y.size())
    throw std::invalid_argument("random forest: need as many rows as responses, at least one");
  if (features.empty()) throw std::invalid_argument("random forest: no features");
  if (options.trees < 1 || options.min_samples_leaf < 1 || options.max_depth < 0 ||
      !(options.max_features > 0 && options.max_features <= 1))
    throw std::invalid_argument("random forest: bad options");
  for (const auto& f : features)
    if (f.categories == 1 || f.categories < 0)
      throw std::invalid_argument("random forest: a categorical feature needs 2 or more values");
  for (const auto& row : x) {
    if (row.size() != features.size())
      throw std::invalid_argument("random forest: a row has the wrong number of features");
    for (std::size_t j = 0; j < row.size(); ++j) {
      int k = features[j].categories;
      if (k > 0 && !std::isnan(row[j]) &&
          !(row[j] >= 0 && row[j] < k && row[j] == std::floor(row[j])))
        throw std::invalid_argument("random forest: categorical value out of range");
    }
  }
  int n = static_cast<int>(x.size());
  trees_.reserve(options.trees);
  for (int t = 0; t < options.trees; ++t) {
    std::uint64_t seed = tree_seed(options.seed, static_cast<std::uint64_t>(t));
    TreeBuilder builder(features_, x, y, options, seed);
    std::mt19937_64 rng(seed ^ 0xA5A5A5A5A5A5A5A5ULL);
    std::vector<int> points(n);
    if (options.bootstrap)
      for (int& p : points) p = static_cast<int>(below(rng, static_cast<std::size_t>(n)));
    else
      std::iota(points.begin(), points.end(), 0);
    std::sort(points.begin(), points.end());
    trees_.push_back(builder.build(std::move(points)));
  }
}

double RandomForest::predict(const std::vector<double>& x) const {
  double sum = 0;
  for (const auto& tree : trees_) sum += tree.predict(x);
  return sum / static_cast<double>(trees_.size());
}

}  // namespace caviar::analysis
