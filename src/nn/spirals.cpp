// The synthetic spiral set: K arms winding out from the origin, one class per arm.
#include <cmath>
#include <numbers>

#include "nn/data.h"
#include "nn/random.h"

namespace caviar::nn {

Dataset make_spirals(int classes, int points_per_class, std::uint64_t seed) {
  Rng rng(seed);
  Dataset data;
  data.num_classes = classes;
  data.features.resize(2, static_cast<Eigen::Index>(classes) * points_per_class);
  data.labels.reserve(static_cast<std::size_t>(classes) * points_per_class);
  const double turn = 2 * std::numbers::pi / classes;
  Eigen::Index column = 0;
  for (int k = 0; k < classes; ++k) {
    for (int i = 0; i < points_per_class; ++i, ++column) {
      const double radius = (i + 1.0) / points_per_class;                // (0, 1]
      const double angle = k * turn + 1.75 * std::numbers::pi * radius  // 7/8 of a turn
                           + 0.08 * rng.normal();
      data.features(0, column) = static_cast<float>(radius * std::cos(angle));
      data.features(1, column) = static_cast<float>(radius * std::sin(angle));
      data.labels.push_back(k);
    }
  }
  return data;
}

}  // namespace caviar::nn
