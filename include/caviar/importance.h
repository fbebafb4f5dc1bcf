// Hyperparameter importance: which parameters (and pairs) explain the objective's variance.
//
// fANOVA, after F. Hutter, H. Hoos and K. Leyton-Brown, "An Efficient Approach for
// Assessing Hyperparameter Importance", ICML 2014. A random forest (L. Breiman, "Random
// Forests", Machine Learning 45, 2001) is fitted to the complete trials, with every
// parameter in the scale-transformed unit cube (Parameter::to_unit: a log parameter is
// measured on its log scale, a choice by its values). Each tree is a piecewise constant
// function over a partition of the cube, so its functional ANOVA decomposition is computed
// exactly: the marginal of a parameter (or pair) is the tree's average over all the other
// parameters, uniformly over the cube; its variance, less that of lower-order terms, is the
// parameter's (or pair's) own share of the tree's total variance. Shares are averaged over
// the trees. Main-effect and pair shares add up to at most 1; the rest is explained by
// interactions of three or more parameters.
//
// Choices are split on subsets of their values (best subset by sorting the values by mean,
// as in Breiman's CART), so their order does not matter. A conditional parameter (`when:`)
// is split on only in a node where every trial has it active: a tree first separates the
// trials by the parameter it depends on, so a conditional parameter's effect is measured in
// its own branch and then averaged over the whole space, like any other.
//
// The shares describe the variance of the objective over the *whole* space as the forest
// sees it from the trials given; they say how much tuning a parameter matters across the
// space, not near the best point. Minimize or maximize does not change a variance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caviar/space.h"
#include "caviar/trial.h"

namespace caviar {

struct ImportanceOptions {
  int trees = 64;           // trees in the forest
  std::uint64_t seed = 0;   // bootstrap samples and feature subsets; same seed, same output
  int min_samples_leaf = 3; // fewest (bootstrap) trials in a leaf: 3 averages out some noise
  int max_depth = 64;       // deepest split
  bool pairs = true;        // also measure every pair's interaction (d (d - 1) / 2 pairs)
};

struct ParamImportance {
  std::string name;
  double share;  // fraction of the objective's total variance its main effect explains, 0..1
};

struct PairImportance {
  std::string first, second;  // in the space's order
  double share;               // the pair's own interaction (without either main effect), 0..1
};

struct Importance {
  std::vector<ParamImportance> params;  // every parameter, largest share first
  std::vector<PairImportance> pairs;    // every pair (if options.pairs), largest share first
  int trials_used = 0;                  // complete trials with a value that were fitted
  // {"trials_used": n, "params": [{"name", "share"}...], "pairs": [{"first", "second",
  //  "share"}...]}
  json to_json() const;
};

// Ranks the parameters of `space` by importance over `trials` (only complete trials with a
// finite value count; params outside the space are ignored). Throws UsageError if fewer
// than 2 such trials are given, and ConfigError for bad options (trees < 1, ...).
Importance importance(const SearchSpace& space, const std::vector<TrialRecord>& trials,
                      Direction direction, const ImportanceOptions& options = {});

}  // namespace caviar
