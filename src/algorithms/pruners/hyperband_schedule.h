// Internal: Hyperband's synchronous schedule (Li et al., "Hyperband: A Novel Bandit-Based
// Approach to Hyperparameter Optimization", JMLR 2018, Algorithm 1) and the deterministic
// assignment of trial numbers to its brackets.
#pragma once

#include <cstdint>
#include <vector>

namespace caviar::pruners {

struct HyperbandRung {
  std::int64_t n = 0;     // n_i: configurations run at this rung
  double resource = 0;    // r_i: resource each of them gets
};

struct HyperbandBracket {
  int s = 0;                         // halvings in this bracket (s_max .. 0)
  std::vector<HyperbandRung> rungs;  // i = 0..s
};

// The table of Algorithm 1 with R = max_resource measured from r = min_resource:
// s_max = ⌊log_η(R/r)⌋, B = (s_max+1)·R; for s = s_max down to 0:
//   n = ⌈(B/R)·η^s/(s+1)⌉, r_s = R·η^(-s), and rungs (n_i, r_i) = (⌊n·η^(-i)⌋, r_s·η^i),
//   i = 0..s.
// For R=81, r=1, η=3: s=4: 81@1 27@3 9@9 3@27 1@81; s=3: 34@3 11@9 3@27 1@81;
// s=2: 15@9 5@27 1@81; s=1: 8@27 2@81; s=0: 5@81.
std::vector<HyperbandBracket> hyperband_schedule(double min_resource, double max_resource,
                                                 double reduction_factor);

// The bracket (its s) of a trial number: h = splitmix64(number) mod Σ n_s, then the bracket
// whose cumulative share of Σ n_s holds h, brackets taken in the schedule's order. So a
// bracket gets trials in proportion to its n (the configurations it runs in one round of
// synchronous Hyperband), and every worker computes the same bracket for a trial.
int hyperband_bracket_of(int trial_number, const std::vector<HyperbandBracket>& schedule);

}  // namespace caviar::pruners
