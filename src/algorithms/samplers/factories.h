// Each sampler family's factory from its config settings (`sampler: {name: gp, ...}`):
// defined in the family's folder, each reads and checks its own keys through
// detail::Settings. make_sampler (make_sampler.cpp) picks one by name.
#pragma once

#include <cstdint>
#include <memory>

#include "algorithms/settings.h"
#include "caviar/sampler.h"

namespace caviar::detail {

std::unique_ptr<Sampler> grid_sampler_from(std::uint64_t seed, Settings& settings);
std::unique_ptr<Sampler> zoom_sampler_from(std::uint64_t seed, Settings& settings);
std::unique_ptr<Sampler> tpe_sampler_from(std::uint64_t seed, Settings& settings);
std::unique_ptr<Sampler> cmaes_sampler_from(std::uint64_t seed, Settings& settings);
std::unique_ptr<Sampler> gp_sampler_from(std::uint64_t seed, Settings& settings);

}  // namespace caviar::detail
