// Babysitting run end to end through the command line: a scripted session (start, set,
// rollback, set, stop) on a command whose "loss" lives in its checkpoint, checking that
// every segment continued the checkpoint its lineage names with the values it names; the
// same steering on the built-in trainer with every control given while nothing ran; and a
// SIGKILLed babysitter started again ends with the same checkpoint bytes as a run that was
// never killed.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "caviar/storage.h"
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
using testing::poll_until;
using testing::read_file;
using testing::run_caviar;
using testing::TempDir;
using testing::write_file;

// The babysat model's segments, as `caviar babysit status --format json` gives them.
json segments(const fs::path& dir) { return cli_json(dir, {"babysit", "status", "cfg.yaml", "--format", "json"})["segments"]; }

// The segments as stored, read straight from the file while a babysitter runs.
std::vector<TrialRecord> stored(const fs::path& db, const std::string& study) {
  try {
    auto storage = open_storage("sqlite:///" + db.string(), OpenMode::Existing);
    auto s = storage->find_study(study);
    return s ? storage->trials(s->id) : std::vector<TrialRecord>{};
  } catch (const std::exception&) {
    return {};
  }
}

int count_origin(const std::vector<TrialRecord>& trials, const std::string& origin) {
  int n = 0;
  for (const auto& t : trials)
    if (t.state == TrialState::Complete && t.system_attrs.contains("caviar:babysit") &&
        t.system_attrs["caviar:babysit"].value("origin", "") == origin)
      ++n;
  return n;
}

TEST(BabysitCommand, ScriptedSessionSetRollbackSetStop) {
  TempDir tmp;
  write_objective(tmp.path());
  write_file(tmp / "cfg.yaml", "study: panda\nstorage: sqlite:///study.db\nmetric: loss\n"
                               "objective: {command: [sh, obj.sh], env: {NAP: '0.05'}}\n"
                               "parameters:\n  lr: {type: float, low: 0.01, high: 1, scale: log}\n");
  CaviarProcess sitter(tmp.path(), {"babysit", "cfg.yaml", "--epochs", "200", "--set", "lr=0.1"});
  const fs::path db = tmp / "study.db";
  auto complete_after = [&](int n) {
    return poll_until([&] {
      int c = 0;
      for (const auto& t : stored(db, "panda")) c += t.state == TrialState::Complete;
      return c >= n;
    }, std::chrono::seconds(30));
  };
  ASSERT_TRUE(complete_after(3)) << sitter.err_so_far();
  auto give = [&](std::vector<std::string> args, const std::string& origin, int seen) {
    args.insert(args.begin(), "babysit");
    CliResult r = run_caviar(tmp.path(), args);
    ASSERT_EQ(r.rc, 0) << r.describe();
    EXPECT_NE(r.out.find("stored: "), std::string::npos) << r.out;
    ASSERT_TRUE(poll_until([&] { return count_origin(stored(db, "panda"), origin) > seen; }, std::chrono::seconds(30)))
        << origin << " never applied; " << sitter.err_so_far();
  };
  give({"set", "cfg.yaml", "lr=0.2"}, "set", 0);
  ASSERT_TRUE(complete_after(7));
  give({"rollback", "cfg.yaml", "--to", "2", "lr=0.05"}, "rollback", 0);
  ASSERT_TRUE(complete_after(10));
  give({"set", "cfg.yaml", "lr=0.3"}, "set", 1);
  // Paused, it starts no segment until resumed.
  ASSERT_EQ(run_caviar(tmp.path(), {"babysit", "pause", "cfg.yaml"}).rc, 0);
  ASSERT_TRUE(poll_until([&] { return sitter.err_so_far().find("caviar: paused") != std::string::npos; },
                         std::chrono::seconds(30))) << sitter.err_so_far();
  const std::size_t at_pause = stored(db, "panda").size();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // two of its looks at the controls (0.5 s)
  EXPECT_EQ(stored(db, "panda").size(), at_pause) << "a segment started while paused";
  ASSERT_EQ(run_caviar(tmp.path(), {"babysit", "resume", "cfg.yaml"}).rc, 0);
  ASSERT_TRUE(poll_until([&] { return stored(db, "panda").size() > at_pause; }, std::chrono::seconds(30)));
  CliResult stop = run_caviar(tmp.path(), {"babysit", "stop", "cfg.yaml"});
  ASSERT_EQ(stop.rc, 0) << stop.describe();
  CliResult end = sitter.wait(std::chrono::seconds(30));
  ASSERT_EQ(end.rc, 0) << end.describe();
  EXPECT_NE(end.err.find("stopped by `babysit stop`"), std::string::npos) << end.err;

  const json segs = segments(tmp.path());
  std::map<int, json> by_number;
  for (const auto& s : segs) by_number[s["number"].get<int>()] = s;
  json trials = cli_json(tmp.path(), {"trials", "cfg.yaml", "--format", "json"});
  std::map<int, json> trial;
  for (const auto& t : trials) trial[t["number"].get<int>()] = t;
  // Each complete segment continued the checkpoint its lineage names, with its own lr.
  std::vector<std::string> origins;
  double lr_in_force = 0.1;
  int rollbacks = 0;
  for (const auto& s : segs) {
    SCOPED_TRACE(s.dump());
    const std::string origin = s["origin"];
    origins.push_back(origin);
    const double lr = s["params"]["lr"];
    if (origin == "set") EXPECT_TRUE(lr == 0.2 || lr == 0.3);
    else if (origin == "rollback") EXPECT_EQ(lr, 0.05);
    else EXPECT_EQ(lr, lr_in_force);
    lr_in_force = lr;
    if (s["state"] != "complete") continue;
    const int step = s["step"];
    const json& t = trial.at(s["number"].get<int>());
    const double first = t["intermediate"][std::to_string(step + 1)];
    if (s["restore_trial"].is_null()) {
      EXPECT_EQ(step, 0);
      EXPECT_EQ(first, 10.0 - lr);
      continue;
    }
    const json& source = by_number.at(s["restore_trial"].get<int>());
    EXPECT_EQ(source["stop"], step) << "restored the checkpoint of the step it starts at";
    EXPECT_EQ(first, source["value"].get<double>() - lr) << "did not continue the restored loss";
    if (origin == "rollback") {
      ++rollbacks;
      EXPECT_EQ(step, 2);
      EXPECT_EQ(s["branch"], 1);
      EXPECT_EQ(source["branch"], 0);
      EXPECT_EQ(s["changes"]["lr"][1], 0.05);
    } else {
      EXPECT_EQ(s["restore_trial"], s["parent_trial"]) << "continues its own previous segment";
    }
  }
  EXPECT_EQ(rollbacks, 1);
  const std::vector<std::string> want = {"start", "set", "rollback", "set"};
  std::vector<std::string> changes;
  for (const auto& o : origins)
    if (o != "continue") changes.push_back(o);
  EXPECT_EQ(changes, want);
  // Every intervention is listed with the segment that applied it.
  const json tree = cli_json(tmp.path(), {"babysit", "status", "cfg.yaml", "--format", "json"});
  int applied = 0;
  for (const auto& c : tree["controls"]) applied += !c["applied_by"].is_null();
  EXPECT_EQ(applied, 3) << tree["controls"].dump();
  CliResult table = run_caviar(tmp.path(), {"trials", "cfg.yaml", "--lineage"});
  EXPECT_NE(table.out.find("rollback to step 2"), std::string::npos) << table.out;
}

// `points` per spiral arm: 1500 trains an epoch in milliseconds, 60000 in about half a second.
std::string trainer_config(int points = 1500, const std::string& extra = "") {
  return "study: panda\nstorage: sqlite:///study.db\nmetric: val_loss\n"
         "objective:\n  builtin: mlp\n"
         "  args: {dataset: spirals, spiral_points: " + std::to_string(points) +
         ", layers: 2, batch_size: 32, optimizer: adam, threads: 1}\n"
         "parameters:\n  lr: {type: float, low: 1.0e-4, high: 0.3, scale: log}\n"
         "  weight_decay: {type: float, low: 1.0e-6, high: 1.0e-2, scale: log}\n"
         "  units: {type: int, low: 8, high: 64}\n" + extra;
}

TEST(BabysitBuiltin, ControlsGivenWhileNothingRunsApplyAtTheNextStart) {
  TempDir tmp;
  write_file(tmp / "cfg.yaml", trainer_config());
  auto babysit = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "babysit");
    CliResult r = run_caviar(tmp.path(), args, std::chrono::seconds(120));
    EXPECT_EQ(r.rc, 0) << r.describe();
    return r;
  };
  CliResult first = babysit({"cfg.yaml", "--epochs", "2", "--set", "lr=0.01", "weight_decay=1e-5", "units=48"});
  EXPECT_NE(first.err.find("step 2/2"), std::string::npos) << first.err;
  EXPECT_NE(first.out.find("model of study 'panda': step 2"), std::string::npos) << first.out;
  CliResult refused = run_caviar(tmp.path(), {"babysit", "set", "cfg.yaml", "units=16"});
  EXPECT_EQ(refused.rc, 2);
  EXPECT_NE(refused.err.find("units: cannot change during training"), std::string::npos) << refused.err;
  babysit({"set", "cfg.yaml", "lr=0.003"});
  babysit({"cfg.yaml", "--epochs", "4"});
  babysit({"rollback", "cfg.yaml", "--to", "2", "lr=0.001"});
  babysit({"pause", "cfg.yaml"});
  babysit({"resume", "cfg.yaml"});
  babysit({"cfg.yaml", "--epochs", "4"});

  const json segs = segments(tmp.path());
  ASSERT_EQ(segs.size(), 6u) << segs.dump(1);
  const std::vector<std::tuple<std::string, int, int, double, int>> want = {
      // origin, step, branch, lr, restore_trial (-1: none)
      {"start", 0, 0, 0.01, -1},  {"continue", 1, 0, 0.01, 0},   {"set", 2, 0, 0.003, 1},
      {"continue", 3, 0, 0.003, 2}, {"rollback", 2, 1, 0.001, 1}, {"continue", 3, 1, 0.001, 4}};
  for (std::size_t i = 0; i < want.size(); ++i) {
    const auto& [origin, step, branch, lr, restore] = want[i];
    SCOPED_TRACE(segs[i].dump());
    EXPECT_EQ(segs[i]["state"], "complete");
    EXPECT_EQ(segs[i]["origin"], origin);
    EXPECT_EQ(segs[i]["step"], step);
    EXPECT_EQ(segs[i]["branch"], branch);
    EXPECT_EQ(segs[i]["params"]["lr"], lr);
    EXPECT_EQ(segs[i]["restore_trial"], restore < 0 ? json(nullptr) : json(restore));
    EXPECT_TRUE(segs[i]["test_acc"].is_number());
  }
  CliResult status = run_caviar(tmp.path(), {"babysit", "status", "cfg.yaml"});
  EXPECT_NE(status.out.find("best day: trial #"), std::string::npos) << status.out;
  // The report carries the tree for its plots.
  CliResult report = run_caviar(tmp.path(), {"report", "cfg.yaml", "--out", "report.html"});
  ASSERT_EQ(report.rc, 0) << report.describe();
  const std::string html = read_file(tmp / "report.html");
  EXPECT_NE(html.find("\"babysit\":{\"best_day\":{"), std::string::npos);
}

// The checkpoint files of the last complete segment of the model.
std::map<std::string, std::string> last_checkpoint(const fs::path& dir) {
  json trials = cli_json(dir, {"trials", "cfg.yaml", "--format", "json"});
  std::string folder;
  for (const auto& t : trials)
    if (t["state"] == "complete") folder = t["system_attrs"]["caviar:checkpoint_dir"];
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(folder))
    if (e.is_regular_file()) files[fs::relative(e.path(), folder).string()] = read_file(e.path());
  return files;
}

TEST(BabysitBuiltin, SigkilledBabysitterContinuesByteIdentical) {
  TempDir whole, killed;
  for (const TempDir* d : {&whole, &killed}) write_file(d->path() / "cfg.yaml", trainer_config(60000, "heartbeat: 0.2s\n"));
  const std::vector<std::string> args = {"babysit", "cfg.yaml", "--epochs", "4", "-q", "--set", "lr=0.01",
                                         "weight_decay=1e-5", "units=64"};
  CliResult a = run_caviar(whole.path(), args, std::chrono::seconds(120));
  ASSERT_EQ(a.rc, 0) << a.describe();
  {
    CaviarProcess sitter(killed.path(), args);
    ASSERT_TRUE(poll_until([&] {
      for (const auto& t : stored(killed / "study.db", "panda"))
        if (t.state == TrialState::Running && t.system_attrs["caviar:babysit"].value("step", 0) >= 1) return true;
      return false;
    }, std::chrono::seconds(60))) << sitter.err_so_far();
    sitter.signal(SIGKILL);
    sitter.wait();
  }
  CliResult b = run_caviar(killed.path(), args, std::chrono::seconds(120));
  ASSERT_EQ(b.rc, 0) << b.describe();
  const json segs = segments(killed.path());
  int reruns = 0;
  for (const auto& s : segs) reruns += !s["rerun_of"].is_null();
  EXPECT_EQ(reruns, 1) << segs.dump(1);
  const auto want = last_checkpoint(whole.path()), got = last_checkpoint(killed.path());
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(got, want) << "the killed and continued model differs from the one never killed";
}

}  // namespace
}  // namespace caviar
