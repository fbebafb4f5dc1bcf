// The sampler factory: a sampler by name, with its own settings checked.
#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/sampler.h"
#include "samplers/settings.h"

namespace caviar {

std::unique_ptr<Sampler> make_sampler(const SamplerOptions& o) {
  detail::SamplerSettings settings(o.settings, o.name);
  std::unique_ptr<Sampler> sampler;
  if (o.name == "random") {
    sampler = make_random_sampler(o.seed);
  } else if (o.name == "sobol") {
    sampler = make_sobol_sampler(o.seed);
  } else if (o.name == "grid") {
    sampler = make_grid_sampler(settings.integer("points", 5, 1, 1'000'000));
  } else {
    throw ConfigError("sampler.name", fmt::format("unknown sampler '{}'; available: random, "
                                                  "sobol, grid", o.name));
  }
  settings.finish();
  return sampler;
}

}  // namespace caviar
