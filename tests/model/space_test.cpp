// Search space: scales, steps, conditions, config parsing and their errors.
#include <gtest/gtest.h>

#include <cmath>

#include "caviar/error.h"
#include "caviar/space.h"

using namespace caviar;

namespace {
Parameter floatp(std::string name, double low, double high, Scale scale = Scale::Linear) {
  Parameter p;
  p.name = std::move(name);
  p.low = low, p.high = high, p.scale = scale;
  return p;
}
}  // namespace

TEST(Space, UnitRoundTripOnEveryScale) {
  for (Scale s : {Scale::Linear, Scale::Log, Scale::ReverseLog, Scale::Logit}) {
    Parameter p = floatp("x", 0.01, 0.99, s);
    for (double u : {0.0, 0.1, 0.5, 0.9, 1.0}) {
      double x = p.from_unit(u);
      EXPECT_GE(x, 0.01);
      EXPECT_LE(x, 0.99);
      EXPECT_NEAR(p.to_unit(x), u, 1e-12) << to_string(s) << " u=" << u;
    }
  }
}

TEST(Space, ReverseLogMapsDecadesOfOneMinusBeta) {
  Parameter p = floatp("beta", 0.9, 0.999, Scale::ReverseLog);
  EXPECT_NEAR(p.from_unit(0.0), 0.9, 1e-12);
  EXPECT_NEAR(p.from_unit(0.5), 0.99, 1e-12);  // 1 - 10^-2, halfway between -1 and -3
  EXPECT_NEAR(p.from_unit(1.0), 0.999, 1e-12);
}

TEST(Space, LogMapsDecades) {
  Parameter p = floatp("lr", 1e-4, 1, Scale::Log);
  EXPECT_NEAR(p.from_unit(0.25), 1e-3, 1e-15);
  EXPECT_NEAR(p.from_unit(0.75), 1e-1, 1e-13);
}

TEST(Space, IntsGiveEveryValueAnEqualCell) {
  Parameter p;
  p.name = "n";
  p.type = ParamType::Int;
  p.low = 1, p.high = 4, p.step = 1;
  std::vector<int> hits(5, 0);
  for (int i = 0; i < 4000; ++i) hits[static_cast<int>(p.from_unit((i + 0.5) / 4000))]++;
  for (int v = 1; v <= 4; ++v) EXPECT_EQ(hits[v], 1000) << v;
  EXPECT_EQ(p.from_unit(0.0), 1);
  EXPECT_EQ(p.from_unit(1.0), 4);
}

TEST(Space, FloatStepsLandOnTheGrid) {
  Parameter p = floatp("d", 0.0, 0.5);
  p.step = 0.1;
  for (int i = 0; i <= 100; ++i) {
    double x = p.from_unit(i / 100.0);
    double k = x / 0.1;
    EXPECT_NEAR(k, std::round(k), 1e-9);
  }
  EXPECT_EQ(p.cardinality(), 6u);
}

TEST(Space, ChoicesMapToIndices) {
  Parameter p;
  p.name = "opt";
  p.type = ParamType::Choice;
  p.choices = {"sgd", "momentum", "adam"};
  EXPECT_EQ(p.from_unit(0.0), 0);
  EXPECT_EQ(p.from_unit(0.5), 1);
  EXPECT_EQ(p.from_unit(1.0), 2);
  EXPECT_EQ(p.external(2), "adam");
  EXPECT_EQ(p.internal(json("momentum")), 1);
  EXPECT_THROW(p.internal(json("rmsprop")), UsageError);
}

TEST(Space, AChoiceIndexOutOfRangeShowsAsNull) {
  // A stored index (Optuna's param_value) may be anything; casting -1 to an index was
  // undefined behaviour (found by fuzzing Optuna's distributions, fuzz/).
  Parameter p;
  p.name = "opt";
  p.type = ParamType::Choice;
  p.choices = {"sgd", "adam"};
  for (double stored : {-1.0, 2.0, 1e300, -1e300, std::nan("")}) {
    EXPECT_EQ(p.external(stored), json()) << stored;
    EXPECT_EQ(p.text(stored), "null") << stored;
  }
  EXPECT_EQ(p.external(1.0), "adam");
}

TEST(Space, ConditionalParametersAreAbsentNotDefaulted) {
  SearchSpace space = SearchSpace::from_config_json(json::parse(R"({
    "optimizer": {"type": "choice", "values": ["sgd", "adam"]},
    "beta1": {"type": "float", "low": 0.8, "high": 0.99, "scale": "reverse_log", "when": "optimizer == adam"}
  })"));
  // A JSON object lists parameters by name: beta1 first, then optimizer.
  ASSERT_EQ(space.params()[0].name, "beta1");
  Params sgd = space.from_unit({0.5, 0.1});
  EXPECT_EQ(sgd.count("beta1"), 0u);
  Params adam = space.from_unit({0.5, 0.9});
  ASSERT_EQ(adam.count("beta1"), 1u);
  EXPECT_NEAR(adam.at("beta1"), 1 - std::sqrt(0.2 * 0.01), 1e-12);
}

TEST(Space, ConfigJsonRoundTrip) {
  json config = json::parse(R"({
    "lr": {"type": "float", "low": 1e-5, "high": 1, "scale": "log"},
    "units": {"type": "int", "low": 16, "high": 1024, "scale": "log"},
    "batch": {"type": "choice", "values": [32, 64, 128]},
    "drop": {"type": "float", "low": 0.05, "high": 0.5, "scale": "logit"},
    "m": {"type": "float", "low": 0.9, "high": 0.999, "scale": "reverse_log", "when": "batch in [64, 128]"}
  })");
  SearchSpace space = SearchSpace::from_config_json(config);
  SearchSpace again = SearchSpace::from_config_json(space.to_config_json());
  EXPECT_EQ(space.to_config_json(), again.to_config_json());
  EXPECT_EQ(again.at("m").when->values, (std::vector<std::string>{"64", "128"}));
}

// Each class of bad parameter definition gets an error that names the place and the cause.
struct BadSpace {
  const char* config;
  const char* where;
  const char* why;
};

class BadSpaces : public testing::TestWithParam<BadSpace> {};

TEST_P(BadSpaces, AreRejectedWithPlaceAndCause) {
  const BadSpace& c = GetParam();
  try {
    SearchSpace::from_config_json(json::parse(c.config));
    FAIL() << "accepted " << c.config;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), c.where) << e.what();
    EXPECT_NE(e.why().find(c.why), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Space, BadSpaces,
    testing::Values(
        BadSpace{R"({"lr": {"type": "float", "low": 0, "high": 1, "sclae": "log"}})",
                 "parameters.lr.sclae", "did you mean 'scale'"},
        BadSpace{R"({"lr": {"type": "float", "low": 1, "high": 1}})", "parameters.lr",
                 "must be less than high"},
        BadSpace{R"({"lr": {"type": "float", "low": 0, "high": 1, "scale": "log"}})",
                 "parameters.lr.low", "log scale needs low > 0"},
        BadSpace{R"({"b": {"type": "float", "low": 0.9, "high": 1, "scale": "reverse_log"}})",
                 "parameters.b.high", "needs high < 1"},
        BadSpace{R"({"c": {"type": "choice", "values": []}})", "parameters.c.values", "empty"},
        BadSpace{R"({"b": {"type": "float", "low": 0, "high": 1, "when": "opt == adam"}})",
                 "parameters.b.when", "'opt' is not a parameter"},
        BadSpace{R"({"x": {"type": "float", "low": 0, "high": 1, "step": 0.3}})",
                 "parameters.x.step", "not a multiple of step"},
        BadSpace{R"({"x": {"type": "real", "low": 0, "high": 1}})", "parameters.x.type",
                 "must be float, int or choice"},
        BadSpace{R"({"x": {"type": "float", "low": 0, "high": 1, "scale": "logg"}})",
                 "parameters.x.scale", "did you mean 'log'"},
        // stored as Optuna's int64: 1e300 made that cast undefined behaviour
        BadSpace{R"({"n": {"type": "int", "low": 0, "high": 1e300}})", "parameters.n",
                 "at most 2^53"}));

TEST(Space, ValuesOffTheStepGridAreNotInTheSpace) {
  SearchSpace space = SearchSpace::from_config_json(json::parse(R"({
    "k": {"type": "int", "low": 0, "high": 10, "step": 2},
    "d": {"type": "float", "low": 0, "high": 1, "step": 0.25}})"));
  EXPECT_EQ(space.at("k").internal(json(4)), 4);
  EXPECT_THROW(space.at("k").internal(json(3)), UsageError);
  EXPECT_EQ(space.at("d").internal(json(0.75)), 0.75);
  EXPECT_THROW(space.at("d").internal(json(0.3)), UsageError);
}
