// The percentile pruner: stop a trial whose latest report is worse than the p-th percentile
// of the other trials' reports at the same step. The rule of Optuna's PercentilePruner
// (after the median stopping rule of Golovin et al., "Google Vizier", KDD 2017), with the
// differences noted below.
//
// The rule, exactly. Let s be the trial's latest step and v its report at s.
//   1. No report, or s < warmup_steps: continue.
//   2. v is NaN: prune (a NaN is the worst report; no comparison needed).
//   3. The others: every other trial of the history (another number), in any state
//      (running, complete, pruned, failed), that has a report at exactly step s.
//      Fewer than min_trials of them, or none at all: continue.
//   4. Turn each report into a loss (the value when minimizing, its negation when
//      maximizing; NaN = +inf, the worst) and take q = linear_percentile(others' losses, p).
//      Prune iff loss(v) > q. So minimize prunes iff v > percentile_p(values) and maximize
//      iff v < percentile_(100-p)(values) (with NaN counted as -inf); a tie continues.
// Unlike Optuna: v is the report at s, not the trial's best so far; the others are not only
// complete trials; NaN reports of others count as the worst instead of being dropped; there
// is no n_startup_trials or interval_steps (min_trials plays the part of the former).
#include <algorithm>
#include <cmath>

#include "algorithms/pruners/pruners.h"

namespace caviar::pruners {

double as_loss(double value, Direction direction) {
  if (std::isnan(value)) return INFINITY;
  return direction == Direction::Maximize ? -value : value;
}

double linear_percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const double h = static_cast<double>(values.size() - 1) * p / 100.0;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const double frac = h - static_cast<double>(lo);
  if (lo + 1 >= values.size() || frac == 0 || values[lo] == values[lo + 1]) return values[lo];
  return values[lo] + frac * (values[lo + 1] - values[lo]);
}

namespace {

class PercentilePruner final : public Pruner {
 public:
  PercentilePruner(std::string name, double percentile, int warmup_steps, int min_trials)
      : name_(std::move(name)), percentile_(percentile), warmup_steps_(warmup_steps),
        min_trials_(min_trials) {}

  std::string name() const override { return name_; }

  bool should_prune(const TrialRecord& trial, const std::vector<TrialRecord>& history,
                    Direction direction) const override {
    if (trial.intermediate.empty()) return false;
    const auto [step, value] = *trial.intermediate.rbegin();
    if (step < warmup_steps_) return false;
    if (std::isnan(value)) return true;
    std::vector<double> others;
    for (const TrialRecord& other : history) {
      if (other.number == trial.number) continue;
      auto it = other.intermediate.find(step);
      if (it != other.intermediate.end()) others.push_back(as_loss(it->second, direction));
    }
    if (others.empty() || static_cast<int>(others.size()) < min_trials_) return false;
    return as_loss(value, direction) > linear_percentile(std::move(others), percentile_);
  }

 private:
  std::string name_;
  double percentile_;
  int warmup_steps_;
  int min_trials_;
};

}  // namespace

std::unique_ptr<Pruner> make_percentile_pruner(std::string name, double percentile,
                                               int warmup_steps, int min_trials) {
  return std::make_unique<PercentilePruner>(std::move(name), percentile, warmup_steps,
                                            min_trials);
}

}  // namespace caviar::pruners
