// Population Based Training: the decision on hand-made scores (exploit, explore on each
// scale), the scheduler on hand-made histories (order, reruns after a crash, stopping),
// and bad configs.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "caviar/config.h"
#include "caviar/error.h"
#include "caviar/executor.h"
#include "caviar/nn.h"
#include "caviar/pbt.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/tuner.h"
#include "support/files.h"

namespace caviar {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;
using testing::write_file;
using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------- the decision

TEST(PbtDecision, QuantileCountNeverOverlaps) {
  EXPECT_EQ(pbt_quantile_count(1, 0.25), 0);
  EXPECT_EQ(pbt_quantile_count(2, 0.25), 1);
  EXPECT_EQ(pbt_quantile_count(3, 0.25), 1);
  EXPECT_EQ(pbt_quantile_count(4, 0.25), 1);
  EXPECT_EQ(pbt_quantile_count(8, 0.25), 2);
  EXPECT_EQ(pbt_quantile_count(13, 0.25), 4);  // ⌈3.25⌉
  EXPECT_EQ(pbt_quantile_count(16, 0.25), 4);
  EXPECT_EQ(pbt_quantile_count(10, 0.3), 3);   // 0.3·10 is 3.0000000000000004: still 3
  EXPECT_EQ(pbt_quantile_count(5, 0.5), 2);    // ⌊5/2⌋: the middle member is in neither
}

TEST(PbtDecision, BottomQuantileCopiesTheTopOthersContinue) {
  // Eight members, minimizing: ranks 1..8 are members 5, 2, 7, 0, 3, 6, 1, 4. q = 0.25: 2.
  std::vector<PbtScore> scores = {{0, 0.40}, {1, 0.70}, {2, 0.20}, {3, 0.50},
                                  {4, 0.90}, {5, 0.10}, {6, 0.60}, {7, 0.30}};
  std::map<int, std::set<int>> donors;
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    for (int m = 0; m < 8; ++m) {
      PbtRank r = pbt_exploit(scores, m, 0.25, Direction::Minimize, seed);
      EXPECT_EQ(r.ranked, 8);
      if (m == 1 || m == 4) {
        ASSERT_TRUE(r.donor) << "member " << m << " is in the bottom quantile";
        EXPECT_TRUE(*r.donor == 5 || *r.donor == 2) << *r.donor;
        donors[m].insert(*r.donor);
      } else {
        EXPECT_FALSE(r.donor) << "member " << m << " is not in the bottom quantile";
      }
    }
  }
  EXPECT_EQ(pbt_exploit(scores, 5, 0.25, Direction::Minimize, 0).rank, 1);
  EXPECT_EQ(pbt_exploit(scores, 4, 0.25, Direction::Minimize, 0).rank, 8);
  EXPECT_EQ(donors[1], (std::set<int>{2, 5})) << "the donor is drawn from the whole top quantile";
  EXPECT_EQ(donors[4], (std::set<int>{2, 5}));
  // The same seed, the same donor.
  EXPECT_EQ(pbt_exploit(scores, 4, 0.25, Direction::Minimize, 9).donor,
            pbt_exploit(scores, 4, 0.25, Direction::Minimize, 9).donor);

  // Maximizing turns the ranking over: member 5 (0.10) is now the worst.
  PbtRank worst = pbt_exploit(scores, 5, 0.25, Direction::Maximize, 3);
  EXPECT_EQ(worst.rank, 8);
  ASSERT_TRUE(worst.donor);
  EXPECT_TRUE(*worst.donor == 4 || *worst.donor == 1);
  EXPECT_FALSE(pbt_exploit(scores, 4, 0.25, Direction::Maximize, 3).donor);

  // NaN is the worst score; ties go to the lower member number.
  std::vector<PbtScore> odd = {{0, 1.0}, {1, std::nan("")}, {2, 1.0}, {3, 0.5}};
  EXPECT_EQ(pbt_exploit(odd, 1, 0.25, Direction::Minimize, 0).rank, 4);
  EXPECT_EQ(pbt_exploit(odd, 0, 0.25, Direction::Minimize, 0).rank, 2);
  EXPECT_EQ(pbt_exploit(odd, 2, 0.25, Direction::Minimize, 0).rank, 3);
  EXPECT_EQ(pbt_exploit(odd, 1, 0.25, Direction::Minimize, 0).donor, 3);
  // One member alone never exploits; a member without a score is a usage error.
  EXPECT_FALSE(pbt_exploit({{0, 5.0}}, 0, 0.5, Direction::Minimize, 0).donor);
  EXPECT_THROW(pbt_exploit(odd, 9, 0.25, Direction::Minimize, 0), UsageError);
}

SearchSpace explore_space() {
  return SearchSpace::from_config_json(json::parse(R"([
    {"name": "lr", "type": "float", "low": 1e-5, "high": 1, "scale": "log"},
    {"name": "beta", "type": "float", "low": 0.9, "high": 0.999, "scale": "reverse_log"},
    {"name": "mix", "type": "float", "low": 0.01, "high": 0.99, "scale": "logit"},
    {"name": "width", "type": "float", "low": 0, "high": 10},
    {"name": "units", "type": "int", "low": 1, "high": 512, "scale": "log"},
    {"name": "drop", "type": "float", "low": 0, "high": 0.5, "step": 0.05},
    {"name": "opt", "type": "choice", "values": ["sgd", "adam"]},
    {"name": "beta1", "type": "float", "low": 0.8, "high": 0.99, "when": "opt == adam"}
  ])"));
}

Params donor_params() {
  return {{"lr", 0.01}, {"beta", 0.99}, {"mix", 0.5}, {"width", 4.0}, {"units", 100}, {"drop", 0.2}, {"opt", 0}};
}

TEST(PbtDecision, ExplorePerturbsEachParameterOnItsOwnScale) {
  const SearchSpace space = explore_space();
  const Params p = donor_params();
  PbtOptions o;
  o.resample_probability = 0;
  for (double f : {0.8, 1.2}) {
    o.factors = {f};
    PbtExplored e = pbt_explore(space, p, o, 1);
    EXPECT_EQ(e.params.at("lr"), 0.01 * f);                    // log: ×f in value terms, exactly
    EXPECT_EQ(e.params.at("beta"), 1.0 - (1.0 - 0.99) * f);    // reverse_log: on 1 − x
    const double odds = 1.0 * f;                                // logit: on x / (1 − x) = 1
    EXPECT_EQ(e.params.at("mix"), odds / (1.0 + odds));
    EXPECT_EQ(e.params.at("width"), 4.0 * f);                  // linear: a factor on the value
    EXPECT_EQ(e.params.at("units"), f > 1 ? 120 : 80);         // ints rounded
    EXPECT_DOUBLE_EQ(e.params.at("drop"), f > 1 ? 0.25 : 0.15);  // 0.24 and 0.16 onto the 0.05 grid
    EXPECT_EQ(e.params.at("opt"), 0);                          // choices only change by resampling
    EXPECT_FALSE(e.params.count("beta1"));
    EXPECT_EQ(e.changes["lr"], json::array({0.01, 0.01 * f}));
    EXPECT_FALSE(e.changes.contains("opt"));
  }
  // Two factors: each parameter draws one; over seeds both appear, nothing else does.
  o.factors = {0.8, 1.2};
  std::set<double> seen;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    const double lr = pbt_explore(space, p, o, seed).params.at("lr");
    EXPECT_TRUE(lr == 0.01 * 0.8 || lr == 0.01 * 1.2) << lr;
    seen.insert(lr);
  }
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(pbt_explore(space, p, o, 7).params, pbt_explore(space, p, o, 7).params) << "a seed decides";
}

TEST(PbtDecision, ExploreClampsAndMovesIntsAtLeastOneStep) {
  const SearchSpace space = explore_space();
  PbtOptions o;
  o.resample_probability = 0;
  Params p = {{"lr", 0.9}, {"beta", 0.9}, {"mix", 0.98}, {"width", 9.0}, {"units", 2}, {"drop", 0.5}, {"opt", 1},
              {"beta1", 0.9}};
  o.factors = {1.2};
  PbtExplored up = pbt_explore(space, p, o, 3);
  EXPECT_EQ(up.params.at("lr"), 1.0);        // 1.08 clamped to high
  EXPECT_EQ(up.params.at("width"), 10.0);    // 10.8 clamped
  EXPECT_EQ(up.params.at("units"), 3);       // 2.4 rounds back to 2: one step up instead
  EXPECT_EQ(up.params.at("drop"), 0.5);      // at high already
  EXPECT_EQ(up.params.at("beta"), 0.9);      // 1 − 0.1·1.2 = 0.88, clamped to low
  EXPECT_EQ(up.params.at("beta1"), 0.99);    // linear, 1.08 clamped to high: a present conditional moves too
  o.factors = {0.8};
  PbtExplored down = pbt_explore(space, p, o, 3);
  EXPECT_EQ(down.params.at("units"), 1);     // 1.6 rounds back to 2: one step down
  EXPECT_EQ(down.params.at("lr"), 0.9 * 0.8);
  Params one = p;
  one["units"] = 1;
  EXPECT_EQ(pbt_explore(space, one, o, 3).params.at("units"), 1);  // at low, stays
}

TEST(PbtDecision, ResampleProbabilityZeroAndOne) {
  const SearchSpace space = explore_space();
  const Params p = donor_params();
  PbtOptions o;
  o.resample_probability = 1;
  std::set<double> choices;
  int beta1_appeared = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    PbtExplored e = pbt_explore(space, p, o, seed);
    const double lr = e.params.at("lr");
    EXPECT_TRUE(lr != 0.01 * 0.8 && lr != 0.01 * 1.2 && lr >= 1e-5 && lr <= 1) << lr;
    choices.insert(e.params.at("opt"));
    // sgd -> adam makes beta1 active: drawn from the prior, and listed as a change from null.
    if (e.params.at("opt") == 1) {
      ASSERT_TRUE(e.params.count("beta1"));
      EXPECT_TRUE(e.changes["beta1"][0].is_null());
      ++beta1_appeared;
    } else {
      EXPECT_FALSE(e.params.count("beta1"));
    }
  }
  EXPECT_EQ(choices, (std::set<double>{0, 1})) << "probability 1 resamples choices";
  EXPECT_GT(beta1_appeared, 0);
  o.resample_probability = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) EXPECT_EQ(pbt_explore(space, p, o, seed).params.at("opt"), 0);
  // Only the listed parameters change.
  o.resample_probability = 1;
  o.explore = {"lr"};
  PbtExplored e = pbt_explore(space, p, o, 5);
  for (const auto& [name, v] : p)
    if (name != "lr") EXPECT_EQ(e.params.at(name), v) << name;
  EXPECT_EQ(e.changes.size(), 1u);
}

// ---------------------------------------------------------------- the scheduler

SearchSpace lr_space() {
  return SearchSpace::from_config_json(json::parse(R"([{"name": "lr", "type": "float", "low": 0.01, "high": 1, "scale": "log"}])"));
}

struct History {
  std::vector<TrialRecord> trials;
  // A segment trial as the Tuner stores it.
  TrialRecord& add(int member, int segment, int step, int stop, TrialState state, std::optional<double> value,
                   double lr, std::optional<int> restore = std::nullopt, std::optional<int> donor = std::nullopt) {
    TrialRecord t;
    t.number = static_cast<int>(trials.size());
    t.id = t.number + 1;
    t.state = state;
    t.value = value;
    t.params = {{"lr", lr}};
    t.system_attrs["caviar:pbt"] = {{"member", member}, {"segment", segment}, {"step", step}, {"stop", stop},
                                    {"restore_trial", restore ? json(*restore) : json(nullptr)},
                                    {"donor_trial", donor ? json(*donor) : json(nullptr)}, {"attempt", 1}};
    t.system_attrs["caviar:checkpoint_dir"] = "/ck/" + std::to_string(t.number);
    trials.push_back(t);
    return trials.back();
  }
};

PbtOptions two_members() {
  PbtOptions o;
  o.population = 2;
  o.interval = 1;
  o.max_steps = 3;
  o.quantile = 0.5;
  o.resample_probability = 0;
  return o;
}

TEST(PbtScheduler, MembersGoLowestStepFirstAndTheWorseCopiesTheBetter) {
  PbtScheduler scheduler(two_members(), lr_space(), Direction::Minimize, SamplerOptions{});
  History h;
  auto first = scheduler.next(h.trials);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->lineage["member"], 0);
  EXPECT_EQ(first->lineage["step"], 0);
  EXPECT_EQ(first->lineage["stop"], 1);
  EXPECT_TRUE(first->restore_source.empty());
  h.add(0, 0, 0, 1, TrialState::Complete, 9.0, 0.9);
  // Member 0 could go on to step 2, but member 1 has not started: it goes first.
  auto second = scheduler.next(h.trials);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->lineage["member"], 1);
  EXPECT_EQ(second->lineage["step"], 0);
  h.add(1, 0, 0, 1, TrialState::Complete, 9.5, 0.5);
  // Both at step 1; member 0 (9.0, the better) continues from its own checkpoint.
  auto third = scheduler.next(h.trials);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->lineage["member"], 0);
  EXPECT_EQ(third->lineage["segment"], 1);
  EXPECT_EQ(third->lineage["parent_trial"], 0);
  EXPECT_EQ(third->lineage["restore_trial"], 0);
  EXPECT_TRUE(third->lineage["donor_trial"].is_null());
  EXPECT_EQ(third->lineage["rank"], 1);
  EXPECT_EQ(third->params.at("lr"), 0.9);
  EXPECT_EQ(third->restore_source, "/ck/0");
  h.add(0, 1, 1, 2, TrialState::Running, std::nullopt, 0.9, 0);
  // Member 1 is the bottom half: it copies member 0's checkpoint at step 1 and perturbs lr.
  auto fourth = scheduler.next(h.trials);
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->lineage["member"], 1);
  EXPECT_EQ(fourth->lineage["parent_trial"], 1);
  EXPECT_EQ(fourth->lineage["donor_member"], 0);
  EXPECT_EQ(fourth->lineage["donor_trial"], 0);
  EXPECT_EQ(fourth->lineage["restore_trial"], 0);
  EXPECT_EQ(fourth->lineage["rank"], 2);
  EXPECT_EQ(fourth->restore_source, "/ck/0");
  const double lr = fourth->params.at("lr");
  EXPECT_TRUE(lr == 0.9 * 0.8 || lr == 1.0) << lr;  // 0.9·1.2 is clamped to 1
  EXPECT_EQ(fourth->lineage["changes"]["lr"][0], 0.9);
  h.add(1, 1, 1, 2, TrialState::Running, std::nullopt, lr, 0, 0);
  EXPECT_FALSE(scheduler.next(h.trials)) << "both members are running";
  // The same history gives the same decision, in any process.
  History again = h;
  again.trials.resize(3);
  EXPECT_EQ(scheduler.next(again.trials)->params, fourth->params);
}

TEST(PbtScheduler, FailedSegmentsRunAgainOrStopTheirMember) {
  History h;
  h.add(0, 0, 0, 1, TrialState::Complete, 9.0, 0.9);
  h.add(1, 0, 0, 1, TrialState::Complete, 9.5, 0.5);
  TrialRecord& stale = h.add(0, 1, 1, 2, TrialState::Failed, std::nullopt, 0.9, 0);
  stale.system_attrs["caviar:uncounted"] = true;  // its caviar died: failed as stale
  TrialRecord& crashed = h.add(1, 1, 1, 2, TrialState::Failed, std::nullopt, 0.72, 0, 0);
  crashed.system_attrs["caviar:reason"] = "exit code 1";

  PbtScheduler no_retry(two_members(), lr_space(), Direction::Minimize, SamplerOptions{}, 0);
  auto rerun = no_retry.next(h.trials);
  ASSERT_TRUE(rerun);  // the stale segment again: same params, same checkpoint, same decision
  EXPECT_EQ(rerun->lineage["member"], 0);
  EXPECT_EQ(rerun->lineage["rerun_of"], 2);
  EXPECT_EQ(rerun->lineage["attempt"], 1);
  EXPECT_EQ(rerun->lineage["step"], 1);
  EXPECT_EQ(rerun->lineage["restore_trial"], 0);
  EXPECT_EQ(rerun->params.at("lr"), 0.9);
  EXPECT_EQ(rerun->restore_source, "/ck/0");
  h.add(0, 1, 1, 2, TrialState::Running, std::nullopt, 0.9, 0);
  EXPECT_FALSE(no_retry.next(h.trials)) << "a counted failure stops its member (retry: 0)";

  PbtScheduler one_retry(two_members(), lr_space(), Direction::Minimize, SamplerOptions{}, 1);
  auto retried = one_retry.next(h.trials);
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->lineage["member"], 1);
  EXPECT_EQ(retried->lineage["attempt"], 2);
  EXPECT_EQ(retried->lineage["donor_trial"], 0);
  EXPECT_EQ(retried->params.at("lr"), 0.72);

  // A member whose segment ended at max_steps is done.
  History done;
  done.add(0, 0, 0, 3, TrialState::Complete, 1.0, 0.5);
  done.add(1, 0, 0, 3, TrialState::Complete, 2.0, 0.5);
  EXPECT_FALSE(no_retry.next(done.trials));
}

TEST(PbtScheduler, SupersededCheckpointsAreOnlyOnesNoSegmentCanRestore) {
  PbtScheduler scheduler(two_members(), lr_space(), Direction::Minimize, SamplerOptions{}, 0);
  using Dirs = std::vector<std::string>;
  History h;
  h.add(0, 0, 0, 1, TrialState::Complete, 9.0, 0.9);  // #0
  h.add(1, 0, 0, 1, TrialState::Running, std::nullopt, 0.5);
  EXPECT_EQ(scheduler.superseded_checkpoints(h.trials), Dirs{}) << "member 1 has not reached step 1";
  h.trials[1].state = TrialState::Complete, h.trials[1].value = 9.5;  // #1
  h.add(0, 1, 1, 2, TrialState::Complete, 8.0, 0.9, 0);                // #2
  EXPECT_EQ(scheduler.superseded_checkpoints(h.trials), Dirs{})
      << "member 1 stands at step 1: its next decision may copy #0 or continue #1";
  TrialRecord& stale = h.add(1, 1, 1, 2, TrialState::Failed, std::nullopt, 0.72, 0, 0);  // #3
  stale.system_attrs["caviar:uncounted"] = true;
  EXPECT_EQ(scheduler.superseded_checkpoints(h.trials), Dirs{"/ck/3"})
      << "a failed segment's folder goes; its rerun restores #0, which stays";
  h.add(1, 1, 1, 2, TrialState::Complete, 8.5, 0.72, 0, 0);  // #4, the rerun
  EXPECT_EQ(scheduler.superseded_checkpoints(h.trials), (Dirs{"/ck/0", "/ck/1", "/ck/3"}))
      << "both members stand at step 2";
  PbtScheduler maximize(two_members(), lr_space(), Direction::Maximize, SamplerOptions{}, 0);
  EXPECT_EQ(maximize.superseded_checkpoints(h.trials), (Dirs{"/ck/0", "/ck/3"}))
      << "#1 (9.5) is the best trial when maximizing: its model stays";
  h.add(0, 2, 2, 3, TrialState::Complete, 7.0, 0.9, 2);  // #5: member 0 done
  TrialRecord& crashed = h.add(1, 2, 2, 3, TrialState::Failed, std::nullopt, 0.72, 4);  // #6
  crashed.system_attrs["caviar:reason"] = "exit code 1";
  EXPECT_EQ(scheduler.superseded_checkpoints(h.trials), (Dirs{"/ck/0", "/ck/1", "/ck/2", "/ck/3", "/ck/4", "/ck/6"}))
      << "member 1 stopped (retry: 0), member 0 is done; its final checkpoint #5 stays";
  PbtScheduler one_retry(two_members(), lr_space(), Direction::Minimize, SamplerOptions{}, 1);
  EXPECT_EQ(one_retry.superseded_checkpoints(h.trials), (Dirs{"/ck/0", "/ck/1", "/ck/3", "/ck/6"}))
      << "with a retry left, member 1 may still rerun from #4";
}

// ---------------------------------------------------------------- bad configs

void expect_config_error(const std::string& scheduler, const std::string& where, const std::string& words,
                         const std::string& extra = "") {
  const std::string yaml = "study: s\nmetric: loss\nobjective: {command: [sh, x.sh]}\n"
                           "parameters:\n  lr: {type: float, low: 0.01, high: 1, scale: log}\n" +
                           extra + "scheduler: " + scheduler + "\n";
  try {
    parse_config(yaml, fs::temp_directory_path());
    ADD_FAILURE() << "no error for " << scheduler;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), where) << e.what();
    EXPECT_NE(e.why().find(words), std::string::npos) << e.what();
  }
}

TEST(PbtConfig, BadKeysNameTheKey) {
  expect_config_error("{name: pbt, population: 1, max_steps: 4}", "scheduler.population", ">= 2");
  expect_config_error("{name: pbt, population: 4.5, max_steps: 4}", "scheduler.population", "whole number");
  expect_config_error("{name: pbt, quantile: 0.6, max_steps: 4}", "scheduler.quantile", "(0, 0.5]");
  expect_config_error("{name: pbt, quantile: 0, max_steps: 4}", "scheduler.quantile", "(0, 0.5]");
  expect_config_error("{name: pbt, resample_probability: 1.5, max_steps: 4}", "scheduler.resample_probability",
                      "[0, 1]");
  expect_config_error("{name: pbt, population: 4}", "scheduler.max_steps", "missing");
  expect_config_error("{name: pbt, interval: 5, max_steps: 4}", "scheduler.interval", "at most max_steps");
  expect_config_error("{name: pbt, max_steps: 4, populaton: 8}", "scheduler.populaton", "did you mean 'population'");
  expect_config_error("{name: pbt, max_steps: 4, factors: [0.8, -1]}", "scheduler.factors[1]", "> 0");
  expect_config_error("{name: pbt, max_steps: 4, explore: [lrr]}", "scheduler.explore[0]", "did you mean 'lr'");
  expect_config_error("{name: asha, max_steps: 4}", "scheduler.name", "must be pbt");
  expect_config_error("{name: pbt, max_steps: 4}", "scheduler", "median pruner", "pruner: {name: median}\n");
  expect_config_error("[pbt]", "scheduler", "expected a mapping");
  expect_config_error("{name: pbt, max_steps: 4, keep_checkpoints: 1}", "scheduler.keep_checkpoints",
                      "true or false");

  // The default and `none`.
  Config ok = parse_config("study: s\nmetric: loss\nobjective: {command: [sh, x.sh]}\n"
                           "parameters:\n  lr: {type: float, low: 0.01, high: 1, scale: log}\n"
                           "scheduler: {name: pbt, max_steps: 10}\n",
                           fs::temp_directory_path());
  ASSERT_TRUE(ok.pbt);
  EXPECT_EQ(ok.pbt->population, 8);
  EXPECT_EQ(ok.pbt->interval, 1);
  EXPECT_EQ(ok.pbt->quantile, 0.25);
  EXPECT_EQ(ok.pbt->resample_probability, 0.25);
  EXPECT_EQ(ok.pbt->factors, (std::vector<double>{0.8, 1.2}));
  EXPECT_EQ(ok.pbt->segments(), 10);
  EXPECT_FALSE(ok.pbt->keep_checkpoints);
  Config none = parse_config("study: s\nmetric: loss\nobjective: {command: [sh, x.sh]}\n"
                             "parameters:\n  lr: {type: float, low: 0.01, high: 1}\n"
                             "scheduler: {name: none}\npruner: {name: median}\n",
                             fs::temp_directory_path());
  EXPECT_FALSE(none.pbt);
}

}  // namespace
}  // namespace caviar
