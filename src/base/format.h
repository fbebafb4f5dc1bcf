// Small text helpers shared by the library: numbers in their shortest round-trip form,
// did-you-mean suggestions, and the time stamps Optuna writes.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace caviar::detail {

// Shortest text that reads back as the same double ("0.001", "1e-05", "3").
std::string shortest(double value);

// Edit distance counting a swap of neighbours as one step, for "did you mean" suggestions.
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

// Local time as Optuna writes datetime_start and datetime_complete
// ("2026-11-27 09:40:47.427105"), and back. With utc = true: UTC, as Optuna's heartbeats
// are (SQLite's CURRENT_TIMESTAMP), so that processes in other time zones agree.
std::string format_time(std::chrono::system_clock::time_point t, bool utc = false);
std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& text, bool utc = false);

}  // namespace caviar::detail
