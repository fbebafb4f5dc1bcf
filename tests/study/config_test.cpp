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

ConfigOverrides gpus(const std::string& list) {
  ConfigOverrides o;
  o.gpus = list;
  return o;
}

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

TEST(Config, DevicesGiveTrialsAtATimeUnlessParallelIsGiven) {
  Config c = parse_config(std::string(kBase) + "resources: {gpus: [0, 1, GPU-8b3c-aa, 3], gpus_per_trial: 2}\n", "/tmp");
  EXPECT_EQ(c.resources.gpus, (std::vector<std::string>{"0", "1", "GPU-8b3c-aa", "3"}));
  EXPECT_EQ(c.resources.slots(), 2);
  EXPECT_EQ(c.parallel, 2);  // one trial per slot
  c = parse_config(std::string(kBase) + "resources: {gpus: [0, 1, 2]}\nbudget: {parallel: 1}\n", "/tmp");
  EXPECT_EQ(c.parallel, 1);  // the user's own choice stands (below the slots)
  apply_overrides(c, gpus("4,5"));
  EXPECT_EQ(c.resources.gpus, (std::vector<std::string>{"4", "5"}));
  EXPECT_EQ(c.parallel, 1);
  c = parse_config(kBase, "/tmp");
  apply_overrides(c, gpus("0,1,2,3"));
  EXPECT_EQ(c.parallel, 4);
  apply_overrides(c, gpus("none"));
  EXPECT_TRUE(c.resources.gpus.empty());
  EXPECT_EQ(c.parallel, 1);
}

TEST(Config, BadDevicesAreRefusedWithTheirKey) {
  EXPECT_EQ(where_of("resources: {gpus: [0, 0]}\n"), "resources.gpus");
  EXPECT_EQ(where_of("resources: {gpus: [-1]}\n"), "resources.gpus[0]");
  EXPECT_EQ(where_of("resources: {gpus: [0, 'a,b']}\n"), "resources.gpus[1]");
  EXPECT_EQ(where_of("resources: {gpus: [0, 1.5]}\n"), "resources.gpus[1]");
  EXPECT_EQ(where_of("resources: {gpus: 0}\n"), "resources.gpus");
  EXPECT_EQ(where_of("resources: {gpus: [0], gpus_per_trial: 2}\n"), "resources.gpus_per_trial");
  EXPECT_EQ(where_of("resources: {gpus: [0], gpu: 1}\n"), "resources.gpu");
  for (const char* list : {"", "0,,1", "0,1,", "0;rm -rf /", "0 1"}) {
    Config c = parse_config(kBase, "/tmp");
    try {
      apply_overrides(c, gpus(list));
      ADD_FAILURE() << "accepted --gpus '" << list << "'";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.where(), "--gpus") << list;
    }
  }
  // The built-in trainer runs on the CPU: devices would be a mistake.
  const char* builtin = "study: s\nobjective: {builtin: mlp}\nparameters:\n  lr: {type: float, low: 0.001, high: 1}\n";
  try {
    parse_config(std::string(builtin) + "resources: {gpus: [0]}\n", "/tmp");
    ADD_FAILURE() << "accepted devices for the built-in objective";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "resources.gpus");
  }
}
