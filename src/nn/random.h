// The trainer's random numbers: caviar's one seeded generator (core/random.h).
#pragma once

#include "base/random.h"

namespace caviar::nn {
using Rng = caviar::detail::Rng;
}  // namespace caviar::nn
