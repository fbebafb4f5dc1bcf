// Optuna's distribution_json, to and from caviar's parameters (src/storage/optuna_format.h).
#include <gtest/gtest.h>

#include "caviar/space.h"
#include "storage/optuna_format.h"

using namespace caviar;

TEST(OptunaFormat, DistributionRoundTrip) {
  SearchSpace space = SearchSpace::from_config_json(json::parse(R"({
    "lr": {"type": "float", "low": 1e-5, "high": 1, "scale": "log"},
    "k": {"type": "int", "low": 2, "high": 10, "step": 2},
    "c": {"type": "choice", "values": ["a", 32, true]}
  })"));
  for (const auto& p : space.params()) {
    Parameter q = detail::parameter_from_optuna(p.name, detail::optuna_distribution(p));
    EXPECT_EQ(detail::optuna_distribution(q), detail::optuna_distribution(p)) << p.name;
  }
}
