// Test support for sampler tests: hand-made trial histories and the median of a sample.
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "caviar/trial.h"

namespace caviar::testing {

// A complete trial with these params and value.
inline TrialRecord complete(int number, Params params, double value) {
  TrialRecord t;
  t.number = number;
  t.state = TrialState::Complete;
  t.params = std::move(params);
  t.value = value;
  return t;
}

// The median (the mean of the two middle values for an even count).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace caviar::testing
