// Hyperband's synchronous table (Li et al., JMLR 2018, Algorithm 1) and the assignment of
// trials to its brackets; see hyperband_schedule.h.
#include "algorithms/pruners/hyperband_schedule.h"

#include <cmath>

#include "algorithms/pruners/pruners.h"

namespace caviar::pruners {

std::vector<HyperbandBracket> hyperband_schedule(double min_resource, double max_resource,
                                                 double reduction_factor) {
  const int s_max = max_halvings(min_resource, max_resource, reduction_factor);
  const double eta = reduction_factor;
  std::vector<HyperbandBracket> schedule;
  for (int s = s_max; s >= 0; --s) {
    // B/R = s_max + 1. The 1e-9 guards exact quotients (15.000000001) from rounding error.
    const double n = std::ceil((s_max + 1) * std::pow(eta, s) / (s + 1) - 1e-9);
    const double r = max_resource * std::pow(eta, -s);
    HyperbandBracket bracket;
    bracket.s = s;
    for (int i = 0; i <= s; ++i) {
      bracket.rungs.push_back({static_cast<std::int64_t>(std::floor(n * std::pow(eta, -i) + 1e-9)),
                               r * std::pow(eta, i)});
    }
    schedule.push_back(std::move(bracket));
  }
  return schedule;
}

int hyperband_bracket_of(int trial_number, const std::vector<HyperbandBracket>& schedule) {
  // splitmix64 (Steele, Lea & Flood, OOPSLA 2014): consecutive numbers spread evenly.
  std::uint64_t z = static_cast<std::uint64_t>(static_cast<std::int64_t>(trial_number)) +
                    0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  std::uint64_t total = 0;
  for (const HyperbandBracket& b : schedule) total += static_cast<std::uint64_t>(b.rungs[0].n);
  std::uint64_t h = z % total;
  for (const HyperbandBracket& b : schedule) {
    const auto n = static_cast<std::uint64_t>(b.rungs[0].n);
    if (h < n) return b.s;
    h -= n;
  }
  return schedule.back().s;  // unreachable
}

}  // namespace caviar::pruners
