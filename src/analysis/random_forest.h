// A regression random forest (L. Breiman, "Random Forests", Machine Learning 45, 2001),
// the surrogate that fANOVA (fanova.cpp) decomposes.
//
// Each tree is grown on a bootstrap sample of the points. At each node a random subset of
// the features is searched for the split that most reduces the squared error (CART's
// variance reduction); a leaf stores the mean of its points. Inputs live in the unit cube:
//   - a numeric feature is a value in [0, 1], split at midpoints between distinct values;
//   - a categorical feature with k values is coded 0 .. k-1 and split on subsets of its
//     values: the values seen in the node are sorted by their mean response and the best
//     prefix is taken (for squared error this finds the best of all subsets; Breiman et
//     al. 1984). Values not seen in the node go with the larger side.
//   - NaN marks an inactive (conditional) feature: a feature is split on only in a node
//     where no point has it NaN, so the tree first separates points by what the feature
//     depends on.
// Every leaf is a region of the cube: an interval [lo, hi] on each numeric feature and a
// set of values on each categorical one (value c is the cell [c / k, (c + 1) / k]), so the
// leaves of a tree partition the cube into boxes (unions of boxes for categorical sets).
//
// Deterministic: the same inputs, options and seed give the same forest.
#pragma once

#include <cstdint>
#include <vector>

namespace caviar::analysis {

struct Feature {
  int categories = 0;  // 0: numeric in [0, 1]; k >= 2: categorical, coded 0 .. k-1
};

struct ForestOptions {
  int trees = 64;
  std::uint64_t seed = 0;
  int min_samples_leaf = 1;   // fewest bootstrap points in a leaf
  int max_depth = 64;
  // Features searched at each split: ceil(max_features * d), at least 1 (so with d <= 3
  // every feature is searched).
  double max_features = 0.7;
  bool bootstrap = true;      // false: every tree sees every point once
};

// A leaf's region and value. lo/hi are meaningful for numeric features, `values` (size k,
// 1 = in the region) for categorical ones (empty for numeric).
struct Leaf {
  std::vector<double> lo, hi;
  std::vector<std::vector<char>> values;
  double value = 0;
};

class RegressionTree {
 public:
  double predict(const std::vector<double>& x) const;
  const std::vector<Leaf>& leaves() const { return leaves_; }

 private:
  friend class TreeBuilder;
  struct Node {
    int feature = -1;              // -1: leaf
    double threshold = 0;          // numeric: x < threshold goes left
    std::vector<char> left_values; // categorical: values that go left
    int left = -1, right = -1;
    int leaf = -1;                 // index into leaves_
  };
  std::vector<Node> nodes_;
  std::vector<Leaf> leaves_;
};

class RandomForest {
 public:
  // x: one row of features per point (x[i].size() == features.size()); y: the responses.
  // Throws std::invalid_argument on mismatched sizes, an empty set or bad options.
  RandomForest(const std::vector<Feature>& features, const std::vector<std::vector<double>>& x,
               const std::vector<double>& y, const ForestOptions& options = {});

  double predict(const std::vector<double>& x) const;  // mean of the trees
  const std::vector<RegressionTree>& trees() const { return trees_; }
  const std::vector<Feature>& features() const { return features_; }

 private:
  std::vector<Feature> features_;
  std::vector<RegressionTree> trees_;
};

}  // namespace caviar::analysis
