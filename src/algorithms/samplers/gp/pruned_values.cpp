#include "algorithms/samplers/gp/pruned_values.h"

#include <cmath>
#include <iterator>

#include "algorithms/pruners/pruners.h"

namespace caviar::detail {

PrunedValues::PrunedValues(const std::vector<TrialRecord>& history, bool aligned) {
  if (!aligned) return;
  std::vector<const TrialRecord*> complete;
  for (const auto& t : history)
    if (t.state == TrialState::Complete && t.value && std::isfinite(*t.value) &&
        !t.intermediate.empty())
      complete.push_back(&t);
  // One median per step at which trials were pruned (a few rungs), not one per trial.
  for (const auto& t : history) {
    if (t.state != TrialState::Pruned || t.intermediate.empty()) continue;
    const std::int64_t step = t.intermediate.rbegin()->first;
    if (median_gain_.count(step)) continue;
    std::vector<double> gains;
    for (const TrialRecord* peer : complete) {
      auto after = peer->intermediate.upper_bound(step);
      if (after == peer->intermediate.begin()) continue;  // no report at or before `step`
      double gain = *peer->value - std::prev(after)->second;
      if (std::isfinite(gain)) gains.push_back(gain);
    }
    median_gain_[step] = gains.size() < kMinPeers ? 0.0 : pruners::linear_percentile(gains, 50);
  }
}

std::optional<double> PrunedValues::operator()(const TrialRecord& trial) const {
  if (trial.intermediate.empty()) return std::nullopt;
  const auto [step, value] = *trial.intermediate.rbegin();
  auto it = median_gain_.find(step);
  return it == median_gain_.end() ? value : value + it->second;
}

}  // namespace caviar::detail
