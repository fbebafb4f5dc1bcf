// Functional ANOVA of a random forest, computed exactly over each tree's partition
// (Hutter, Hoos & Leyton-Brown, ICML 2014); the engine behind caviar::importance
// (include/caviar/importance.h).
//
// The cube carries the uniform measure: a numeric feature is uniform on [0, 1], a
// categorical one gives each of its k values weight 1/k. For one tree f with mean f0 and
// variance V over the cube, the marginal of feature j is a_j(x_j) = E[f | x_j]; its
// main-effect variance is V_j = Var(a_j). For a pair, a_jk(x_j, x_k) = E[f | x_j, x_k]
// and the pair's own variance is V_jk = Var(a_jk - a_j - a_k). The per-tree fractions
// V_j / V and V_jk / V are averaged over the trees (trees that are constant are skipped).
#pragma once

#include <vector>

#include "analysis/random_forest.h"

namespace caviar::analysis {

struct AnovaShares {
  std::vector<double> main;               // main[j]: feature j's share, 0..1
  std::vector<std::vector<double>> pair;  // pair[j][k] (j < k): the pair's share; empty if not asked
  int trees_used = 0;                     // trees with a nonzero variance
};

// The decomposition of one tree (fractions of that tree's variance; all 0 if constant).
AnovaShares tree_anova(const RegressionTree& tree, const std::vector<Feature>& features,
                       bool pairs);

// The forest's: per-tree fractions averaged over the trees.
AnovaShares forest_anova(const RandomForest& forest, bool pairs);

}  // namespace caviar::analysis
