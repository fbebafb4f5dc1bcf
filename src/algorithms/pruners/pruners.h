// Internal: the pruners' constructors and the pieces they share. Users go through
// make_pruner() (include/caviar/pruner.h); tests may include this header directly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "caviar/pruner.h"

namespace caviar::pruners {

// A report as a loss: lower is better whatever the direction; NaN becomes +inf (the worst).
double as_loss(double value, Direction direction);

// Percentile of `values` (0 <= p <= 100) by linear interpolation between closest ranks
// (numpy's default): sorted x[0..n-1], h = (n-1)·p/100, x[⌊h⌋] + (h-⌊h⌋)·(x[⌊h⌋+1]-x[⌊h⌋]).
// Infinities are allowed (a zero weight never multiplies one). `values` must be non-empty.
double linear_percentile(std::vector<double> values, double p);

std::unique_ptr<Pruner> make_none_pruner();
// `name` is what name() returns ("median" or "percentile").
std::unique_ptr<Pruner> make_percentile_pruner(std::string name, double percentile,
                                               int warmup_steps, int min_trials);
// The median pruner is the percentile pruner at 50.
std::unique_ptr<Pruner> make_median_pruner(int warmup_steps, int min_trials);
std::unique_ptr<Pruner> make_asha_pruner(double min_resource, double max_resource,
                                         double reduction_factor, int min_early_stopping_rate);
std::unique_ptr<Pruner> make_hyperband_pruner(double min_resource, double max_resource,
                                              double reduction_factor);

// ⌊log_η(R/r)⌋ computed without logarithms (so 81/1 with η=3 gives exactly 4): the largest
// k with r·η^k <= R (with a relative tolerance of 1e-9). Requires η > 1, 0 < r <= R.
int max_halvings(double min_resource, double max_resource, double reduction_factor);

// ASHA's judgement (stopping variant), shared by the asha and hyperband pruners.
// The steps at which a trial is judged: ⌈r·η^(s+k)⌉ for k = 0..K-1, K = ⌊log_η(R/r)⌋ - s,
// ascending and without duplicates. The top rung r·η^(s+K) <= R is not judged.
std::vector<std::int64_t> asha_judged_steps(double min_resource, double max_resource,
                                            double reduction_factor, int min_early_stopping_rate);

// Whether ASHA stops `trial` now; `peers` says which trials of `history` share its rungs
// (all of them for plain ASHA, the trial's bracket for Hyperband). See asha_pruner.cpp.
bool asha_should_prune(const std::vector<std::int64_t>& judged_steps, double max_resource,
                       double reduction_factor, const TrialRecord& trial,
                       const std::vector<TrialRecord>& history, Direction direction,
                       const std::function<bool(const TrialRecord&)>& peers);

}  // namespace caviar::pruners
