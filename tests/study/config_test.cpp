// Config parsing: keys that would be ignored are errors, durations, storage paths.
#include <gtest/gtest.h>

#include "caviar/config.h"
#include "caviar/error.h"

using namespace caviar;

namespace {
const char* kBase =
    "study: s\n"
    "metric: loss\n"
    "objective: {command: [sh, -c, 'echo loss=1']}\n"
    "parameters:\n"
    "  x: {type: float, low: 0, high: 1}\n";

std::string where_of(const std::string& extra) {
  try {
    parse_config(std::string(kBase) + extra, "/tmp");
  } catch (const ConfigError& e) {
    return e.where();
  }
  return "(accepted)";
}
}  // namespace

TEST(Config, AMinimalConfigLoadsWithDefaults) {
  Config c = parse_config(kBase, "/data/project");
  EXPECT_EQ(c.storage, "sqlite:////data/project/caviar.db");  // relative to the config's folder
  EXPECT_EQ(c.study.sampler.name, "auto");
  EXPECT_EQ(c.study.pruner.name, "none");
  EXPECT_EQ(c.parallel, 1);
  EXPECT_FALSE(c.study.budget);
  EXPECT_EQ(c.command->workdir, "/data/project");
  // caviar-runs/<name>-<8 hex digits hashing the name and the storage> (test_trial_folders.cpp)
  EXPECT_EQ(c.trial_root.parent_path(), "/data/project/caviar-runs");
  EXPECT_EQ(c.trial_root.filename().string().rfind("s-", 0), 0u) << c.trial_root;
  EXPECT_EQ(c.trial_root.filename().string().size(), 10u) << c.trial_root;
}

TEST(Config, Durations) {
  EXPECT_EQ(parse_duration("500ms", "t").count(), 500);
  EXPECT_EQ(parse_duration("20m", "t").count(), 1'200'000);
  EXPECT_EQ(parse_duration("1.5h", "t").count(), 5'400'000);
  EXPECT_EQ(parse_duration(90, "t").count(), 90'000);
  EXPECT_THROW(parse_duration("soon", "t"), ConfigError);
  EXPECT_THROW(parse_duration(-1, "t"), ConfigError);
}

TEST(Config, KeysThatWouldBeIgnoredAreErrors) {
  EXPECT_EQ(where_of("sampler: {name: random, points: 9}\n"), "sampler.points");
  EXPECT_EQ(where_of("pruner: {name: median, reduction_factor: 3}\n"), "pruner.reduction_factor");
  EXPECT_EQ(where_of("pruner: {name: asha, min_trials: 3}\n"), "pruner.min_trials");
  EXPECT_EQ(where_of("pruner: {name: median, percentile: 30}\n"), "pruner.percentile");
  EXPECT_EQ(where_of("pruner: {name: asha, max_resource: 27}\n"), "(accepted)");
  EXPECT_EQ(where_of("pruner: {name: median, min_trials: 3, warmup_steps: 1}\n"), "(accepted)");
}

TEST(Config, UnknownKeysSuggestTheClosest) {
  try {
    parse_config(std::string(kBase) + "budgett: {trials: 3}\n", "/tmp");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "budgett");
    EXPECT_NE(e.why().find("did you mean 'budget'"), std::string::npos) << e.what();
  }
}

TEST(Config, ParametersKeepTheirOrder) {
  Config c = parse_config(
      "study: s\nmetric: m\nobjective: {command: [true]}\nparameters:\n"
      "  zeta: {type: float, low: 0, high: 1}\n"
      "  alpha: {type: float, low: 0, high: 1}\n"
      "  mid: {type: int, low: 0, high: 3}\n",
      "/tmp");
  ASSERT_EQ(c.study.space.size(), 3u);
  EXPECT_EQ(c.study.space.params()[0].name, "zeta");
  EXPECT_EQ(c.study.space.params()[1].name, "alpha");
  EXPECT_EQ(c.study.space.params()[2].name, "mid");
}
