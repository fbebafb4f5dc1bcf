// The sampler factory: a sampler by name.
#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/sampler.h"

namespace caviar {

std::unique_ptr<Sampler> make_sampler(const SamplerOptions& o) {
  if (o.name == "random") return make_random_sampler(o.seed);
  if (o.name == "sobol") return make_sobol_sampler(o.seed);
  if (o.name == "grid") return make_grid_sampler(o.grid_points);
  throw ConfigError("sampler.name", fmt::format("unknown sampler '{}'; available: random, "
                                                "sobol, grid", o.name));
}

}  // namespace caviar
