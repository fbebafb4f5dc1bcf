// Small text helpers shared by the library: numbers in their shortest round-trip form.
#pragma once

#include <string>

namespace caviar::detail {

// Shortest text that reads back as the same double ("0.001", "1e-05", "3").
std::string shortest(double value);

// Edit distance, for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b);

// The candidate closest to `word`, or "" if none is close enough to suggest.
template <class Range>
std::string closest(const std::string& word, const Range& candidates) {
  std::string best;
  std::size_t best_distance = word.size() / 2 + 2;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, std::string(c));
    if (d < best_distance) best_distance = d, best = c;
  }
  return best;
}

}  // namespace caviar::detail
