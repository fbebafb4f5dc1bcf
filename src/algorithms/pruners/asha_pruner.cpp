// ASHA, the asynchronous successive halving pruner (Li et al., "A System for Massively
// Parallel Hyperparameter Tuning", MLSys 2020), in its stopping form (as in Optuna's
// SuccessiveHalvingPruner and Syne Tune): a trial is judged when it reaches a rung and keeps
// running only if it is in the top 1/η of the values recorded at that rung so far.
// Decisions are made as reports arrive; nobody waits for a rung to fill.
//
// The rule, exactly (r = min_resource, R = max_resource, η = reduction_factor,
// s = min_early_stopping_rate; resources are steps):
//   Rungs. ρ_k = r·η^(s+k) for k = 0..K, K = ⌊log_η(R/r)⌋ - s. The trial is judged at
//     ρ_0..ρ_(K-1); the top rung ρ_K <= R is where the survivors run to R unjudged. A rung
//     is met at step ⌈ρ_k⌉ (steps are integers).
//   A trial's value at a rung is its report at its first step >= ⌈ρ⌉ (the report with which
//     it reached the rung). With reports at every step this is the report at ρ itself.
//   When. Let t be the trial's latest step and t' the step before it (-∞ if t is its first).
//     The trial is judged at each judged rung with t' < ⌈ρ⌉ <= t, in ascending order: with
//     reports every epoch (1, 2, 3, ...) only at the rung steps themselves; a trial that
//     reports every other epoch is judged at rung 3 on reaching step 4. At any other step,
//     and at every step >= R, it is never pruned.
//   Judgement at rung ρ. The rung holds the trial and every other trial of the history
//     (another number, any state: running, complete, pruned, failed; for Hyperband only
//     those of the trial's bracket) that has a report at a step >= ⌈ρ⌉, each with its
//     value at ρ; n is their count. Values are compared as losses (negated when maximizing,
//     NaN = the worst); ties go to the trial with the smaller number. The trial continues iff
//     its rank (1 = best) <= max(1, ⌊n/η⌋): the first trial at a rung always continues,
//     and at no moment can more than max(1, ⌊n/η⌋) of the rung's trials be in that top.
//     A NaN value at a judged rung is pruned outright.
// Unlike Optuna: nothing is written back (a trial's rung value is read from its reports, so
// the rule is a pure function of the history); ties are broken by trial number instead of
// letting every tied trial through; there is a maximum resource; no bootstrap_count.
#include <algorithm>
#include <climits>
#include <cmath>

#include "algorithms/pruners/pruners.h"

namespace caviar::pruners {

int max_halvings(double min_resource, double max_resource, double reduction_factor) {
  int k = 0;
  double resource = min_resource;
  while (k < 200 && resource * reduction_factor <= max_resource * (1 + 1e-9)) {
    resource *= reduction_factor;
    ++k;
  }
  return k;
}

std::vector<std::int64_t> asha_judged_steps(double min_resource, double max_resource,
                                            double reduction_factor,
                                            int min_early_stopping_rate) {
  const int top = max_halvings(min_resource, max_resource, reduction_factor) -
                  min_early_stopping_rate;  // K
  std::vector<std::int64_t> steps;
  double rung = min_resource * std::pow(reduction_factor, min_early_stopping_rate);
  for (int k = 0; k < top; ++k, rung *= reduction_factor) {
    const auto step = static_cast<std::int64_t>(std::ceil(rung * (1 - 1e-9)));
    if (steps.empty() || steps.back() != step) steps.push_back(step);
  }
  return steps;
}

bool asha_should_prune(const std::vector<std::int64_t>& judged_steps, double max_resource,
                       double reduction_factor, const TrialRecord& trial,
                       const std::vector<TrialRecord>& history, Direction direction,
                       const std::function<bool(const TrialRecord&)>& peers) {
  if (trial.intermediate.empty()) return false;
  const auto latest = std::prev(trial.intermediate.end());
  const auto [step, value] = *latest;
  if (static_cast<double>(step) >= max_resource) return false;
  const std::int64_t previous =
      latest == trial.intermediate.begin() ? INT64_MIN : std::prev(latest)->first;
  const double loss = as_loss(value, direction);
  for (std::int64_t rung : judged_steps) {
    if (rung <= previous || rung > step) continue;
    if (std::isnan(value)) return true;
    std::int64_t n = 1, better = 0;
    for (const TrialRecord& other : history) {
      if (other.number == trial.number || !peers(other)) continue;
      auto it = other.intermediate.lower_bound(rung);
      if (it == other.intermediate.end()) continue;
      ++n;
      const double other_loss = as_loss(it->second, direction);
      if (other_loss < loss || (other_loss == loss && other.number < trial.number)) ++better;
    }
    const auto keep = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::floor(static_cast<double>(n) / reduction_factor + 1e-9)));
    if (better + 1 > keep) return true;
  }
  return false;
}

namespace {

class AshaPruner final : public Pruner {
 public:
  AshaPruner(double min_resource, double max_resource, double reduction_factor,
             int min_early_stopping_rate)
      : judged_steps_(asha_judged_steps(min_resource, max_resource, reduction_factor,
                                        min_early_stopping_rate)),
        max_resource_(max_resource), reduction_factor_(reduction_factor) {}

  std::string name() const override { return "asha"; }

  bool should_prune(const TrialRecord& trial, const std::vector<TrialRecord>& history,
                    Direction direction) const override {
    return asha_should_prune(judged_steps_, max_resource_, reduction_factor_, trial, history,
                             direction, [](const TrialRecord&) { return true; });
  }

 private:
  std::vector<std::int64_t> judged_steps_;
  double max_resource_;
  double reduction_factor_;
};

}  // namespace

std::unique_ptr<Pruner> make_asha_pruner(double min_resource, double max_resource,
                                         double reduction_factor, int min_early_stopping_rate) {
  return std::make_unique<AshaPruner>(min_resource, max_resource, reduction_factor,
                                      min_early_stopping_rate);
}

}  // namespace caviar::pruners
