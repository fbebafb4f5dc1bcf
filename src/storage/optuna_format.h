// Optuna's storage format for parameters: the distribution_json column of trial_params.
// caviar's model knows nothing of it; the storages convert here, on the way in and out.
#pragma once

#include <string>

#include "caviar/space.h"

namespace caviar::detail {

// The parameter as Optuna's FloatDistribution, IntDistribution or
// CategoricalDistribution. ReverseLog and Logit are stored as linear floats there, with
// the true scale in the study's "caviar:space" attribute.
json optuna_distribution(const Parameter& parameter);

// The inverse, for any distribution Optuna 3.x writes (the older Uniform,
// LogUniform, DiscreteUniform, IntUniform and IntLogUniform too). Throws StorageError for
// one it cannot read and UsageError for an unknown kind.
Parameter parameter_from_optuna(const std::string& name, const json& distribution);

}  // namespace caviar::detail
