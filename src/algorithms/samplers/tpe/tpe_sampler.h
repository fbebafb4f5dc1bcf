// How the TPE sampler reads the history: which trials it uses and how it ranks them.
// Exposed for tests; the sampler itself is make_tpe_sampler (caviar/sampler.h).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "caviar/sampler.h"
#include "caviar/trial.h"

namespace caviar::detail {

// One trial as the model sees it. Rank, best first: tier, then step, then value.
struct TpeObservation {
  int tier = 0;        // 0 complete, 1 pruned with reports, 2 pruned without, 3 running
  double step = 0;     // tier 1: minus the last reported step (later steps rank first)
  double value = 0;    // the value to minimise: the (last reported) value, negated when
                       // maximising; NaN counts as +infinity
};

// The observation of a trial, or nullopt if the model ignores it (failed, waiting, a
// complete trial without a value, a running one when constant_liar is off).
std::optional<TpeObservation> tpe_observation(const TrialRecord& trial, Direction direction,
                                              bool constant_liar);
inline bool tpe_ranks_before(const TpeObservation& a, const TpeObservation& b) {
  if (a.tier != b.tier) return a.tier < b.tier;
  if (a.step != b.step) return a.step < b.step;
  return a.value < b.value;
}
// The size of the good group among n finished trials: ceil(gamma n), at least 1, at most
// good_max.
std::size_t tpe_good_count(std::size_t finished, double gamma, int good_max);

// The split the sampler makes when every trial has every parameter: trial numbers, best
// first. Running trials (constant liar) are always bad.
struct TpeSplit {
  std::vector<int> good, bad;
};
TpeSplit tpe_split(const std::vector<TrialRecord>& history, Direction direction,
                   const TpeOptions& options);

}  // namespace caviar::detail
