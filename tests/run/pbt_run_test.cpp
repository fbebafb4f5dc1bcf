// Population Based Training run by the tuner: end-to-end runs of a command whose "loss"
// lives in its checkpoint (exploit continues from the donor's value; a SIGKILLed caviar
// resumes), an in-process run of the built-in trainer (the exploiting member really
// restored the donor's weights), and what the trainer refuses to change mid-training.
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
#include "support/checkpoint_objective.h"
#include "support/cli.h"
#include "support/files.h"

namespace caviar {
namespace {

namespace fs = std::filesystem;
using testing::CaviarProcess;
using testing::cli_json;
using testing::write_objective;
using testing::CliResult;
using testing::read_file;
using testing::run_caviar;
using testing::TempDir;
using testing::write_file;
using SteadyClock = std::chrono::steady_clock;

// ---------------------------------------------------------------- end to end: a command

std::string command_config(const std::string& extra) {
  return "study: pbt\n"
         "storage: sqlite:///study.db\n"
         "metric: loss\n"
         "objective: {command: [sh, obj.sh], env: {NAP: '0'}}\n"
         "parameters:\n"
         "  lr: {type: float, low: 0.01, high: 1, scale: log}\n"
         "  units: {type: int, low: 2, high: 64, scale: log}\n"
         "sampler: {name: random, seed: 5}\n" + extra;
}


// Every complete segment continues exactly from the checkpoint its lineage names: its
// first report is that checkpoint's loss minus its own lr (not 10 − lr, a fresh start).
// Returns the number of exploits.
int check_continuity(const json& trials) {
  std::map<int, json> by_number;
  for (const auto& t : trials) by_number[t["number"].get<int>()] = t;
  int exploits = 0;
  for (const auto& t : trials) {
    if (t["state"] != "complete") continue;
    const json& l = t["system_attrs"]["caviar:pbt"];
    const int step = l["step"], stop = l["stop"];
    const double lr = t["params"]["lr"];
    SCOPED_TRACE("trial " + t.dump());
    EXPECT_EQ(t["intermediate"].size(), static_cast<std::size_t>(stop - step));
    EXPECT_TRUE(t["intermediate"].contains(std::to_string(step + 1)));
    EXPECT_TRUE(t["intermediate"].contains(std::to_string(stop)));
    const double first = t["intermediate"][std::to_string(step + 1)];
    if (l["restore_trial"].is_null()) {
      EXPECT_EQ(step, 0);
      EXPECT_EQ(first, 10.0 - lr);
      continue;
    }
    const json& source = by_number.at(l["restore_trial"].get<int>());
    EXPECT_EQ(source["system_attrs"]["caviar:pbt"]["stop"], step) << "restored from the decision's step";
    EXPECT_EQ(first, source["value"].get<double>() - lr) << "does not continue from the restored loss";
    EXPECT_NE(first, 10.0 - lr);
    if (!l["donor_trial"].is_null()) {
      ++exploits;
      EXPECT_EQ(l["donor_trial"], l["restore_trial"]);
      EXPECT_NE(source["system_attrs"]["caviar:pbt"]["member"], l["member"]);
      for (const auto& [name, pair] : l["changes"].items()) {  // [the donor's, this trial's]
        EXPECT_EQ(pair[0], source["params"][name]) << name;
        EXPECT_EQ(pair[1], t["params"][name]) << name;
      }
      for (const auto& [name, v] : t["params"].items())
        if (!l["changes"].contains(name)) EXPECT_EQ(v, source["params"][name]) << name << " was copied";
    } else {
      EXPECT_EQ(l["restore_trial"], l["parent_trial"]);
      EXPECT_EQ(t["params"], by_number.at(l["parent_trial"].get<int>())["params"]);
    }
  }
  return exploits;
}

// Each member's complete segments end at 1, 2, ..., max_steps.
void expect_every_member_finished(const json& trials, int population, int max_steps) {
  std::map<int, std::set<int>> stops;
  for (const auto& t : trials)
    if (t["state"] == "complete") {
      const json& l = t["system_attrs"]["caviar:pbt"];
      EXPECT_TRUE(stops[l["member"].get<int>()].insert(l["stop"].get<int>()).second) << "a step twice: " << t.dump();
    }
  std::set<int> all;
  for (int s = 1; s <= max_steps; ++s) all.insert(s);
  ASSERT_EQ(stops.size(), static_cast<std::size_t>(population));
  for (const auto& [member, s] : stops) EXPECT_EQ(s, all) << "member " << member;
}

TEST(PbtCommand, ExploitContinuesFromTheDonorsCheckpointAndLineageIsListed) {
  TempDir tmp;
  write_objective(tmp.path());
  write_file(tmp / "cfg.yaml", command_config("scheduler: {name: pbt, population: 4, interval: 1, max_steps: 4}\n"
                                              "budget: {parallel: 2}\n"));
  CliResult tune = run_caviar(tmp.path(), {"tune", "cfg.yaml", "-q"});
  ASSERT_EQ(tune.rc, 0) << tune.describe();
  EXPECT_NE(tune.out.find("PBT member"), std::string::npos) << tune.describe();

  json trials = cli_json(tmp.path(), {"trials", "cfg.yaml", "--format", "json"});
  ASSERT_EQ(trials.size(), 16u) << "4 members x 4 segments";
  for (const auto& t : trials) EXPECT_EQ(t["state"], "complete") << t.dump();
  expect_every_member_finished(trials, 4, 4);
  // The member with the smallest lr is the worst of everyone at step 1, so it exploits.
  EXPECT_GE(check_continuity(trials), 1);
  // Each member's final checkpoint stays; the ones no segment can restore any more, and
  // the restore copies, are removed.
  for (const auto& t : trials) {
    const fs::path dir = t["system_attrs"]["caviar:checkpoint_dir"].get<std::string>();
    EXPECT_EQ(fs::exists(dir / "state"), t["system_attrs"]["caviar:pbt"]["stop"] == 4) << dir;
    EXPECT_FALSE(fs::exists(dir.parent_path() / "restore")) << dir;
  }

  CliResult lineage = run_caviar(tmp.path(), {"trials", "cfg.yaml", "--lineage"});
  ASSERT_EQ(lineage.rc, 0) << lineage.describe();
  const std::string table = lineage.out;
  EXPECT_NE(table.find("member  seg"), std::string::npos) << table;
  EXPECT_NE(table.find("sampled"), std::string::npos) << table;
  EXPECT_NE(table.find("continued #"), std::string::npos) << table;
  EXPECT_NE(table.find("copied member"), std::string::npos) << table;
  EXPECT_NE(table.find("lr "), std::string::npos) << "the changes are listed:\n" << table;
  json chains = cli_json(tmp.path(), {"trials", "cfg.yaml", "--lineage", "--format", "json"})["pbt"];
  ASSERT_EQ(chains.size(), 4u);
  for (const auto& member : chains) {
    ASSERT_EQ(member["trials"].size(), 4u);
    for (int k = 0; k < 4; ++k) {
      EXPECT_EQ(member["trials"][k]["segment"], k);
      EXPECT_EQ(member["trials"][k]["stop"], k + 1);
      if (k > 0) EXPECT_EQ(member["trials"][k]["parent_trial"], member["trials"][k - 1]["number"]);
    }
  }
}

TEST(PbtCommand, SigkilledRunResumesStaleSegmentsFromTheirCheckpoints) {
  TempDir tmp;
  write_objective(tmp.path());
  std::string text = command_config("scheduler: {name: pbt, population: 4, interval: 1, max_steps: 3}\n"
                                    "budget: {parallel: 2}\nheartbeat: 0.2s\nstale_after: 1s\n");
  text.replace(text.find("NAP: '0'"), 8, "NAP: '0.3'");
  write_file(tmp / "cfg.yaml", text);
  {
    CaviarProcess first(tmp.path(), {"tune", "cfg.yaml", "-q"});
    // Wait until a segment past the first is running, then kill caviar (its reaper ends the trials).
    auto storage_ready = [&] { return fs::exists(tmp / "study.db"); };
    const auto until = SteadyClock::now() + std::chrono::seconds(30);
    bool seen = false;
    while (!seen && SteadyClock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!storage_ready()) continue;
      try {
        auto storage = open_storage("sqlite:///" + (tmp / "study.db").string());
        auto study = storage->find_study("pbt");
        if (!study) continue;
        for (const auto& t : storage->trials(study->id))
          if (t.state == TrialState::Running && t.system_attrs.contains("caviar:pbt") &&
              t.system_attrs["caviar:pbt"].value("step", 0) >= 1)
            seen = true;
      } catch (const std::exception&) {
      }
    }
    ASSERT_TRUE(seen) << "no second segment started";
    first.signal(SIGKILL);
    first.wait();
  }
  // At once: its trials' owner is gone from this machine, so they are failed without
  // waiting for stale_after.
  CliResult second = run_caviar(tmp.path(), {"tune", "cfg.yaml", "-q"});
  ASSERT_EQ(second.rc, 0) << second.describe();

  json trials = cli_json(tmp.path(), {"trials", "cfg.yaml", "--format", "json"});
  std::map<int, json> by_number;
  for (const auto& t : trials) by_number[t["number"].get<int>()] = t;
  int stale = 0;
  for (const auto& t : trials) {
    if (t["state"] != "failed") continue;
    EXPECT_NE(t["reason"].get<std::string>().find("stale"), std::string::npos) << t.dump();
    ++stale;
    // Its rerun: the same segment, parameters and checkpoint to restore.
    int reruns = 0;
    for (const auto& r : trials) {
      const json& l = r["system_attrs"]["caviar:pbt"];
      if (l.value("rerun_of", json()) != t["number"]) continue;
      ++reruns;
      const json& was = t["system_attrs"]["caviar:pbt"];
      EXPECT_EQ(r["params"], t["params"]);
      for (const char* key : {"member", "segment", "step", "stop", "restore_trial", "donor_trial"})
        EXPECT_EQ(l[key], was[key]) << key;
    }
    EXPECT_EQ(reruns, 1) << t.dump();
  }
  EXPECT_GE(stale, 1);
  expect_every_member_finished(trials, 4, 3);
  check_continuity(trials);
}

TEST(PbtCommand, CaviarTrainHonoursTheCheckpointVariables) {
  TempDir tmp;
  write_file(tmp / "cfg.yaml", std::string("study: train\nstorage: sqlite:///study.db\nmetric: val_loss\n"
                                           "objective: {command: [") + CAVIAR_BINARY +
                                   ", train, --dataset, spirals, --spiral-points, '100', --units, '16', "
                                   "--lr, '{lr}', --epochs, '3']}\n"  // the whole run's length
                                   "parameters:\n  lr: {type: float, low: 0.003, high: 0.03, scale: log}\n"
                                   "scheduler: {name: pbt, population: 2, interval: 1, max_steps: 3, "
                                   "keep_checkpoints: true}\n");
  CliResult tune = run_caviar(tmp.path(), {"tune", "cfg.yaml", "-q"});
  ASSERT_EQ(tune.rc, 0) << tune.describe();
  json trials = cli_json(tmp.path(), {"trials", "cfg.yaml", "--format", "json"});
  ASSERT_EQ(trials.size(), 6u);
  for (const auto& t : trials) {
    ASSERT_EQ(t["state"], "complete") << t.dump();
    const json& l = t["system_attrs"]["caviar:pbt"];
    ASSERT_EQ(t["intermediate"].size(), 1u);  // exactly its one epoch: CAVIAR_STOP_AT beat --epochs
    EXPECT_TRUE(t["intermediate"].contains(std::to_string(l["stop"].get<int>())));
    const fs::path dir = t["system_attrs"]["caviar:checkpoint_dir"].get<std::string>();
    EXPECT_TRUE(fs::exists(dir / "mlp.ckpt")) << dir;
  }
  expect_every_member_finished(trials, 2, 3);
}

// ---------------------------------------------------------------- the built-in trainer

TEST(PbtBuiltin, ExploitRestoresTheDonorsWeights) {
  TempDir tmp;
  Config config = parse_config(
      "study: pbt-mlp\n"
      "metric: val_loss\n"
      "objective: {builtin: mlp, args: {dataset: spirals, spiral_points: 150, layers: 2, units: 16,\n"
      "                                 batch_size: 32, seed: 3}}\n"
      "parameters:\n"
      "  lr: {type: float, low: 0.001, high: 0.1, scale: log}\n"
      "scheduler: {name: pbt, population: 4, interval: 1, max_steps: 4, keep_checkpoints: true}\n"
      "sampler: {seed: 2}\n",
      tmp.path());
  auto executor = make_executor(config);
  Study study(make_memory_storage(), config.study);
  TuneOptions options;
  options.trial_root = tmp / "runs";
  options.source = make_pbt_source(study, *config.pbt);
  TuneSummary summary = Tuner(study, *executor, options).run();
  EXPECT_EQ(summary.complete, 16);

  auto trials = study.trials();
  std::map<int, TrialRecord> by_number;
  for (const auto& t : trials) by_number[t.number] = t;
  int exploits = 0;
  for (const auto& t : trials) {
    ASSERT_EQ(t.state, TrialState::Complete) << t.reason();
    const json& l = t.system_attrs.at("caviar:pbt");
    if (l["donor_trial"].is_null()) continue;
    ++exploits;
    const TrialRecord& donor = by_number.at(l["donor_trial"].get<int>());
    const std::int64_t step = l["step"];
    ASSERT_EQ(donor.system_attrs.at("caviar:pbt")["stop"], step);
    ASSERT_EQ(t.intermediate.begin()->first, step + 1) << "reports continue the epochs";
    // Replay: the donor's checkpoint with this trial's parameters gives exactly its first
    // report; a fresh network with them does not.
    json merged = config.builtin["args"];
    merged.update(config.study.space.to_json(t.params));
    nn::TrainConfig replay = nn::config_from_json(merged);
    replay.epochs = static_cast<int>(step) + 1;
    replay.restore_from = donor.system_attrs.at("caviar:checkpoint_dir").get<std::string>();
    const nn::TrainResult continued = nn::train(replay);
    EXPECT_EQ(continued.restored_epoch, step);
    EXPECT_EQ(continued.epochs.at(0).val_loss, t.intermediate.begin()->second);
    nn::TrainConfig fresh = replay;
    fresh.restore_from.clear();
    fresh.epochs = 1;
    EXPECT_NE(nn::train(fresh).epochs.at(0).val_loss, t.intermediate.begin()->second);
  }
  EXPECT_EQ(exploits, 3) << "one run at a time: the worst of 4 exploits at steps 1, 2 and 3";
}

TEST(PbtConfig, TheTrainerCannotChangeItsShapeMidTraining) {
  const std::string head =
      "study: s\nobjective: {builtin: mlp, args: {dataset: spirals}}\n"
      "parameters:\n  lr: {type: float, low: 0.01, high: 1, scale: log}\n  units: {type: int, low: 8, high: 64}\n";
  for (const auto& [scheduler, words] : std::vector<std::pair<std::string, std::string>>{
           {"{name: pbt, max_steps: 4}", "explore: [lr]"},
           {"{name: pbt, max_steps: 4, explore: [lr, units]}", "cannot change 'units'"}}) {
    Config config = parse_config(head + "scheduler: " + scheduler + "\n", fs::temp_directory_path());
    try {
      make_executor(config);
      ADD_FAILURE() << scheduler;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.where(), "scheduler.explore");
      EXPECT_NE(e.why().find(words), std::string::npos) << e.what();
    }
  }
  Config fine = parse_config(head + "scheduler: {name: pbt, max_steps: 4, explore: [lr]}\n", fs::temp_directory_path());
  EXPECT_NO_THROW(make_executor(fine));
}

TEST(PbtCommand, ASegmentThatIgnoresTheCheckpointFails) {
  TempDir tmp;
  // Always starts at epoch 1 and writes a checkpoint only when told WRITE=1.
  write_file(tmp / "forgetful.sh", "#!/bin/sh\n[ \"$WRITE\" = 1 ] && echo x > \"$CAVIAR_CHECKPOINT_DIR/state\"\n"
                                   "e=1; while [ $e -le $((CAVIAR_STOP_AT - CAVIAR_START_AT)) ]; do "
                                   "echo epoch=$e loss=1; e=$((e + 1)); done\n");
  for (const std::string write : {"0", "1"}) {
    SCOPED_TRACE("WRITE=" + write);
    Config config = parse_config("study: s\nmetric: loss\nobjective: {command: [sh, forgetful.sh], env: {WRITE: '" +
                                     write + "'}}\n"
                                     "parameters:\n  lr: {type: float, low: 0.01, high: 1}\n"
                                     "scheduler: {name: pbt, population: 2, max_steps: 2}\n",
                                 tmp.path());
    auto executor = make_executor(config);
    Study study(make_memory_storage(), config.study);
    TuneOptions options;
    options.trial_root = tmp / ("runs" + write);
    options.source = make_pbt_source(study, *config.pbt);
    Tuner(study, *executor, options).run();
    int failed = 0;
    for (const auto& t : study.trials()) {
      if (t.state != TrialState::Failed) continue;
      ++failed;
      EXPECT_NE(t.reason().find(write == "0" ? "left no checkpoint" : "reported step 1, but it continues a "
                                                                       "checkpoint from step 1"),
                std::string::npos)
          << t.reason();
    }
    EXPECT_EQ(failed, 2) << "each member fails once and stops (retry: 0)";
  }
}

}  // namespace
}  // namespace caviar
