// Samplers: functions of history that propose the next point.
//
// A sampler answers one question: given the space, the study's history (finished and
// running trials) and the trial's number, which point of the unit cube comes next?
// It works in the scale-transformed cube (see space.h), so scales come for free. State
// that a sampler needs (a grid position, a Sobol index) is derived from the history and
// the trial number, so workers on several machines sample consistently.
//
// suggest() may be called from several threads at once on one sampler.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caviar/space.h"
#include "caviar/trial.h"

namespace caviar {

struct SampleContext {
  const SearchSpace& space;
  const std::vector<TrialRecord>& history;  // every trial of the study, all states
  int trial_number;                         // the number the new trial will get
  Direction direction;
  const Params& fixed;                      // values that must be kept (enqueued trials)
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;
  // The next trial's params (internal values), or nullopt when the sampler has nothing
  // left (an exhausted grid).
  virtual std::optional<Params> suggest(const SampleContext& context) = 0;
  // Whether suggest() reads the history; false lets the storage skip loading it.
  virtual bool needs_history() const { return true; }
};

struct SamplerOptions {
  std::string name = "random";  // random | grid | sobol
  std::uint64_t seed = 0;
  // The sampler's own keys from the config's `sampler:` mapping (all but name and seed),
  // e.g. {"points": 5} for grid. Each sampler checks its keys; see docs/samplers.md.
  json settings = json::object();
};

// Builds a sampler by name; throws ConfigError for an unknown name or a bad setting,
// naming the key (`sampler.points`).
std::unique_ptr<Sampler> make_sampler(const SamplerOptions& options);

// Independent uniform points in the cube. Trial n of seed s always gets the same point.
std::unique_ptr<Sampler> make_random_sampler(std::uint64_t seed);
// Scrambled Sobol points in the cube; trial n gets point n of the seed's sequence.
std::unique_ptr<Sampler> make_sobol_sampler(std::uint64_t seed);
// Every combination: `points` values per float (spaced on its scale), every value of ints
// (at most `points` if there are more) and choices. Returns the lowest-index grid point no
// trial has taken yet; nullopt when all are taken.
std::unique_ptr<Sampler> make_grid_sampler(int points);

}  // namespace caviar
