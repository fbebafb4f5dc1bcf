// Optuna's distribution_json, to and from caviar's parameters (src/storage/optuna_format.h).
#include <gtest/gtest.h>

#include "caviar/error.h"
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

TEST(OptunaFormat, AnIntDistributionBeyondInt64IsUnreadable) {
  // Found by fuzzing (fuzz/): writing it back cast 1e230 to int64, undefined behaviour.
  for (const char* d : {R"({"name": "IntDistribution", "attributes": {"low": 1, "high": 9, "step": 1e230}})",
                        R"({"name": "IntUniformDistribution", "attributes": {"low": -1e19, "high": 9}})",
                        R"({"name": "IntDistribution", "attributes": {"low": 0.5, "high": 9, "step": 1}})"})
    EXPECT_THROW(detail::parameter_from_optuna("n", json::parse(d)), StorageError) << d;
  Parameter p = detail::parameter_from_optuna(
      "n", json::parse(R"({"name": "IntDistribution", "attributes": {"low": -5, "high": 9, "step": 2, "log": false}})"));
  EXPECT_EQ(p.low, -5);
  EXPECT_EQ(p.step, 2);
}
