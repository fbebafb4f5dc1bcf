// Pruners: judge a running trial's intermediate reports against the rest of the study and
// say whether to stop it early. They never see the objective's code, only the history.
//
// A pruner is a function of (the trial, the study's history): two workers on two machines
// reach the same verdict from the same stored reports. should_prune() may be called from
// several threads at once.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "caviar/trial.h"

namespace caviar {

struct PrunerOptions {
  std::string name = "none";     // none | median | percentile | asha | hyperband
  // median / percentile
  int warmup_steps = 0;          // never prune at a step below this
  int min_trials = 5;            // prune only once this many other trials reported at the step
  double percentile = 50;        // percentile: keep trials better than this percentile
  // asha / hyperband (resources are steps: epochs by default)
  double min_resource = 1;       // r: the first rung
  double max_resource = 81;      // R: a trial that reaches it is never pruned
  double reduction_factor = 3;   // η: keep the best 1/η at each rung
  int min_early_stopping_rate = 0;  // s: the first rung is at r·η^s
};

class Pruner {
 public:
  virtual ~Pruner() = default;
  virtual std::string name() const = 0;
  // Whether `trial` (running, its latest report being the largest step in its
  // `intermediate` map) should stop now. `history` holds every trial of the study, the
  // trial itself included, in any state.
  virtual bool should_prune(const TrialRecord& trial, const std::vector<TrialRecord>& history,
                            Direction direction) const = 0;
};

// Builds a pruner by name; throws ConfigError naming the option at fault.
std::unique_ptr<Pruner> make_pruner(const PrunerOptions& options);

// The options from the config's `pruner:` mapping ({name: asha, reduction_factor: 3}),
// checked: a key the named pruner does not use is an error, as is a bad value. Throws
// ConfigError naming the key (`pruner.min_trials`).
PrunerOptions pruner_options_from_json(const json& pruner);

}  // namespace caviar
