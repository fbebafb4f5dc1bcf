// The Hyperband pruner: Hyperband's brackets (Li et al., "Hyperband: A Novel Bandit-Based
// Approach to Hyperparameter Optimization", JMLR 2018), each run as an asynchronous
// successive halving (ASHA, Li et al., MLSys 2020), as Optuna's HyperbandPruner does.
//
// The rule, exactly (r = min_resource, R = max_resource, η = reduction_factor):
//   Brackets. s_max = ⌊log_η(R/r)⌋; bracket s = s_max..0 makes s halvings. It is ASHA
//     (asha_pruner.cpp) with min_early_stopping_rate e = s_max - s: judged at
//     r·η^e, r·η^(e+1), ..., below its top rung. Bracket s_max prunes the most (judged from
//     step r on), bracket 0 never prunes (plain random search to R).
//   Assignment. A trial's bracket is a function of its number alone (hyperband_bracket_of:
//     splitmix64 of the number into Σ n_s slots), so every worker agrees. Bracket s gets the
//     share n_s / Σ n_s, n_s = ⌈(s_max+1)·η^s/(s+1)⌉ being the configurations it starts in one
//     round of synchronous Hyperband (the n of Algorithm 1, with B = (s_max+1)·R). Each
//     bracket spends about B in a round, so trials go to brackets in the proportion
//     Hyperband itself runs them. For R = 81, r = 1, η = 3 (B = 405):
//       s=4: n=81 (81/143 = 56.6%)   s=3: n=34 (23.8%)   s=2: n=15 (10.5%)
//       s=1: n=8  (5.6%)             s=0: n=5  (3.5%)
//   Comparison. A trial is compared only with trials of its own bracket.
//   min_early_stopping_rate is not used: the brackets set their own.
// When R/r is not a power of η, the brackets' rungs are ASHA's (r·η^k, counted up from r),
// not Algorithm 1's (R·η^(-k), counted down from R).
#include <cstdint>

#include "algorithms/pruners/hyperband_schedule.h"
#include "algorithms/pruners/pruners.h"

namespace caviar::pruners {
namespace {

class HyperbandPruner final : public Pruner {
 public:
  HyperbandPruner(double min_resource, double max_resource, double reduction_factor)
      : schedule_(hyperband_schedule(min_resource, max_resource, reduction_factor)),
        max_resource_(max_resource), reduction_factor_(reduction_factor) {
    const int s_max = schedule_.front().s;
    judged_steps_.resize(s_max + 1);
    for (int s = 0; s <= s_max; ++s) {
      judged_steps_[s] = asha_judged_steps(min_resource, max_resource, reduction_factor,
                                           s_max - s);
    }
  }

  std::string name() const override { return "hyperband"; }

  bool should_prune(const TrialRecord& trial, const std::vector<TrialRecord>& history,
                    Direction direction) const override {
    const int bracket = hyperband_bracket_of(trial.number, schedule_);
    return asha_should_prune(judged_steps_[bracket], max_resource_, reduction_factor_, trial,
                             history, direction, [&](const TrialRecord& other) {
                               return hyperband_bracket_of(other.number, schedule_) == bracket;
                             });
  }

 private:
  std::vector<HyperbandBracket> schedule_;
  std::vector<std::vector<std::int64_t>> judged_steps_;  // by bracket s
  double max_resource_;
  double reduction_factor_;
};

}  // namespace

std::unique_ptr<Pruner> make_hyperband_pruner(double min_resource, double max_resource,
                                              double reduction_factor) {
  return std::make_unique<HyperbandPruner>(min_resource, max_resource, reduction_factor);
}

}  // namespace caviar::pruners
