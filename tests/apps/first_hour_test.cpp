// The first hour of a new user works (issue 29, item 10): a mistake in the command stops
// `caviar tune` early with its reason instead of spending the budget; failures say what
// went wrong on one line; failed trials run again and studies are deleted from the CLI;
// every value a trial prints is kept; typos and bad arguments get caviar's errors; the live
// line fits the terminal; CAVIAR_STORAGE names a default storage. Real `caviar` processes,
// real SQLite files (and the test PostgreSQL server for the stores' own tests).
#include <gtest/gtest.h>

#include <poll.h>
#include <pty.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caviar/attributes.h"
#include "caviar/error.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "support/cli.h"
#include "support/files.h"
#include "support/postgres.h"
#include "support/stores.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using caviar::testing::CliResult;
using caviar::testing::read_file;
using caviar::testing::run_caviar;
using caviar::testing::TempDir;
using caviar::testing::write_file;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A study of `command` (YAML flow list) on one float x, metric `value`.
fs::path write_study(const fs::path& dir, const std::string& command, int trials, int parallel = 1,
                     const std::string& extra = "storage: sqlite:///study.db\n", const std::string& name = "first") {
  write_file(dir / (name + ".yaml"), "study: " + name + "\n" + extra + "metric: value\n"
                                     "objective:\n  command: " + command + "\n"
                                     "parameters:\n  x: {type: float, low: 0, high: 1}\n"
                                     "budget: {trials: " + std::to_string(trials) +
                                     ", parallel: " + std::to_string(parallel) + "}\n");
  return dir / (name + ".yaml");
}

json trials_json(const fs::path& dir, const fs::path& cfg) {
  CliResult r = run_caviar(dir, {"trials", cfg.string(), "--format", "json"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  json t = json::parse(r.out, nullptr, false);
  return t.is_array() ? t : json::array();
}

long long sqlite_count(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  long long n = -1;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

// A command that fails as a script given a flag it does not take does.
const char* kUsageError =
    "[python3, -c, 'import sys; sys.stderr.write(\"usage: train.py [-h] --lr LR\\ntrain.py: error: unrecognized "
    "arguments: --batch \" + sys.argv[1] + \"\\n\"); sys.exit(2)', '{x}']";

}  // namespace

// ---------------------------------------------------------------- stopping early

TEST(FirstHour, TrialsThatAllFailAlikeStopTuneEarlyWithTheReasonAndTheLog) {
  TempDir tmp;
  fs::path cfg = write_study(tmp.path(), kUsageError, 50, 2);
  CliResult r = run_caviar(tmp.path(), {"tune", cfg.string()});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_TRUE(has(r.err, "stopped early: the first 5 trials all failed the same way")) << r.err;
  EXPECT_TRUE(has(r.err, "exit code 2: train.py: error: unrecognized arguments: --batch")) << r.err;
  EXPECT_TRUE(has(r.err, "/stderr.log")) << r.err;
  EXPECT_TRUE(has(r.err, "--rerun-failed")) << r.err;
  json trials = trials_json(tmp.path(), cfg);
  int failed_counted = 0;
  for (const auto& t : trials)
    if (t["state"] == "failed" && !t["system_attrs"].value("caviar:uncounted", false)) ++failed_counted;
  EXPECT_EQ(failed_counted, 5) << trials.dump();
  EXPECT_LE(trials.size(), 7u) << "the rest of the budget of 50 is not spent";
  // The log it names is there and holds the error.
  const std::string mark = "log: ";
  const auto at = r.err.find(mark);
  ASSERT_NE(at, std::string::npos);
  const std::string log = r.err.substr(at + mark.size(), r.err.find('\n', at) - at - mark.size());
  EXPECT_TRUE(has(read_file(log), "unrecognized arguments")) << log;
}

TEST(FirstHour, TheTableShowsTheLastLineOfAFailuresStderr) {
  TempDir tmp;
  fs::path cfg = write_study(tmp.path(), kUsageError, 1);
  EXPECT_EQ(run_caviar(tmp.path(), {"tune", cfg.string(), "-q"}).rc, 1);
  CliResult r = run_caviar(tmp.path(), {"trials", cfg.string()});
  EXPECT_EQ(r.rc, 0) << r.describe();
  EXPECT_TRUE(has(r.out, "exit code 2: train.py: error: unrecognized arguments: --batch 0.")) << r.out;
}

TEST(FirstHour, KeepGoingSpendsTheBudgetAndDifferentFailuresDoNotStopEarly) {
  TempDir tmp;
  fs::path cfg = write_study(tmp.path(), kUsageError, 7);
  CliResult r = run_caviar(tmp.path(), {"tune", cfg.string(), "-q", "--keep-going"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_FALSE(has(r.err, "stopped early")) << r.err;
  EXPECT_EQ(trials_json(tmp.path(), cfg).size(), 7u);

  // Three different errors by turns: not one mistake, so the budget runs.
  TempDir other;
  fs::path varied = write_study(other.path(),
                                "[python3, -c, 'import os, sys; sys.stderr.write([\"out of memory\", \"bad file\", "
                                "\"no network\"][int(os.environ[\"CAVIAR_TRIAL\"]) % 3]); sys.exit(1)']",
                                7);
  r = run_caviar(other.path(), {"tune", varied.string(), "-q"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  EXPECT_FALSE(has(r.err, "stopped early")) << r.err;
  EXPECT_EQ(trials_json(other.path(), varied).size(), 7u);
}

TEST(FirstHour, OneCompleteTrialAmongTheFirstKeepsTheRunGoing) {
  TempDir tmp;
  // Trial 0 completes, the rest fail alike: the command works, so the budget runs.
  fs::path cfg = write_study(tmp.path(),
                             "[python3, -c, 'import os, sys; n = int(os.environ[\"CAVIAR_TRIAL\"]); "
                             "print(\"value=1\") if n == 0 else sys.exit(3)']",
                             8);
  CliResult r = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  EXPECT_FALSE(has(r.err, "stopped early")) << r.err;
  EXPECT_EQ(trials_json(tmp.path(), cfg).size(), 8u);
}

// ---------------------------------------------------------------- running failed trials again

TEST(FirstHour, FailedTrialsRunAgainWithTheirParamsAndTheOldOnesStopCounting) {
  TempDir tmp;
  write_file(tmp.path() / "broken", "");
  fs::path cfg = write_study(tmp.path(),
                             "[python3, -c, 'import os, sys; os.path.exists(\"broken\") and sys.exit(4); "
                             "print(\"value=\" + sys.argv[1])', '{x}']",
                             4);
  EXPECT_EQ(run_caviar(tmp.path(), {"tune", cfg.string(), "-q", "--keep-going"}).rc, 1);
  fs::remove(tmp.path() / "broken");
  // The budget is used: a plain rerun runs nothing.
  CliResult plain = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"});
  EXPECT_TRUE(has(plain.out, "(0 trials run here")) << plain.describe();

  CliResult r = run_caviar(tmp.path(), {"tune", cfg.string(), "-q", "--rerun-failed"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  EXPECT_TRUE(has(r.err, "4 failed trials of study 'first' will run again as #4-#7")) << r.err;
  json trials = trials_json(tmp.path(), cfg);
  ASSERT_EQ(trials.size(), 8u) << trials.dump();
  for (int i = 0; i < 4; ++i) {
    const json& old = trials[i];
    EXPECT_EQ(old["state"], "failed");
    EXPECT_EQ(old["system_attrs"].value("caviar:uncounted", false), true);
    const int again = old["system_attrs"].value("caviar:rerun_as", -1);
    ASSERT_GE(again, 4);
    ASSERT_LT(again, 8);
    const json& rerun = trials[again];
    EXPECT_EQ(rerun["state"], "complete") << rerun.dump();
    EXPECT_EQ(rerun["params"], old["params"]);
    EXPECT_EQ(rerun["system_attrs"].value("caviar:retry_of", -1), i);
    EXPECT_EQ(rerun["value"], old["params"]["x"]) << "it ran with the same x";
  }
  // Nothing failed is left: asking again enqueues nothing and runs nothing.
  r = run_caviar(tmp.path(), {"tune", cfg.string(), "-q", "--rerun-failed"});
  EXPECT_TRUE(has(r.err, "0 failed trials")) << r.err;
  EXPECT_EQ(trials_json(tmp.path(), cfg).size(), 8u);
}

// ---------------------------------------------------------------- deleting a study

TEST(FirstHour, DeleteAsksForYesAndRemovesEveryRowOfTheStudyAndNoOther) {
  TempDir tmp;
  fs::path keep = write_study(tmp.path(), "[python3, -c, 'print(\"epoch=1 value=0.5 acc=0.9\")']", 2, 1,
                              "storage: sqlite:///study.db\n", "keep");
  fs::path gone = write_study(tmp.path(), "[python3, -c, 'print(\"epoch=1 value=0.5 acc=0.9\")']", 3, 1,
                              "storage: sqlite:///study.db\n", "gone");
  ASSERT_EQ(run_caviar(tmp.path(), {"tune", keep.string(), "-q"}).rc, 0);
  ASSERT_EQ(run_caviar(tmp.path(), {"tune", gone.string(), "-q"}).rc, 0);
  const fs::path db = tmp.path() / "study.db";
  const long long rows_before = sqlite_count(db, "SELECT count(*) FROM trials");
  ASSERT_EQ(rows_before, 5);

  CliResult r = run_caviar(tmp.path(), {"delete", "--storage", "sqlite:///study.db", "--study", "gone"});
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(has(r.err, "caviar: study 'gone': not deleted: add --yes")) << r.err;
  EXPECT_EQ(sqlite_count(db, "SELECT count(*) FROM trials"), 5) << "nothing deleted without --yes";

  r = run_caviar(tmp.path(), {"delete", "--storage", "sqlite:///study.db", "--study", "gone", "--yes"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  EXPECT_TRUE(has(r.out, "deleted study 'gone' and its 3 trials")) << r.out;
  EXPECT_EQ(sqlite_count(db, "SELECT count(*) FROM studies"), 1);
  EXPECT_EQ(sqlite_count(db, "SELECT count(*) FROM trials"), 2);
  for (const char* table : {"trial_values", "trial_intermediate_values", "trial_params", "trial_system_attributes"})
    EXPECT_EQ(sqlite_count(db, std::string("SELECT count(*) FROM ") + table +
                                   " WHERE trial_id NOT IN (SELECT trial_id FROM trials)"),
              0)
        << table << " keeps rows of deleted trials";
  for (const char* table : {"study_directions", "study_system_attributes"})
    EXPECT_EQ(sqlite_count(db, std::string("SELECT count(*) FROM ") + table +
                                   " WHERE study_id NOT IN (SELECT study_id FROM studies)"),
              0)
        << table;
  r = run_caviar(tmp.path(), {"trials", gone.string()});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(has(r.err, "not found")) << r.err;
  EXPECT_EQ(trials_json(tmp.path(), keep).size(), 2u);
  // The name is free again: the study starts afresh.
  EXPECT_EQ(run_caviar(tmp.path(), {"tune", gone.string(), "-q"}).rc, 0);
  EXPECT_EQ(trials_json(tmp.path(), gone).size(), 3u);
}

namespace {

class FirstHourStores : public caviar::testing::EveryStore {
 protected:
  caviar::StudyOptions options(const std::string& name) {
    caviar::StudyOptions o;
    o.name = name;
    o.space = caviar::SearchSpace::from_config_json(json::parse(R"({"x": {"type": "float", "low": 0, "high": 1}})"));
    o.budget = 3;
    return o;
  }
};

}  // namespace

TEST_P(FirstHourStores, RerunFailedEnqueuesTheirParamsOnceAndFreesTheirBudget) {
  caviar::Study study(storage_, options("rerun"));
  std::vector<double> xs;
  for (int i = 0; i < 3; ++i) {
    auto t = study.ask(false);
    ASSERT_TRUE(t);
    xs.push_back(t->float_param("x"));
    if (i == 1) study.tell(*t, 0.5);
    else study.tell_failed(*t, "broken");
  }
  EXPECT_FALSE(study.ask(false)) << "the budget is used";
  auto again = storage_->rerun_failed(study.record().id, study.space());
  ASSERT_EQ(again.size(), 2u);
  EXPECT_TRUE(storage_->rerun_failed(study.record().id, study.space()).empty()) << "each failure runs again once";
  for (int expect_of : {0, 2}) {
    auto t = study.ask(false);
    ASSERT_TRUE(t) << "a rerun is claimed though the budget was used";
    EXPECT_EQ(t->record().system_attrs.value(caviar::attr::kRetryOf, -1), expect_of);
    EXPECT_EQ(t->float_param("x"), xs[expect_of]);
    study.tell(*t, 0.25);
  }
  EXPECT_FALSE(study.ask(false));
  auto old = *storage_->trial(study.record().id, 0);
  EXPECT_FALSE(old.counted());
  EXPECT_EQ(old.system_attrs.value(caviar::attr::kRerunAs, -1), 3);
  EXPECT_EQ(study.counts().counted, 3);
}

TEST_P(FirstHourStores, DeleteStudyRemovesItAndLeavesTheOthers) {
  caviar::Study keep(storage_, options("keep"));
  caviar::Study gone(storage_, options("gone"));
  for (caviar::Study* s : {&keep, &gone}) {
    auto t = s->ask(false);
    ASSERT_TRUE(t);
    storage_->report(t->id(), 1, 0.7);
    s->tell(*t, 0.5, {{caviar::attr::kMetrics, {{"1", {{"acc", 0.9}}}}}});
    ASSERT_TRUE(s->ask(true));  // one running, with a heartbeat
  }
  storage_->delete_study(gone.record().id);
  EXPECT_FALSE(storage_->find_study("gone"));
  ASSERT_EQ(storage_->studies().size(), 1u);
  EXPECT_EQ(storage_->studies()[0].name, "keep");
  EXPECT_EQ(keep.trials().size(), 2u);
  EXPECT_EQ(keep.trials()[0].system_attrs[caviar::attr::kMetrics]["1"]["acc"], 0.9);
  EXPECT_THROW(storage_->delete_study(gone.record().id), caviar::UsageError);
  if (GetParam() == "postgres") {  // no row of Optuna's tables is left of the deleted study
    const std::string db = database_->name();
    for (const char* table : {"trial_values", "trial_intermediate_values", "trial_params",
                              "trial_system_attributes", "trial_user_attributes", "trial_heartbeats"})
      EXPECT_EQ(caviar::testing::postgres_query(std::string("SELECT count(*) FROM ") + table +
                                                    " WHERE trial_id NOT IN (SELECT trial_id FROM trials)",
                                                db),
                "0")
          << table;
    for (const char* table : {"trials", "study_directions", "study_system_attributes", "study_user_attributes"})
      EXPECT_EQ(caviar::testing::postgres_query(std::string("SELECT count(*) FROM ") + table +
                                                    " WHERE study_id NOT IN (SELECT study_id FROM studies)",
                                                db),
                "0")
          << table;
    EXPECT_EQ(caviar::testing::postgres_query("SELECT count(*) FROM trial_heartbeats", db), "1");
    EXPECT_EQ(caviar::testing::postgres_query("SELECT count(*) FROM studies", db), "1");
  }
  // The name can be used again.
  caviar::Study fresh(storage_, options("gone"));
  EXPECT_TRUE(fresh.trials().empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, FirstHourStores, ::testing::Values("memory", "sqlite", "postgres"));

// ---------------------------------------------------------------- what trials print

TEST(FirstHour, AMissingMetricListsTheKeysThatWerePrinted) {
  TempDir tmp;
  fs::path cfg = write_study(tmp.path(), "[python3, -c, 'print(\"epoch=1 loss=0.3 val_acc=0.9\")']", 1);
  EXPECT_EQ(run_caviar(tmp.path(), {"tune", cfg.string(), "-q"}).rc, 1);
  json t = trials_json(tmp.path(), cfg);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_TRUE(has(t[0].value("reason", ""), "the metric 'value' was never printed on stdout; it printed epoch, "
                                            "loss, val_acc"))
      << t[0].dump();
}

TEST(FirstHour, EveryValueATrialPrintsIsStoredByStepAndShown) {
  TempDir tmp;
  fs::path cfg = write_study(
      tmp.path(),
      "[python3, -c, 'for e in (1, 2): print(\"epoch=%d train_loss=%g\" % (e, 1 / e)); "
      "print(\"epoch=%d value=%g val_acc=%g\" % (e, 0.5 / e, 0.4 * e)); print(\"note=ok Namespace(lr=0.1)\")']",
      1);
  ASSERT_EQ(run_caviar(tmp.path(), {"tune", cfg.string(), "-q"}).rc, 0);
  json t = trials_json(tmp.path(), cfg);
  ASSERT_EQ(t.size(), 1u);
  const json expected = {{"1", {{"train_loss", 1.0}, {"value", 0.5}, {"val_acc", 0.4}}},
                         {"2", {{"train_loss", 0.5}, {"value", 0.25}, {"val_acc", 0.8}}}};
  EXPECT_EQ(t[0]["metrics"], expected) << t[0].dump();
  // Where Optuna reads it: the trial's system attribute caviar:metrics.
  EXPECT_EQ(sqlite_count(tmp.path() / "study.db",
                         "SELECT count(*) FROM trial_system_attributes WHERE key = 'caviar:metrics' AND "
                         "json_extract(value_json, '$.\"2\".val_acc') = 0.8"),
            1);
  CliResult table = run_caviar(tmp.path(), {"trials", cfg.string()});
  EXPECT_TRUE(has(table.out, "train_loss=0.5, val_acc=0.8, value=0.25")) << table.out;
  CliResult csv = run_caviar(tmp.path(), {"export", cfg.string(), "--format", "csv"});
  EXPECT_TRUE(has(csv.out, "metrics_train_loss,metrics_val_acc,metrics_value,reason")) << csv.out;
  EXPECT_TRUE(has(csv.out, ",0.5,0.8,0.25,")) << csv.out;
  CliResult exported = run_caviar(tmp.path(), {"export", cfg.string()});
  EXPECT_EQ(json::parse(exported.out)["trials"][0]["metrics"], expected);
  ASSERT_EQ(run_caviar(tmp.path(), {"report", cfg.string(), "--out", "r.html"}).rc, 0);
  const std::string html = read_file(tmp.path() / "r.html");
  EXPECT_TRUE(has(html, "id=\"printed-metrics\"")) << "the report's table of printed values";
  EXPECT_TRUE(has(html, "<th>val_acc</th>"));
}

// ---------------------------------------------------------------- the command line

TEST(FirstHour, AMistypedCommandGetsADidYouMeanAndArgumentErrorsReadLikeCaviars) {
  TempDir tmp;
  CliResult r = run_caviar(tmp.path(), {"tnue", "study.yaml"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(has(r.err, "caviar: 'tnue' is not a caviar command; did you mean 'tune'?")) << r.err;
  r = run_caviar(tmp.path(), {"trails"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(has(r.err, "did you mean 'trials'")) << r.err;
  r = run_caviar(tmp.path(), {});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err.rfind("caviar: a command is required: tune, ", 0), 0u) << r.err;
  r = run_caviar(tmp.path(), {"trials", "--bogus"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err.rfind("caviar: trials: ", 0), 0u) << r.err;
  EXPECT_TRUE(has(r.err, "--bogus")) << r.err;
  r = run_caviar(tmp.path(), {"tune", "--parallel", "many", "x.yaml"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err.rfind("caviar: tune: ", 0), 0u) << r.err;
  r = run_caviar(tmp.path(), {"--help"});
  EXPECT_EQ(r.rc, 0) << "help is not an error";
}

TEST(FirstHour, CaviarStorageIsTheDefaultStorageAndFlagsAndConfigsWin) {
  TempDir tmp;
  const std::string env_db = "sqlite:///" + (tmp.path() / "env.db").string();
  fs::path plain = write_study(tmp.path(), "[python3, -c, 'print(\"value=1\")']", 1, 1, "", "plain");
  fs::path named = write_study(tmp.path(), "[python3, -c, 'print(\"value=1\")']", 1, 1,
                               "storage: sqlite:///own.db\n", "named");
  setenv("CAVIAR_STORAGE", env_db.c_str(), 1);
  EXPECT_EQ(run_caviar(tmp.path(), {"tune", plain.string(), "-q"}).rc, 0);
  EXPECT_EQ(run_caviar(tmp.path(), {"tune", named.string(), "-q"}).rc, 0);
  CliResult listed = run_caviar(tmp.path(), {"studies"});
  EXPECT_EQ(run_caviar(tmp.path(), {"tune", plain.string(), "-q", "--study", "flagged", "--storage",
                                    "sqlite:///flag.db"}).rc,
            0);
  unsetenv("CAVIAR_STORAGE");
  EXPECT_EQ(sqlite_count(tmp.path() / "env.db", "SELECT count(*) FROM studies WHERE study_name = 'plain'"), 1)
      << "a config without storage: uses $CAVIAR_STORAGE";
  EXPECT_FALSE(fs::exists(tmp.path() / "caviar.db"));
  EXPECT_EQ(sqlite_count(tmp.path() / "own.db", "SELECT count(*) FROM studies"), 1) << "the config's storage: wins";
  EXPECT_EQ(sqlite_count(tmp.path() / "env.db", "SELECT count(*) FROM studies"), 1);
  EXPECT_EQ(sqlite_count(tmp.path() / "flag.db", "SELECT count(*) FROM studies"), 1) << "--storage wins";
  EXPECT_TRUE(has(listed.out, "plain")) << "studies reads $CAVIAR_STORAGE: " << listed.describe();
}

// ---------------------------------------------------------------- the live line

TEST(FirstHour, TheLiveLineFitsTheTerminalItIsDrawnOn) {
  TempDir tmp;
  // Long parameter names make a line far wider than 60 columns.
  write_file(tmp.path() / "wide.yaml",
             "study: wide\nstorage: sqlite:///study.db\nmetric: value\n"
             "objective:\n  command: [python3, -c, 'import time; time.sleep(0.3); print(\"value=0.5\")']\n"
             "parameters:\n"
             "  a_rather_long_learning_rate_name: {type: float, low: 1e-5, high: 1, scale: log}\n"
             "  another_quite_long_momentum_name: {type: float, low: 0.9, high: 0.999}\n"
             "budget: {trials: 6, parallel: 2}\n");
  const int columns = 60;
  struct winsize ws {};
  ws.ws_col = columns;
  ws.ws_row = 24;
  int master = -1;
  std::string binary = CAVIAR_BINARY, cfg = (tmp.path() / "wide.yaml").string(), dir = tmp.path().string();
  pid_t pid = forkpty(&master, nullptr, nullptr, &ws);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(126);
    unsetenv("COLUMNS");
    execl(binary.c_str(), binary.c_str(), "tune", cfg.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string out;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      char buf[4096];
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) break;  // EIO: the child side closed
      out.append(buf, static_cast<std::size_t>(n));
    } else if (waitpid(pid, nullptr, WNOHANG) == pid) {
      pid = -1;
      break;
    }
  }
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  close(master);
  int drawn = 0, clipped = 0;
  for (std::size_t at = out.find("\r\033[K"); at != std::string::npos; at = out.find("\r\033[K", at + 1)) {
    const std::size_t start = at + 4, end = out.find_first_of("\r\n", start);
    const std::string line = out.substr(start, end == std::string::npos ? std::string::npos : end - start);
    ++drawn;
    clipped += line.ends_with("...");
    EXPECT_LT(line.size(), static_cast<std::size_t>(columns)) << "wraps on a " << columns << "-column terminal: " << line;
  }
  EXPECT_GT(drawn, 0) << out;
  EXPECT_GT(clipped, 0) << "the best trial's parameters make the line wider than the terminal: " << out;
}
