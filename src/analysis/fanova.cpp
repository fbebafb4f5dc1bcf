// Functional ANOVA over random-forest trees (see fanova.h), and caviar::importance.
//
// A tree is constant on each leaf, so every marginal is a step function on the grid its
// own split points make: along feature j the cube falls into "cells" (between consecutive
// thresholds the tree uses on j, or one cell per categorical value), and a_j is constant
// on each cell. With w_L the measure of leaf L and m_j(L) the measure of its extent along
// j, a_j on a cell t is
//     a_j(t) = sum over leaves L covering t of  v_L * w_L / m_j(L),
// and a_jk on a pair of cells is the same with w_L / (m_j(L) m_k(L)). Each leaf adds a
// constant over a range of cells (a rectangle of cells for a pair), so the sums are built
// with difference arrays: O(leaves + cells) per feature, O(leaves + cells_j * cells_k) per
// pair.
#include "analysis/fanova.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "caviar/error.h"
#include "caviar/importance.h"

namespace caviar::analysis {
namespace {

using Run = std::pair<int, int>;  // cells [first, second)

struct TreeGrid {
  std::vector<std::vector<double>> cell_weight;      // [feature][cell]
  std::vector<std::vector<std::vector<Run>>> runs;   // [leaf][feature]: cells it covers
  std::vector<std::vector<double>> extent;           // [leaf][feature]: m_j(L)
  std::vector<double> mass;                          // [leaf]: w_L
  std::vector<double> centred;                       // [leaf]: v_L - f0
  double variance = 0;
};

TreeGrid make_grid(const RegressionTree& tree, const std::vector<Feature>& features) {
  const auto& leaves = tree.leaves();
  std::size_t d = features.size(), n = leaves.size();
  TreeGrid g;
  g.cell_weight.resize(d);
  std::vector<std::vector<double>> cuts(d);
  for (std::size_t j = 0; j < d; ++j) {
    int k = features[j].categories;
    if (k > 0) {
      g.cell_weight[j].assign(k, 1.0 / k);
      continue;
    }
    cuts[j] = {0.0, 1.0};
    for (const auto& leaf : leaves) cuts[j].push_back(leaf.lo[j]), cuts[j].push_back(leaf.hi[j]);
    std::sort(cuts[j].begin(), cuts[j].end());
    cuts[j].erase(std::unique(cuts[j].begin(), cuts[j].end()), cuts[j].end());
    for (std::size_t c = 0; c + 1 < cuts[j].size(); ++c)
      g.cell_weight[j].push_back(cuts[j][c + 1] - cuts[j][c]);
  }
  auto index = [&](std::size_t j, double at) {
    return static_cast<int>(std::lower_bound(cuts[j].begin(), cuts[j].end(), at) - cuts[j].begin());
  };
  g.runs.assign(n, std::vector<std::vector<Run>>(d));
  g.extent.assign(n, std::vector<double>(d, 0.0));
  g.mass.assign(n, 1.0);
  double f0 = 0;
  for (std::size_t l = 0; l < n; ++l) {
    const Leaf& leaf = leaves[l];
    for (std::size_t j = 0; j < d; ++j) {
      int k = features[j].categories;
      if (k > 0) {
        int count = 0;
        for (int c = 0; c < k; ++c) {
          if (!leaf.values[j][c]) continue;
          ++count;
          if (c > 0 && leaf.values[j][c - 1]) g.runs[l][j].back().second = c + 1;
          else g.runs[l][j].emplace_back(c, c + 1);
        }
        g.extent[l][j] = static_cast<double>(count) / k;
      } else {
        g.runs[l][j].emplace_back(index(j, leaf.lo[j]), index(j, leaf.hi[j]));
        g.extent[l][j] = leaf.hi[j] - leaf.lo[j];
      }
      g.mass[l] *= g.extent[l][j];
    }
    f0 += g.mass[l] * leaf.value;
  }
  g.centred.resize(n);
  double scale = 0;
  for (std::size_t l = 0; l < n; ++l) {
    g.centred[l] = leaves[l].value - f0;
    g.variance += g.mass[l] * g.centred[l] * g.centred[l];
    scale = std::max(scale, std::abs(leaves[l].value));
  }
  // A tree whose leaves differ only by rounding is constant: nothing to explain.
  if (g.variance <= 1e-24 * scale * scale) g.variance = 0;
  return g;
}

// a_j (centred) on each cell of feature j.
std::vector<double> marginal(const TreeGrid& g, std::size_t j) {
  std::vector<double> diff(g.cell_weight[j].size() + 1, 0.0);
  for (std::size_t l = 0; l < g.mass.size(); ++l) {
    double add = g.centred[l] * g.mass[l] / g.extent[l][j];
    for (auto [a, b] : g.runs[l][j]) diff[a] += add, diff[b] -= add;
  }
  std::vector<double> a(g.cell_weight[j].size());
  double running = 0;
  for (std::size_t c = 0; c < a.size(); ++c) a[c] = running += diff[c];
  return a;
}

}  // namespace

AnovaShares tree_anova(const RegressionTree& tree, const std::vector<Feature>& features,
                       bool pairs) {
  std::size_t d = features.size();
  AnovaShares out;
  out.main.assign(d, 0.0);
  if (pairs) out.pair.assign(d, std::vector<double>(d, 0.0));
  TreeGrid g = make_grid(tree, features);
  if (g.variance == 0) return out;
  out.trees_used = 1;

  std::vector<std::vector<double>> a(d);
  for (std::size_t j = 0; j < d; ++j) {
    a[j] = marginal(g, j);
    double v = 0;
    for (std::size_t c = 0; c < a[j].size(); ++c) v += g.cell_weight[j][c] * a[j][c] * a[j][c];
    out.main[j] = v / g.variance;
  }
  if (!pairs) return out;

  std::vector<double> diff;
  for (std::size_t j = 0; j < d; ++j) {
    for (std::size_t k = j + 1; k < d; ++k) {
      std::size_t nj = a[j].size(), nk = a[k].size(), w = nk + 1;
      diff.assign((nj + 1) * w, 0.0);
      for (std::size_t l = 0; l < g.mass.size(); ++l) {
        double add = g.centred[l] * g.mass[l] / (g.extent[l][j] * g.extent[l][k]);
        for (auto [a0, a1] : g.runs[l][j])
          for (auto [b0, b1] : g.runs[l][k]) {
            diff[a0 * w + b0] += add;
            diff[a0 * w + b1] -= add;
            diff[a1 * w + b0] -= add;
            diff[a1 * w + b1] += add;
          }
      }
      // 2-D prefix sums turn the differences into a_jk on each pair of cells.
      for (std::size_t t = 0; t <= nj; ++t)
        for (std::size_t s = 1; s <= nk; ++s) diff[t * w + s] += diff[t * w + s - 1];
      for (std::size_t t = 1; t <= nj; ++t)
        for (std::size_t s = 0; s <= nk; ++s) diff[t * w + s] += diff[(t - 1) * w + s];
      double v = 0;
      for (std::size_t t = 0; t < nj; ++t)
        for (std::size_t s = 0; s < nk; ++s) {
          double f = diff[t * w + s] - a[j][t] - a[k][s];
          v += g.cell_weight[j][t] * g.cell_weight[k][s] * f * f;
        }
      out.pair[j][k] = v / g.variance;
    }
  }
  return out;
}

AnovaShares forest_anova(const RandomForest& forest, bool pairs) {
  std::size_t d = forest.features().size();
  AnovaShares sum;
  sum.main.assign(d, 0.0);
  if (pairs) sum.pair.assign(d, std::vector<double>(d, 0.0));
  for (const auto& tree : forest.trees()) {
    AnovaShares one = tree_anova(tree, forest.features(), pairs);
    if (one.trees_used == 0) continue;
    ++sum.trees_used;
    for (std::size_t j = 0; j < d; ++j) sum.main[j] += one.main[j];
    if (pairs)
      for (std::size_t j = 0; j < d; ++j)
        for (std::size_t k = j + 1; k < d; ++k) sum.pair[j][k] += one.pair[j][k];
  }
  if (sum.trees_used > 0) {
    double n = sum.trees_used;
    for (auto& v : sum.main) v /= n;
    for (auto& row : sum.pair)
      for (auto& v : row) v /= n;
  }
  return sum;
}

}  // namespace caviar::analysis

namespace caviar {

json Importance::to_json() const {
  json out = {{"trials_used", trials_used}, {"params", json::array()}, {"pairs", json::array()}};
  for (const auto& p : params) out["params"].push_back({{"name", p.name}, {"share", p.share}});
  for (const auto& p : pairs)
    out["pairs"].push_back({{"first", p.first}, {"second", p.second}, {"share", p.share}});
  return out;
}

Importance importance(const SearchSpace& space, const std::vector<TrialRecord>& trials,
                      Direction direction, const ImportanceOptions& options) {
  (void)direction;  // a variance is the same whichever way the study optimises
  if (options.trees < 1)
    throw ConfigError("importance.trees", "must be at least 1 (got " + std::to_string(options.trees) + ")");
  if (options.min_samples_leaf < 1)
    throw ConfigError("importance.min_samples_leaf",
                      "must be at least 1 (got " + std::to_string(options.min_samples_leaf) + ")");
  if (options.max_depth < 1)
    throw ConfigError("importance.max_depth", "must be at least 1 (got " + std::to_string(options.max_depth) + ")");
  if (space.empty()) throw UsageError("importance", "the search space has no parameters");

  std::vector<analysis::Feature> features;
  for (const auto& p : space.params())
    features.push_back({p.type == ParamType::Choice ? static_cast<int>(p.choices.size()) : 0});
  // A choice with a single value cannot vary: treat it as a (constant) number.
  for (auto& f : features)
    if (f.categories == 1) f.categories = 0;

  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (const auto& t : trials) {
    if (t.state != TrialState::Complete || !t.value || !std::isfinite(*t.value)) continue;
    std::vector<double> row;
    for (std::size_t j = 0; j < space.size(); ++j) {
      const Parameter& p = space.params()[j];
      auto it = t.params.find(p.name);
      double v = std::nan("");
      if (it != t.params.end() && std::isfinite(it->second)) {
        if (features[j].categories > 0) {
          double c = std::round(it->second);
          if (c >= 0 && c < features[j].categories) v = c;
        } else if (p.type == ParamType::Choice) {
          v = 0.5;
        } else {
          v = p.to_unit(it->second);
        }
      }
      row.push_back(v);
    }
    x.push_back(std::move(row));
    y.push_back(*t.value);
  }
  if (x.size() < 2)
    throw UsageError("importance", "needs at least 2 complete trials with a value (found " +
                                       std::to_string(x.size()) + ")");

  analysis::ForestOptions forest_options;
  forest_options.trees = options.trees;
  forest_options.seed = options.seed;
  forest_options.min_samples_leaf = options.min_samples_leaf;
  forest_options.max_depth = options.max_depth;
  analysis::RandomForest forest(features, x, y, forest_options);
  analysis::AnovaShares shares = analysis::forest_anova(forest, options.pairs);

  Importance out;
  out.trials_used = static_cast<int>(x.size());
  const auto& params = space.params();
  for (std::size_t j = 0; j < params.size(); ++j) out.params.push_back({params[j].name, shares.main[j]});
  if (options.pairs)
    for (std::size_t j = 0; j < params.size(); ++j)
      for (std::size_t k = j + 1; k < params.size(); ++k)
        out.pairs.push_back({params[j].name, params[k].name, shares.pair[j][k]});
  // Largest first; equal shares keep the space's order.
  std::stable_sort(out.params.begin(), out.params.end(),
                   [](const auto& a, const auto& b) { return a.share > b.share; });
  std::stable_sort(out.pairs.begin(), out.pairs.end(),
                   [](const auto& a, const auto& b) { return a.share > b.share; });
  return out;
}

}  // namespace caviar
