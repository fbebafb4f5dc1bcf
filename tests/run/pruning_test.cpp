// Pruning inside studies: in-process objectives stop at their next report, command trials
// get SIGTERM to their process group, and both are stored as pruned with their last value.
#include <gtest/gtest.h>

#include "caviar/executor.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/tuner.h"
#include "support/files.h"
#include "support/processes.h"

using namespace caviar;
namespace fs = std::filesystem;

namespace {
StudyOptions median_study() {
  StudyOptions o;
  o.name = "prune";
  o.space = SearchSpace::from_config_json(json::parse(R"({"x": {"type": "float", "low": 0, "high": 10}})"));
  o.pruner.name = "median";
  o.pruner.min_trials = 2;
  return o;
}
}  // namespace

TEST(PruningInStudies, InProcessTrialStopsAtItsNextReport) {
  Study study(make_memory_storage(), median_study());
  for (double x : {1.0, 2.0, 1.5, 9.0, 1.2}) study.enqueue({{"x", x}});
  int reports_after_prune = 0;
  optimize(study, [&](Trial& t) {
    double x = t.float_param("x");
    for (int step = 1; step <= 5; ++step) {
      t.report(step, x);
      if (x == 9.0) ++reports_after_prune;  // only reached if report() did not throw
    }
    return x;
  }, 5);
  auto trials = study.trials();
  ASSERT_EQ(trials.size(), 5u);
  EXPECT_EQ(trials[3].state, TrialState::Pruned);
  EXPECT_EQ(trials[3].intermediate.size(), 1u);  // stopped at step 1: 9 > median(1, 2, 1.5)
  EXPECT_EQ(*trials[3].value, 9.0);              // its last reported value
  EXPECT_EQ(reports_after_prune, 0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(trials[i].state, TrialState::Complete) << i;  // 1.5 ties the median
  EXPECT_EQ(trials[4].state, TrialState::Complete);  // 1.2 < median 1.5: runs to the end
  EXPECT_EQ(trials[4].intermediate.size(), 5u);
}

TEST(PruningInStudies, PrunedCommandTrialsGroupIsGone) {
  caviar::testing::TempDir dir;
  auto storage = open_storage("sqlite:///" + (dir / "p.db").string());
  Study study(storage, median_study());
  for (double x : {1.0, 2.0, 1.5, 9.0}) study.enqueue({{"x", x}});
  CommandObjective c;
  c.argv = {"sh", "-c",
            "echo $$ > \"$CAVIAR_TRIAL_DIR/pid\"; sleep 60 & echo $! > \"$CAVIAR_TRIAL_DIR/child\"; "
            "for i in 1 2 3 4 5 6; do echo \"epoch=$i value=$0\"; sleep 0.1; done", "{x}"};
  c.metric = "value";
  c.grace = std::chrono::milliseconds(500);
  auto executor = make_command_executor(c, study.space());
  TuneOptions options;
  options.trial_root = dir / "runs";
  options.max_new_trials = 4;
  Tuner(study, *executor, options).run();
  auto trials = study.trials();
  ASSERT_EQ(trials.size(), 4u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(trials[i].state, TrialState::Complete) << i;
  const TrialRecord& pruned = trials[3];
  EXPECT_EQ(pruned.state, TrialState::Pruned);
  EXPECT_EQ(*pruned.value, 9.0);
  EXPECT_LT(pruned.intermediate.size(), 6u);
  EXPECT_NE(pruned.reason().find("pruned by the median pruner"), std::string::npos) << pruned.reason();
  for (const char* file : {"pid", "child"}) {
    pid_t pid = std::stoi(caviar::testing::read_file(dir / "runs" / "0003" / file));
    EXPECT_TRUE(caviar::testing::wait_gone(pid, std::chrono::milliseconds(2000))) << file << " " << pid << " outlived its pruned trial";
  }
}
