#include "samplers/pruned_values.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace caviar::detail {

PrunedValues::PrunedValues(const std::vector<TrialRecord>& history, bool aligned) {
  if (!aligned) return;
  for (const auto& t : history)
    if (t.state == TrialState::Complete && t.value && std::isfinite(*t.value) &&
        !t.intermediate.empty())
      complete_.push_back(&t);
}

std::optional<double> PrunedValues::operator()(const TrialRecord& trial) const {
  if (trial.intermediate.empty()) return std::nullopt;
  const auto [step, value] = *trial.intermediate.rbegin();
  std::vector<double> gains;
  for (const TrialRecord* peer : complete_) {
    if (peer == &trial) continue;
    auto after = peer->intermediate.upper_bound(step);
    if (after == peer->intermediate.begin()) continue;  // no report at or before `step`
    double gain = *peer->value - std::prev(after)->second;
    if (std::isfinite(gain)) gains.push_back(gain);
  }
  if (gains.size() < kMinPeers) return value;
  std::sort(gains.begin(), gains.end());
  const std::size_t n = gains.size();
  const double median = n % 2 ? gains[n / 2] : 0.5 * (gains[n / 2 - 1] + gains[n / 2]);
  return value + median;
}

}  // namespace caviar::detail
