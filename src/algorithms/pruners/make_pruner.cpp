// The pruner factory: checks the options and builds a pruner by name.
//
// Every option is checked whatever the pruner (so a typo in an unused option still shows):
// warmup_steps >= 0, min_trials >= 0, 0 <= percentile <= 100, 0 < min_resource <
// max_resource (both finite), reduction_factor > 1 (finite), min_early_stopping_rate >= 0.
// asha and hyperband also need a rung to judge at: max_resource >= min_resource·η, and for
// asha min_early_stopping_rate < ⌊log_η(max_resource/min_resource)⌋.
#include <fmt/core.h>

#include <cmath>
#include <limits>

#include "algorithms/pruners/pruners.h"
#include "algorithms/settings.h"
#include "caviar/error.h"

namespace caviar {
namespace {

void check_options(const PrunerOptions& o) {
  if (o.warmup_steps < 0)
    throw ConfigError("pruner.warmup_steps", fmt::format("must be >= 0 (got {})", o.warmup_steps));
  if (o.min_trials < 0)
    throw ConfigError("pruner.min_trials", fmt::format("must be >= 0 (got {})", o.min_trials));
  if (!(o.percentile >= 0 && o.percentile <= 100))
    throw ConfigError("pruner.percentile",
                      fmt::format("must be between 0 and 100 (got {})", o.percentile));
  if (!(o.min_resource > 0) || !std::isfinite(o.min_resource))
    throw ConfigError("pruner.min_resource",
                      fmt::format("must be a number > 0 (got {})", o.min_resource));
  if (!(o.max_resource > o.min_resource) || !std::isfinite(o.max_resource))
    throw ConfigError("pruner.max_resource",
                      fmt::format("must be a number greater than min_resource (got {}, "
                                  "min_resource {})", o.max_resource, o.min_resource));
  if (!(o.reduction_factor > 1) || !std::isfinite(o.reduction_factor))
    throw ConfigError("pruner.reduction_factor",
                      fmt::format("must be a number > 1 (got {})", o.reduction_factor));
  if (o.min_early_stopping_rate < 0)
    throw ConfigError("pruner.min_early_stopping_rate",
                      fmt::format("must be >= 0 (got {})", o.min_early_stopping_rate));
}

// asha and hyperband: at least one rung below max_resource to judge at.
void check_rungs(const PrunerOptions& o) {
  const int halvings = pruners::max_halvings(o.min_resource, o.max_resource, o.reduction_factor);
  if (halvings == 0)
    throw ConfigError("pruner.max_resource",
                      fmt::format("must be at least min_resource * reduction_factor = {} for "
                                  "{} to have a rung to judge at (got {})",
                                  o.min_resource * o.reduction_factor, o.name, o.max_resource));
  if (o.name == "asha" && o.min_early_stopping_rate >= halvings)
    throw ConfigError("pruner.min_early_stopping_rate",
                      fmt::format("must be below floor(log_eta(max_resource/min_resource)) = {} "
                                  "or asha never prunes (got {})",
                                  halvings, o.min_early_stopping_rate));
}

}  // namespace

std::unique_ptr<Pruner> make_pruner(const PrunerOptions& o) {
  const bool known = o.name == "none" || o.name == "median" || o.name == "percentile" ||
                     o.name == "asha" || o.name == "hyperband";
  if (!known)
    throw ConfigError("pruner.name", fmt::format("unknown pruner '{}'; available: none, median, "
                                                 "percentile, asha, hyperband", o.name));
  check_options(o);
  if (o.name == "none") return pruners::make_none_pruner();
  if (o.name == "median") return pruners::make_median_pruner(o.warmup_steps, o.min_trials);
  if (o.name == "percentile")
    return pruners::make_percentile_pruner("percentile", o.percentile, o.warmup_steps,
                                           o.min_trials);
  check_rungs(o);
  if (o.name == "asha")
    return pruners::make_asha_pruner(o.min_resource, o.max_resource, o.reduction_factor,
                                     o.min_early_stopping_rate);
  return pruners::make_hyperband_pruner(o.min_resource, o.max_resource, o.reduction_factor);
}

PrunerOptions pruner_options_from_json(const json& mapping) {
  if (!mapping.is_object()) throw ConfigError("pruner", "expected a mapping such as {name: median}");
  PrunerOptions p;
  if (mapping.contains("name")) {
    if (!mapping["name"].is_string()) throw ConfigError("pruner.name", "must be a name, got " + mapping["name"].dump());
    p.name = mapping["name"].get<std::string>();
  }
  json rest = mapping;
  rest.erase("name");
  detail::Settings settings(rest, "pruner", "the " + p.name + " pruner");
  // Each pruner reads only the keys it uses; make_pruner checks the values.
  constexpr double kAny = std::numeric_limits<double>::max();
  constexpr int kAnyInt = std::numeric_limits<int>::max();
  if (p.name == "median" || p.name == "percentile") {
    p.warmup_steps = settings.integer("warmup_steps", p.warmup_steps, -kAnyInt, kAnyInt);
    p.min_trials = settings.integer("min_trials", p.min_trials, -kAnyInt, kAnyInt);
    if (p.name == "percentile") p.percentile = settings.number("percentile", p.percentile, -kAny, kAny);
  } else if (p.name == "asha" || p.name == "hyperband") {
    p.min_resource = settings.number("min_resource", p.min_resource, -kAny, kAny);
    p.max_resource = settings.number("max_resource", p.max_resource, -kAny, kAny);
    p.reduction_factor = settings.number("reduction_factor", p.reduction_factor, -kAny, kAny);
    if (p.name == "asha")
      p.min_early_stopping_rate =
          settings.integer("min_early_stopping_rate", p.min_early_stopping_rate, -kAnyInt, kAnyInt);
  }
  make_pruner(p);  // the name and the values
  settings.finish();
  return p;
}

}  // namespace caviar
