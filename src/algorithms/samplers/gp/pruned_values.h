// What a pruned trial's value stands for in a model that also holds complete trials.
//
// A pruned trial's last report was made at an early step (epoch 1, say), where every trial
// scores lower than at its end; taken as it is, it sits beside complete trials' final values
// as if it were one of them. Aligned, it is raised by the median gain that complete trials
// made from that step to their final value: each complete trial's gain is its value minus
// its report at the largest step at or before the pruned trial's last step. This is the
// same-budget comparison of BOHB (Falkner, Klein & Hutter, ICML 2018), done by shifting the
// early value to the final budget rather than fitting one model per budget: every trial
// keeps its place in the model, and the model is never fitted on a handful of points.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "caviar/trial.h"

namespace caviar::detail {

class PrunedValues {
 public:
  // Complete trials whose gains may be used; fewer than this at a step: no shift there.
  static constexpr std::size_t kMinPeers = 3;

  // The median gains at every step where a pruned trial of `history` stopped; aligned =
  // false: none, every pruned trial stands for its last report.
  PrunedValues(const std::vector<TrialRecord>& history, bool aligned);

  // The value of a pruned trial of that history (its last report, shifted when aligned);
  // nullopt when it has no report.
  std::optional<double> operator()(const TrialRecord& trial) const;

 private:
  std::map<std::int64_t, double> median_gain_;  // last step -> shift (0: too few peers)
};

}  // namespace caviar::detail
