// The median pruner (the "median stopping rule" of Golovin et al., "Google Vizier: A Service
// for Black-Box Optimization", KDD 2017; Optuna's MedianPruner): stop a trial whose latest
// report is worse than the median of the other trials' reports at the same step.
// It is the percentile pruner at p = 50; the exact rule is in percentile_pruner.cpp.
#include "algorithms/pruners/pruners.h"

namespace caviar::pruners {

std::unique_ptr<Pruner> make_median_pruner(int warmup_steps, int min_trials) {
  return make_percentile_pruner("median", 50.0, warmup_steps, min_trials);
}

}  // namespace caviar::pruners
