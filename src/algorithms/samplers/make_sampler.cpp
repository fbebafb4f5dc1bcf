// The sampler factory: a sampler by name, each family reading its own settings.
#include <functional>
#include <map>

#include <fmt/core.h>

#include "algorithms/samplers/factories.h"
#include "caviar/error.h"
#include "caviar/sampler.h"

namespace caviar {

std::unique_ptr<Sampler> make_sampler(const SamplerOptions& o) {
  using Factory = std::function<std::unique_ptr<Sampler>(std::uint64_t, detail::Settings&)>;
  static const std::map<std::string, Factory> families = {
      {"auto", [](std::uint64_t seed, detail::Settings&) { return make_auto_sampler(seed); }},
      {"random", [](std::uint64_t seed, detail::Settings&) { return make_random_sampler(seed); }},
      {"sobol", [](std::uint64_t seed, detail::Settings&) { return make_sobol_sampler(seed); }},
      {"grid", detail::grid_sampler_from},
      {"zoom", detail::zoom_sampler_from},
      {"tpe", detail::tpe_sampler_from},
      {"cmaes", detail::cmaes_sampler_from},
      {"gp", detail::gp_sampler_from},
  };
  auto family = families.find(o.name);
  if (family == families.end())
    throw ConfigError("sampler.name", fmt::format("unknown sampler '{}'; available: auto, "
                                                  "random, sobol, grid, zoom, tpe, cmaes, gp", o.name));
  detail::Settings settings(o.settings, "sampler", "the " + o.name + " sampler");
  auto sampler = family->second(o.seed, settings);
  settings.finish();
  // The model-based samplers read an old study's observations as a prior; the others
  // (their points fixed by seed and number, or CMA-ES's replayed generations) do not.
  if (o.name == "auto" || o.name == "gp" || o.name == "tpe")
    return make_warm_start_sampler(std::move(sampler), o.prior, o.seed);
  return sampler;
}

}  // namespace caviar
