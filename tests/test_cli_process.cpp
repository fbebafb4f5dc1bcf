// The `caviar` command line as a process: real subprocesses, real signals, real SQLite
// files. Each test writes a YAML config into a fresh temporary folder, runs the built CLI
// (CAVIAR_BINARY) in it, and checks exit codes, output and what the database holds.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "caviar/config.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "support/files.h"
#include "support/postgres.h"
#include "support/processes.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using caviar::testing::TempDir;
using caviar::testing::process_gone;
using caviar::testing::read_file;
using caviar::testing::write_file;

using SteadyClock = std::chrono::steady_clock;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct Result {
  int rc = -1;          // exit status, or 128 + signal
  std::string out, err;
  double seconds = 0;
};

// A `caviar` process started in `dir`, in a process group of its own, with stdout and
// stderr going to files (a pipe would be held open by the caviar-reaper it forks).
class Caviar {
 public:
  Caviar(const fs::path& dir, std::vector<std::string> args) : dir_(dir) {
    static int counter = 0;
    std::string tag = std::to_string(getpid()) + "-" + std::to_string(counter++);
    out_ = dir / ("out-" + tag + ".txt");
    err_ = dir / ("err-" + tag + ".txt");
    args.insert(args.begin(), CAVIAR_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string out = out_.string(), err = err_.string(), cwd = dir.string();
    start_ = SteadyClock::now();
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int n = open("/dev/null", O_RDONLY);
      if (o < 0 || e < 0 || n < 0 || chdir(cwd.c_str()) != 0) _exit(126);
      dup2(n, 0), dup2(o, 1), dup2(e, 2);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Caviar() {
    if (!done_ && pid_ > 0) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void signal(int sig) { kill(pid_, sig); }

  // Waits for the exit; after `limit` the process group is killed and the test fails.
  Result wait(std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    Result r;
    int status = 0;
    auto until = SteadyClock::now() + limit;
    while (true) {
      pid_t w = waitpid(pid_, &status, WNOHANG);
      if (w == pid_) break;
      if (SteadyClock::now() > until) {
        ADD_FAILURE() << "caviar did not finish within " << limit.count() << " ms; killed";
        kill(-pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    done_ = true;
    r.seconds = std::chrono::duration<double>(SteadyClock::now() - start_).count();
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_file(out_);
    r.err = read_file(err_);
    return r;
  }

 private:
  fs::path dir_, out_, err_;
  pid_t pid_ = -1;
  bool done_ = false;
  SteadyClock::time_point start_;
};

Result run_cli(const fs::path& dir, std::vector<std::string> args,
              std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  Caviar c(dir, std::move(args));
  return c.wait(limit);
}

std::string describe(const Result& r) {
  return "rc=" + std::to_string(r.rc) + "\n--- stdout:\n" + r.out + "\n--- stderr:\n" + r.err;
}

// A config: `command` is a YAML flow list, `extra` more top-level lines.
std::string config_text(const std::string& study, const std::string& command, int budget,
                        const std::string& extra = "",
                        const std::string& parameters = "  x: {type: float, low: 0, high: 1}\n") {
  return "study: " + study + "\n"
         "storage: sqlite:///study.db\n"
         "direction: minimize\n"
         "metric: value\n"
         "objective:\n"
         "  command: " + command + "\n"
         "parameters:\n" + parameters +
         "budget: {trials: " + std::to_string(budget) + "}\n" + extra;
}

fs::path write_config(const fs::path& dir, const std::string& text, const std::string& name = "cfg.yaml") {
  write_file(dir / name, text);
  return dir / name;
}

json trials_json(const fs::path& dir, const fs::path& cfg) {
  Result r = run_cli(dir, {"trials", cfg.string(), "--format", "json"});
  EXPECT_EQ(r.rc, 0) << describe(r);
  try {
    return json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "trials --format json is not JSON: " << e.what() << "\n" << r.out;
    return json::array();
  }
}

std::map<std::string, int> count_states(const json& trials) {
  std::map<std::string, int> out;
  for (const auto& t : trials) ++out[t["state"].get<std::string>()];
  return out;
}

// Waits until every pid is gone; returns those still alive after `limit` (and kills them).
std::vector<pid_t> survivors(const std::vector<pid_t>& pids, std::chrono::milliseconds limit) {
  auto until = SteadyClock::now() + limit;
  std::vector<pid_t> alive;
  do {
    alive.clear();
    for (pid_t p : pids)
      if (!process_gone(p)) alive.push_back(p);
    if (alive.empty()) return alive;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  } while (SteadyClock::now() < until);
  for (pid_t p : alive) kill(p, SIGKILL);
  return alive;
}

// The pids written by trials into <trial folder>/<file>, for every trial folder under root.
std::vector<pid_t> trial_pids(const fs::path& root, const std::string& file) {
  std::vector<pid_t> pids;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return pids;
  for (const auto& entry : fs::directory_iterator(root)) {
    std::string text = read_file(entry.path() / file);
    if (!text.empty() && text.back() == '\n') pids.push_back(static_cast<pid_t>(std::stol(text)));
  }
  return pids;
}

int count_files(const fs::path& root, const std::string& file) {
  int n = 0;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return 0;
  for (const auto& entry : fs::directory_iterator(root))
    if (fs::exists(entry.path() / file)) ++n;
  return n;
}

template <typename F>
bool wait_until(F condition, std::chrono::milliseconds limit) {
  auto until = SteadyClock::now() + limit;
  while (SteadyClock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

}  // namespace

// ---------------------------------------------------------------- tune

TEST(CliTune, ParallelEightRuns32OneSecondTrialsInAboutFourSeconds) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(), config_text("par", "[sh, -c, 'sleep 1; echo value={x}']", 32));
  Result r = run_cli(tmp.path(), {"tune", cfg.string(), "--parallel", "8", "-q"});
  ASSERT_EQ(r.rc, 0) << describe(r);
  EXPECT_GE(r.seconds, 3.9) << describe(r);
  EXPECT_LT(r.seconds, 7.0) << describe(r);
  json trials = trials_json(tmp.path(), cfg);
  ASSERT_EQ(trials.size(), 32u);
  EXPECT_EQ(count_states(trials)["complete"], 32);
  for (const auto& t : trials) EXPECT_DOUBLE_EQ(t["value"].get<double>(), t["params"]["x"].get<double>());
}

TEST(CliBudget, RestartRunsOnlyWhatIsMissing) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(), config_text("budget", "[sh, -c, 'echo value={x}']", 6));
  Result first = run_cli(tmp.path(), {"tune", cfg.string(), "-q"});
  ASSERT_EQ(first.rc, 0) << describe(first);
  json t1 = trials_json(tmp.path(), cfg);
  ASSERT_EQ(t1.size(), 6u);
  EXPECT_EQ(count_states(t1)["complete"], 6);

  Result second = run_cli(tmp.path(), {"tune", cfg.string(), "-q"});
  ASSERT_EQ(second.rc, 0) << describe(second);
  json t2 = trials_json(tmp.path(), cfg);
  EXPECT_EQ(t2, t1) << "a run at its budget must not start or change any trial";

  Result third = run_cli(tmp.path(), {"tune", cfg.string(), "--trials", "9", "-q"});
  ASSERT_EQ(third.rc, 0) << describe(third);
  json t3 = trials_json(tmp.path(), cfg);
  ASSERT_EQ(t3.size(), 9u);
  EXPECT_EQ(count_states(t3)["complete"], 9);
  std::set<int> numbers;
  for (const auto& t : t3) numbers.insert(t["number"].get<int>());
  EXPECT_EQ(numbers, (std::set<int>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  for (std::size_t i = 0; i < t1.size(); ++i) EXPECT_EQ(t3[i], t1[i]);
}

TEST(CliRestart, SigkillLeavesNoOrphansAndRestartFailsStaleTrials) {
  TempDir tmp;
  // A trial sleeps 0.5 s, or 30 s once the file `long` exists (to be caught running).
  std::string script =
      R"('echo $$ > "$CAVIAR_TRIAL_DIR/pid"; if [ -e long ]; then sleep 30 & echo $! > "$CAVIAR_TRIAL_DIR/sleep_pid"; touch "$CAVIAR_TRIAL_DIR/long"; wait; fi; sleep 0.5; echo value={x}')";
  fs::path cfg = write_config(tmp.path(), "study: restart\nstorage: sqlite:///study.db\nmetric: value\n"
                                          "objective:\n  command: [sh, -c, " + script + "]\n"
                                          "parameters:\n  x: {type: float, low: 0, high: 1}\n"
                                          "budget: {trials: 12, parallel: 2}\nheartbeat: 0.5s\nstale_after: 2s\n");
  fs::path runs = caviar::load_config(cfg).trial_root;  // caviar-runs/<study>-<hash>

  auto first = std::make_unique<Caviar>(tmp.path(), std::vector<std::string>{"tune", cfg.string(), "-q"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  write_file(tmp.path() / "long", "");
  ASSERT_TRUE(wait_until([&] { return count_files(runs, "long") >= 2; }, std::chrono::seconds(5)))
      << "two long trials never started";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  first->signal(SIGKILL);
  Result killed = first->wait(std::chrono::seconds(5));
  auto killed_at = SteadyClock::now();
  EXPECT_EQ(killed.rc, 128 + SIGKILL);
  fs::remove(tmp.path() / "long");

  // The caviar-reaper ends the trials' process groups: no orphan survives.
  std::vector<pid_t> pids = trial_pids(runs, "pid"), sleeps = trial_pids(runs, "sleep_pid");
  ASSERT_GE(sleeps.size(), 2u);
  pids.insert(pids.end(), sleeps.begin(), sleeps.end());
  std::vector<pid_t> alive = survivors(pids, std::chrono::seconds(3));
  EXPECT_TRUE(alive.empty()) << alive.size() << " trial processes outlived a SIGKILLed caviar";

  json before = trials_json(tmp.path(), cfg);
  std::map<int, double> complete_before;
  std::set<int> running_before;
  for (const auto& t : before) {
    if (t["state"] == "complete") complete_before[t["number"].get<int>()] = t["value"].get<double>();
    if (t["state"] == "running") running_before.insert(t["number"].get<int>());
  }
  EXPECT_GE(running_before.size(), 2u) << before.dump(1);
  EXPECT_GE(complete_before.size(), 1u) << before.dump(1);

  // Their heartbeats stop with caviar; 2 s later they are stale.
  std::this_thread::sleep_until(killed_at + std::chrono::milliseconds(2600));
  Result second = run_cli(tmp.path(), {"tune", cfg.string(), "-q"}, std::chrono::seconds(30));
  ASSERT_EQ(second.rc, 0) << describe(second);
  json after = trials_json(tmp.path(), cfg);
  auto states = count_states(after);
  EXPECT_EQ(states["complete"], 12) << after.dump(1);
  EXPECT_EQ(states["running"], 0);
  EXPECT_EQ(states["failed"], static_cast<int>(running_before.size()));
  for (const auto& t : after) {
    int n = t["number"].get<int>();
    if (running_before.count(n)) {
      EXPECT_EQ(t["state"], "failed") << t.dump();
      EXPECT_EQ(t["reason"].get<std::string>().rfind("stale", 0), 0u) << t.dump();
      EXPECT_EQ(t["system_attrs"].value("caviar:uncounted", false), true) << t.dump();
    }
    if (complete_before.count(n)) {
      EXPECT_EQ(t["state"], "complete");
      EXPECT_EQ(t["value"].get<double>(), complete_before[n]);
    }
  }
}

// Four `caviar tune` processes on one study in `storage`: one budget, numbers 0-39 once each.
void four_processes_share_one_study(const std::string& storage) {
  TempDir tmp;
  std::string text = config_text("shared", "[sh, -c, 'echo value={x}']", 40);
  text.replace(text.find("sqlite:///study.db"), std::string("sqlite:///study.db").size(), storage);
  fs::path cfg = write_config(tmp.path(), text);
  std::vector<std::unique_ptr<Caviar>> procs;
  for (int i = 0; i < 4; ++i)
    procs.push_back(std::make_unique<Caviar>(tmp.path(), std::vector<std::string>{"tune", cfg.string(), "-q"}));
  for (auto& p : procs) {
    Result r = p->wait(std::chrono::seconds(60));
    EXPECT_EQ(r.rc, 0) << describe(r);
    EXPECT_FALSE(contains(lower(r.err), "locked")) << r.err;
  }
  json trials = trials_json(tmp.path(), cfg);
  ASSERT_EQ(trials.size(), 40u);
  EXPECT_EQ(count_states(trials)["complete"], 40);
  std::set<int> numbers;
  for (const auto& t : trials) numbers.insert(t["number"].get<int>());
  EXPECT_EQ(numbers.size(), 40u);
  EXPECT_EQ(*numbers.begin(), 0);
  EXPECT_EQ(*numbers.rbegin(), 39);
}

TEST(CliConcurrent, FourProcessesShareOneStudy) { four_processes_share_one_study("sqlite:///study.db"); }

// The same on a real PostgreSQL server (scripts/test.sh starts one).
TEST(CliConcurrent, FourProcessesShareOneStudyOnPostgres) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  four_processes_share_one_study(db.url());
}

// Pruning across processes: one `caviar tune` trains 9 trials of a study with ASHA (rungs
// at epochs 1 and 3); a second process, later, on the same storage, runs trials whose
// curves are worse than all of those. ASHA judges each against every report in the study,
// so each is stopped at epoch 1. A pruner that saw only its own process's trials would let
// the second process's first trial go on (it would have no one to compare it with).
void pruning_sees_other_processes(const std::string& storage) {
  TempDir tmp;
  // value = offset + 10 / epoch, one epoch every `pause` seconds.
  auto config = [&](const std::string& offset, const std::string& pause, int budget) {
    std::string text = config_text(
        "asha",
        "[sh, -c, 'for e in 1 2 3 4 5 6 7 8 9; do echo \"epoch=$e value=$(($0 + 10 / $e))\"; sleep $1; done', '" +
            offset + "', '" + pause + "']",
        budget, "pruner: {name: asha, min_resource: 1, max_resource: 9, reduction_factor: 3}\n");
    text.replace(text.find("sqlite:///study.db"), std::string("sqlite:///study.db").size(), storage);
    return text;
  };
  fs::path first = write_config(tmp.path(), config("0", "0", 9), "first.yaml");
  fs::path second = write_config(tmp.path(), config("100", "0.3", 12), "second.yaml");
  Result a = run_cli(tmp.path(), {"tune", first.string(), "-q"});
  ASSERT_EQ(a.rc, 0) << describe(a);
  Result b = run_cli(tmp.path(), {"tune", second.string(), "-q"});
  ASSERT_EQ(b.rc, 0) << describe(b);
  json trials = trials_json(tmp.path(), second);
  ASSERT_EQ(trials.size(), 12u) << trials.dump(1);
  for (const auto& t : trials) {
    if (t["number"].get<int>() < 9) continue;
    // Stopped after its epoch-1 report (100 + 10 / 1), before its last epoch.
    EXPECT_EQ(t["state"], "pruned") << t.dump();
    EXPECT_EQ(t["intermediate"]["1"].get<double>(), 110.0) << t.dump();
    EXPECT_LT(t["intermediate"].size(), 9u) << t.dump();
  }
}

TEST(CliPruning, PruningSeesTrialsOfOtherProcessesOnSqlite) { pruning_sees_other_processes("sqlite:///study.db"); }

TEST(CliPruning, PruningSeesTrialsOfOtherProcessesOnPostgres) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  pruning_sees_other_processes(db.url());
}

TEST(CliConcurrent, SixteenProcessesOnOneFreshSqliteFile) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(), config_text("crowd", "[sh, -c, 'echo value={x}']", 64));
  std::vector<std::unique_ptr<Caviar>> procs;
  for (int i = 0; i < 16; ++i)
    procs.push_back(std::make_unique<Caviar>(tmp.path(), std::vector<std::string>{"tune", cfg.string(), "-q"}));
  for (auto& p : procs) {
    Result r = p->wait(std::chrono::seconds(90));
    EXPECT_EQ(r.rc, 0) << describe(r);
    EXPECT_FALSE(contains(lower(r.err), "database is locked")) << r.err;
    EXPECT_FALSE(contains(lower(r.err), "locked")) << r.err;
  }
  auto storage = caviar::open_storage("sqlite:///" + (tmp.path() / "study.db").string());
  auto studies = storage->studies();
  ASSERT_EQ(studies.size(), 1u);
  caviar::TrialCounts c = storage->counts(studies[0].id);
  EXPECT_EQ(c.counted, 64);
  EXPECT_EQ(c.complete, 64);
  EXPECT_EQ(c.total(), 64);
  std::set<int> numbers;
  for (const auto& t : storage->trials(studies[0].id)) numbers.insert(t.number);
  EXPECT_EQ(numbers.size(), 64u);
  EXPECT_EQ(*numbers.rbegin(), 63);
}

TEST(CliInterrupt, CtrlCStopsTrialsKeepsThemUncountedAndRestartRunsThem) {
  TempDir tmp;
  std::string script =
      R"('echo $$ > "$CAVIAR_TRIAL_DIR/pid"; if [ -e quick ]; then echo value={x}; exit 0; fi; sleep 30 & echo $! > "$CAVIAR_TRIAL_DIR/sleep_pid"; wait; echo value={x}')";
  fs::path cfg = write_config(tmp.path(), "study: ctrlc\nstorage: sqlite:///study.db\nmetric: value\n"
                                          "objective:\n  command: [sh, -c, " + script + "]\n"
                                          "parameters:\n  x: {type: float, low: 0, high: 1}\n"
                                          "budget: {trials: 4, parallel: 2}\n");
  fs::path runs = caviar::load_config(cfg).trial_root;  // caviar-runs/<study>-<hash>
  Caviar tune(tmp.path(), {"tune", cfg.string()});
  ASSERT_TRUE(wait_until([&] { return trial_pids(runs, "sleep_pid").size() >= 2; }, std::chrono::seconds(10)));
  auto sent = SteadyClock::now();
  tune.signal(SIGINT);
  Result r = tune.wait(std::chrono::seconds(15));
  double stop_seconds = std::chrono::duration<double>(SteadyClock::now() - sent).count();
  EXPECT_EQ(r.rc, 130) << describe(r);
  EXPECT_LT(stop_seconds, 4.0);

  std::vector<pid_t> pids = trial_pids(runs, "pid"), sleeps = trial_pids(runs, "sleep_pid");
  pids.insert(pids.end(), sleeps.begin(), sleeps.end());
  EXPECT_TRUE(survivors(pids, std::chrono::seconds(2)).empty()) << "trial processes outlived Ctrl-C";

  json trials = trials_json(tmp.path(), cfg);
  ASSERT_EQ(trials.size(), 2u) << trials.dump(1);
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "failed") << t.dump();
    ASSERT_TRUE(t["reason"].is_string()) << t.dump();
    EXPECT_EQ(t["reason"].get<std::string>().rfind("interrupted", 0), 0u) << t.dump();
    EXPECT_EQ(t["system_attrs"].value("caviar:uncounted", false), true) << t.dump();
  }

  write_file(tmp.path() / "quick", "");
  Result again = run_cli(tmp.path(), {"tune", cfg.string(), "-q"});
  ASSERT_EQ(again.rc, 0) << describe(again);
  json after = trials_json(tmp.path(), cfg);
  auto states = count_states(after);
  EXPECT_EQ(states["complete"], 4) << after.dump(1);
  EXPECT_EQ(states["failed"], 2);
  EXPECT_EQ(after.size(), 6u);
}

// A store that goes away while caviar stops. The first Ctrl-C stops the trials at once and
// keeps trying to store them as interrupted (a PostgreSQL server is tried again for up to a
// minute, a locked SQLite file for ten); a second one gives up waiting. `take_away` makes
// the store unusable once the trials run, `give_back` undoes it.
void second_ctrl_c_stops_waiting(const std::string& storage, const std::function<void()>& take_away,
                                 const std::function<void()>& give_back, const std::string& message) {
  TempDir tmp;
  std::string script = R"('sleep 30 & echo $! > "$CAVIAR_TRIAL_DIR/sleep_pid"; wait; echo value={x}')";
  fs::path cfg = write_config(tmp.path(), "study: gone\nstorage: " + storage + "\nmetric: value\n" +
                                              "objective:\n  command: [sh, -c, " + script + "]\n" +
                                              "parameters:\n  x: {type: float, low: 0, high: 1}\n" +
                                              "budget: {trials: 4, parallel: 2}\n");
  fs::path runs = caviar::load_config(cfg).trial_root;  // caviar-runs/<study>-<hash>
  Caviar tune(tmp.path(), {"tune", cfg.string()});
  ASSERT_TRUE(wait_until([&] { return trial_pids(runs, "sleep_pid").size() >= 2; }, std::chrono::seconds(10)));
  take_away();
  tune.signal(SIGINT);
  EXPECT_TRUE(survivors(trial_pids(runs, "sleep_pid"), std::chrono::seconds(3)).empty())
      << "trial processes outlived Ctrl-C";
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_FALSE(process_gone(tune.pid())) << "caviar did not wait to store the stopped trials";

  auto sent = SteadyClock::now();
  tune.signal(SIGINT);
  Result r = tune.wait(std::chrono::seconds(50));
  double stop_seconds = std::chrono::duration<double>(SteadyClock::now() - sent).count();
  give_back();
  EXPECT_LT(stop_seconds, 10.0) << describe(r);
  EXPECT_EQ(r.rc, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "received again")) << r.err;
  EXPECT_TRUE(contains(r.err, message)) << r.err;

  // What was stored stands: the study holds the two trials, still running (the next run
  // fails them as stale).
  json trials = trials_json(tmp.path(), cfg);
  ASSERT_EQ(trials.size(), 2u) << trials.dump(1);
  for (const auto& t : trials) EXPECT_EQ(t["state"], "running") << t.dump();
}

// To caviar, the server refusing the study's database, with its sessions ended, is the
// database gone away.
TEST(CliInterrupt, SecondCtrlCStopsWaitingForAPostgresServerThatWentAway) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  auto allow = [&](bool yes) {
    caviar::testing::postgres_query("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS " + (yes ? "true" : "false"));
  };
  second_ctrl_c_stops_waiting(
      db.url(),
      [&] {
        allow(false);
        caviar::testing::postgres_query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                        "WHERE datname = '" + db.name() + "'");
      },
      [&] { allow(true); }, "gave up waiting for PostgreSQL");
}

// A server that hangs: the study's server processes stopped (SIGSTOP), so the queries
// caviar has sent get no reply while the connection stays open (a Unix socket here; over
// TCP the server's kernel would still answer keepalives). Without the fix, caviar waits
// for ever after the second Ctrl-C too.
TEST(CliInterrupt, SecondCtrlCStopsWaitingForAPostgresServerThatHangs) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  std::vector<pid_t> stopped;
  second_ctrl_c_stops_waiting(
      db.url(),
      [&] {
        std::stringstream pids(caviar::testing::postgres_query(
            "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE datname = '" + db.name() + "'"));
        for (pid_t pid; pids >> pid;)
          if (kill(pid, SIGSTOP) == 0) stopped.push_back(pid);
        ASSERT_FALSE(stopped.empty()) << "no server process of the study's database to stop";
      },
      [&] {
        for (pid_t pid : stopped) kill(pid, SIGCONT);
      },
      "gave up waiting for PostgreSQL");
}

// Another process holding the SQLite file's write lock (this test, in an exclusive
// transaction).
TEST(CliInterrupt, SecondCtrlCStopsWaitingForALockedSqliteFile) {
  TempDir dir;
  const std::string file = (dir.path() / "study.db").string();
  sqlite3* holder = nullptr;
  second_ctrl_c_stops_waiting(
      "sqlite:///" + file,
      [&] {
        ASSERT_EQ(sqlite3_open(file.c_str(), &holder), SQLITE_OK);
        sqlite3_busy_timeout(holder, 5000);  // caviar may be writing a heartbeat just now
        ASSERT_EQ(sqlite3_exec(holder, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
      },
      [&] {
        if (!holder) return;
        sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
        sqlite3_close(holder);
      },
      "gave up waiting for the database");
}

// ---------------------------------------------------------------- ask / tell

TEST(CliAskTell, ShellLoopAskTellBest) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(), config_text("asktell", "[sh, -c, 'echo value={x}']", 5, "",
                                                      "  x: {type: float, low: 0, high: 1}\n"
                                                      "  opt: {type: choice, values: [sgd, adam]}\n"));
  Result ask = run_cli(tmp.path(), {"ask", cfg.string()});
  ASSERT_EQ(ask.rc, 0) << describe(ask);
  json a = json::parse(ask.out);
  ASSERT_TRUE(a.is_object()) << ask.out;
  EXPECT_EQ(a["state"], "running");
  ASSERT_TRUE(a["number"].is_number_integer());
  ASSERT_TRUE(a["params"].is_object());
  EXPECT_TRUE(a["params"].contains("x"));
  EXPECT_TRUE(a["params"].contains("opt"));
  std::string n = std::to_string(a["number"].get<int>());

  Result tell = run_cli(tmp.path(), {"tell", cfg.string(), "--trial", n, "--value", "0.5"});
  ASSERT_EQ(tell.rc, 0) << describe(tell);
  Result best = run_cli(tmp.path(), {"best", cfg.string(), "--format", "json"});
  ASSERT_EQ(best.rc, 0) << describe(best);
  json b = json::parse(best.out);
  ASSERT_TRUE(b.is_object()) << best.out;
  EXPECT_EQ(b["number"], a["number"]);
  EXPECT_EQ(b["state"], "complete");
  EXPECT_EQ(b["params"], a["params"]);
  EXPECT_EQ(b["value"], 0.5);

  Result twice = run_cli(tmp.path(), {"tell", cfg.string(), "--trial", n, "--value", "0.25"});
  EXPECT_EQ(twice.rc, 2) << describe(twice);
  EXPECT_TRUE(contains(twice.err, "already complete")) << twice.err;
  Result best2 = run_cli(tmp.path(), {"best", cfg.string(), "--format", "json"});
  EXPECT_EQ(json::parse(best2.out)["value"], 0.5) << "a refused tell must not change the value";

  Result ask2 = run_cli(tmp.path(), {"ask", cfg.string()});
  ASSERT_EQ(ask2.rc, 0) << describe(ask2);
  json a2 = json::parse(ask2.out);
  EXPECT_NE(a2["number"], a["number"]);
  std::string n2 = std::to_string(a2["number"].get<int>());
  Result nan = run_cli(tmp.path(), {"tell", cfg.string(), "--trial", n2, "--value", "nan"});
  EXPECT_EQ(nan.rc, 2) << describe(nan);
  json trials = trials_json(tmp.path(), cfg);
  for (const auto& t : trials)
    if (t["number"] == a2["number"]) EXPECT_EQ(t["state"], "running") << "a refused NaN must leave the trial running";

  Result unknown = run_cli(tmp.path(), {"tell", cfg.string(), "--trial", "99", "--value", "1"});
  EXPECT_EQ(unknown.rc, 2) << describe(unknown);
  EXPECT_TRUE(contains(unknown.err, "99")) << unknown.err;
}

// ---------------------------------------------------------------- listings and help

TEST(CliListing, TrialsCsvJsonStudiesAndHelp) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(), config_text("listing", "[sh, -c, 'echo value={x}']", 3));
  Result tune = run_cli(tmp.path(), {"tune", cfg.string(), "-q"});
  ASSERT_EQ(tune.rc, 0) << describe(tune);

  Result csv = run_cli(tmp.path(), {"trials", cfg.string(), "--format", "csv"});
  ASSERT_EQ(csv.rc, 0) << describe(csv);
  EXPECT_EQ(csv.out.rfind("number,state,value", 0), 0u) << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 4) << csv.out;

  Result js = run_cli(tmp.path(), {"trials", cfg.string(), "--format", "json"});
  ASSERT_EQ(js.rc, 0) << describe(js);
  json rows = json::parse(js.out);
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& row : rows) {
    for (const char* key : {"number", "state", "params", "value"}) EXPECT_TRUE(row.contains(key)) << key;
    EXPECT_EQ(row["state"], "complete");
    EXPECT_TRUE(row["params"].contains("x"));
  }

  std::string url = "sqlite:///" + (tmp.path() / "study.db").string();
  Result studies = run_cli(fs::temp_directory_path(), {"studies", "--storage", url});
  ASSERT_EQ(studies.rc, 0) << describe(studies);
  EXPECT_TRUE(contains(studies.out, "listing")) << studies.out;
  Result studies_json = run_cli(fs::temp_directory_path(), {"studies", "--storage", url, "--format", "json"});
  ASSERT_EQ(studies_json.rc, 0) << describe(studies_json);
  json s = json::parse(studies_json.out);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["name"], "listing");
  EXPECT_EQ(s[0]["complete"], 3);

  for (const char* sub : {"tune", "studies", "trials", "best", "export", "ask", "tell"}) {
    Result help = run_cli(tmp.path(), {sub, "--help"});
    EXPECT_EQ(help.rc, 0) << sub << "\n" << describe(help);
    EXPECT_TRUE(contains(help.out, sub)) << sub << "\n" << help.out;
    EXPECT_TRUE(contains(help.out, "--")) << sub << "\n" << help.out;
  }
}

// ---------------------------------------------------------------- bad input

namespace {

// A folder with study.db holding study "good" with two complete trials.
class CliBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = "sqlite:///" + (tmp_.path() / "study.db").string();
    auto storage = caviar::open_storage(url_);
    caviar::StudyOptions so;
    so.name = "good";
    caviar::Parameter x;
    x.name = "x";
    so.space = caviar::SearchSpace({x});
    caviar::Study study(storage, so);
    for (int i = 0; i < 2; ++i) {
      auto t = study.ask(false);
      ASSERT_TRUE(t);
      study.tell(*t, 0.1 * i);
    }
  }

  int trial_count() {
    auto storage = caviar::open_storage(url_);
    auto record = storage->find_study("good");
    if (!record) return -1;
    EXPECT_EQ(storage->studies().size(), 1u);
    return storage->counts(record->id).total();
  }

  // Runs `caviar tune` on a config with these parts; expects exit 2, every needle in
  // stderr, and the database as it was.
  void expect_rejected(const std::string& parameters, const std::vector<std::string>& needles,
                       const std::string& command = "[sh, -c, 'echo value=1']",
                       const std::string& storage = "sqlite:///study.db") {
    std::string text = "study: good\nstorage: " + storage + "\nmetric: value\n"
                       "objective:\n  command: " + command + "\n"
                       "parameters:\n" + parameters + "budget: {trials: 5}\n";
    fs::path cfg = write_config(tmp_.path(), text);
    int before = trial_count();
    ASSERT_EQ(before, 2);
    Result r = run_cli(tmp_.path(), {"tune", cfg.string(), "-q"});
    EXPECT_EQ(r.rc, 2) << describe(r);
    for (const auto& needle : needles) EXPECT_TRUE(contains(r.err, needle)) << "no '" << needle << "' in:\n" << r.err;
    EXPECT_FALSE(contains(r.err, "error: ")) << "not a place: cause message:\n" << r.err;
    EXPECT_EQ(trial_count(), before) << "a rejected config changed the database";
    EXPECT_FALSE(fs::exists(tmp_.path() / "caviar-runs")) << "a rejected config ran something";
  }

  TempDir tmp_;
  std::string url_;
};

}  // namespace

TEST_F(CliBadInput, UnknownKeySuggests) {
  expect_rejected("  lr: {type: float, low: 1e-5, high: 1, sclae: log}\n",
                  {"parameters.lr.sclae", "unknown key", "did you mean 'scale'"});
}

TEST_F(CliBadInput, LowNotBelowHigh) {
  expect_rejected("  lr: {type: float, low: 1, high: 0.5}\n", {"parameters.lr", "low", "high"});
  expect_rejected("  n: {type: int, low: 4, high: 4}\n", {"parameters.n", "low", "high"});
}

TEST_F(CliBadInput, LogNeedsPositiveLow) {
  expect_rejected("  lr: {type: float, low: 0, high: 1, scale: log}\n", {"parameters.lr", "log", "low > 0"});
}

TEST_F(CliBadInput, ReverseLogNeedsHighBelowOne) {
  expect_rejected("  beta: {type: float, low: 0.9, high: 1, scale: reverse_log}\n",
                  {"parameters.beta", "reverse_log", "high < 1"});
}

TEST_F(CliBadInput, EmptyChoiceList) {
  expect_rejected("  opt: {type: choice, values: []}\n", {"parameters.opt", "empty"});
}

TEST_F(CliBadInput, DuplicateParameterName) {
  expect_rejected("  lr: {type: float, low: 0.1, high: 1}\n  lr: {type: float, low: 0.2, high: 1}\n",
                  {"parameters.lr", "twice"});
}

TEST_F(CliBadInput, PlaceholderNamesNoParameter) {
  expect_rejected("  lr: {type: float, low: 0.1, high: 1}\n", {"objective.command[3]", "'{lrr}'", "did you mean '{lr}'"},
                  "[sh, -c, 'echo value=1', '--lr={lrr}']");
}

TEST_F(CliBadInput, WhenOnUnknownParameter) {
  expect_rejected("  opt: {type: choice, values: [sgd, adam]}\n"
                  "  beta1: {type: float, low: 0.8, high: 0.99, when: \"optimizer == adam\"}\n",
                  {"parameters.beta1.when", "'optimizer'", "not a parameter"});
}

TEST_F(CliBadInput, CommandNotFound) {
  expect_rejected("  x: {type: float, low: 0, high: 1}\n", {"objective.command[0]", "caviar-no-such-program", "not found"},
                  "[caviar-no-such-program, '{x}']");
  expect_rejected("  x: {type: float, low: 0, high: 1}\n", {"objective.command[0]", "./missing.sh", "not found"},
                  "[./missing.sh, '{x}']");
}

TEST_F(CliBadInput, StorageCannotBeOpened) {
  expect_rejected("  x: {type: float, low: 0, high: 1}\n", {"nonexistent-dir", "does not exist"},
                  "[sh, -c, 'echo value=1']", "sqlite:///nonexistent-dir/x.db");
  EXPECT_FALSE(fs::exists(tmp_.path() / "nonexistent-dir"));
}

TEST_F(CliBadInput, TextFileAsStorage) {
  write_file(tmp_.path() / "notes.txt", "these are my notes, not a database\n");
  expect_rejected("  x: {type: float, low: 0, high: 1}\n", {"notes.txt", "not a SQLite database"},
                  "[sh, -c, 'echo value=1']", "sqlite:///notes.txt");
  EXPECT_EQ(read_file(tmp_.path() / "notes.txt"), "these are my notes, not a database\n");
  EXPECT_FALSE(fs::exists(tmp_.path() / "notes.txt-wal"));
  Result trials = run_cli(tmp_.path(), {"trials", "--storage", "sqlite:///notes.txt", "--study", "good"});
  EXPECT_EQ(trials.rc, 2) << describe(trials);
  EXPECT_EQ(read_file(tmp_.path() / "notes.txt"), "these are my notes, not a database\n");
}

TEST_F(CliBadInput, ForeignSqliteDatabaseAsStorage) {
  fs::path other = tmp_.path() / "other.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);"
                             "INSERT INTO invoices (total) VALUES (12.5);", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  expect_rejected("  x: {type: float, low: 0, high: 1}\n", {"other.db", "neither a caviar nor an Optuna"},
                  "[sh, -c, 'echo value=1']", "sqlite:///other.db");
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  int tables = -1;
  sqlite3_exec(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
               [](void* out, int, char** values, char**) { *static_cast<int*>(out) = std::atoi(values[0]); return 0; },
               &tables, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(tables, 1) << "caviar added tables to a database that is not its own";
}

// Commands that only read (studies, trials, best, ...) create nothing: no SQLite file where
// there is none, no tables in an empty PostgreSQL database; they say there is nothing yet.
TEST_F(CliBadInput, ReadingCreatesNoStorage) {
  const fs::path missing = tmp_.path() / "missing.db";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"studies", "--storage", "sqlite:///" + missing.string()},
        std::vector<std::string>{"trials", "--storage", "sqlite:///" + missing.string(), "--study", "good"},
        std::vector<std::string>{"best", "--storage", "sqlite:///" + missing.string(), "--study", "good"}}) {
    Result r = run_cli(tmp_.path(), args);
    EXPECT_EQ(r.rc, 2) << describe(r);
    EXPECT_TRUE(contains(r.err, "missing.db") && contains(r.err, "no such database file")) << r.err;
    EXPECT_FALSE(fs::exists(missing)) << args[0] << " created the file";
  }
  write_file(missing, "");
  Result empty = run_cli(tmp_.path(), {"trials", "--storage", "sqlite:///" + missing.string(), "--study", "good"});
  EXPECT_EQ(empty.rc, 2) << describe(empty);
  EXPECT_TRUE(contains(empty.err, "nothing stored in it yet")) << empty.err;
  EXPECT_EQ(fs::file_size(missing), 0u);
}

TEST_F(CliBadInput, ReadingCreatesNoTablesOnPostgres) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  for (const char* command : {"studies", "trials"}) {
    std::vector<std::string> args{command, "--storage", db.url()};
    if (std::string(command) == "trials") args.insert(args.end(), {"--study", "good"});
    Result r = run_cli(tmp_.path(), args);
    EXPECT_EQ(r.rc, 2) << describe(r);
    EXPECT_TRUE(contains(r.err, "nothing has been stored in it yet")) << r.err;
  }
  EXPECT_EQ(caviar::testing::postgres_query("SELECT count(*) FROM information_schema.tables WHERE "
                                            "table_schema = 'public'", db.name()),
            "0") << "a reading command made tables";
}

// Reading an existing PostgreSQL study takes no part in writing: with caviar's write lock
// held by another session, and the indexes caviar adds on its first write missing, `trials`
// answers at once and adds nothing.
TEST_F(CliBadInput, ReadingTakesNoLockAndAddsNoIndexOnPostgres) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  {
    caviar::StudyOptions so;
    so.name = "good";
    caviar::Parameter x;
    x.name = "x";
    so.space = caviar::SearchSpace({x});
    caviar::Study study(caviar::open_storage(db.url()), so);
    auto t = study.ask(false);
    ASSERT_TRUE(t);
    study.tell(*t, 0.5);
  }
  caviar::testing::postgres_query("DROP INDEX ix_caviar_trials_study_state; "
                                  "DROP INDEX ix_caviar_trial_system_attributes_key", db.name());
  PGconn* holder = PQconnectdb(("dbname=" + db.name()).c_str());
  ASSERT_EQ(PQstatus(holder), CONNECTION_OK);
  PQclear(PQexec(holder, "SELECT pg_advisory_lock(1667331689)"));  // caviar's write lock, "cavi"
  Result r = run_cli(tmp_.path(), {"trials", "--storage", db.url(), "--study", "good", "--format", "csv"},
                     std::chrono::seconds(20));
  PQfinish(holder);
  EXPECT_EQ(r.rc, 0) << describe(r);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
  EXPECT_EQ(caviar::testing::postgres_query("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'ix_caviar%'",
                                            db.name()),
            "0");
}

// The built-in trainer as a study's objective: in-process (builtin: mlp) and as a command.
TEST(CliTrainer, BuiltinMlpObjectiveRunsInProcessWithEpochReports) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(),
      "study: mlp\n"
      "storage: sqlite:///study.db\n"
      "direction: maximize\n"
      "metric: val_acc\n"
      "objective: {builtin: mlp, args: {dataset: spirals, epochs: 8, layers: 2}}\n"
      "parameters:\n"
      "  lr: {type: float, low: 0.003, high: 0.03, scale: log}\n"
      "  units: {type: int, low: 16, high: 64, scale: log}\n"
      "budget: {trials: 3, parallel: 2}\n");
  Result r = run_cli(tmp.path(), {"tune", cfg.string(), "-q"}, std::chrono::seconds(120));
  ASSERT_EQ(r.rc, 0) << describe(r);
  EXPECT_TRUE(contains(r.out, "test accuracy")) << r.out;
  json trials = trials_json(tmp.path(), cfg);
  ASSERT_EQ(trials.size(), 3u);
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "complete") << t.dump();
    EXPECT_EQ(t["intermediate"].size(), 8u) << t.dump();
    EXPECT_EQ(t["value"], t["intermediate"]["8"]);  // the value is the last epoch's val_acc
    double test_acc = t["system_attrs"].value("caviar:test_acc", -1.0);
    EXPECT_GT(test_acc, 0.4) << t.dump();  // 3 classes: chance is 1/3
    EXPECT_LE(test_acc, 1.0);
    const json& epochs = t["system_attrs"]["caviar:epochs"];
    ASSERT_EQ(epochs.size(), 8u) << t.dump();
    EXPECT_EQ(epochs[7]["val_acc"], t["value"]);
    EXPECT_TRUE(epochs[0].contains("train_loss") && epochs[0].contains("val_loss"));
  }
  EXPECT_FALSE(fs::exists(caviar::load_config(cfg).trial_root / "0000" / "stdout.log"))
      << "in-process trials start no command";
}

TEST(CliTrainer, CaviarTrainIsACommandTrial) {
  TempDir tmp;
  std::string command = std::string("[") + CAVIAR_BINARY +
                        ", train, --dataset, spirals, --epochs, '4', --lr, '{lr}', --units, '32']";
  fs::path cfg = write_config(tmp.path(),
      config_text("train-cmd", command, 2, "sampler: {name: sobol}\n",
                  "  lr: {type: float, low: 0.003, high: 0.03, scale: log}\n"));
  std::string text = read_file(cfg);
  text.replace(text.find("metric: value"), 13, "metric: val_loss");
  write_file(cfg, text);
  Result r = run_cli(tmp.path(), {"tune", cfg.string(), "-q"}, std::chrono::seconds(120));
  ASSERT_EQ(r.rc, 0) << describe(r);
  json trials = trials_json(tmp.path(), cfg);
  ASSERT_EQ(trials.size(), 2u);
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "complete") << t.dump();
    EXPECT_EQ(t["intermediate"].size(), 4u) << t.dump();
    EXPECT_EQ(t["value"], t["intermediate"]["4"]);
  }
}

TEST(CliTrainer, UnknownTrainerOptionIsAConfigError) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(),
      "study: mlp\n"
      "metric: val_loss\n"
      "objective: {builtin: mlp, args: {dataset: spirals, epoch: 3}}\n"
      "parameters:\n"
      "  lr: {type: float, low: 0.003, high: 0.03, scale: log}\n");
  Result r = run_cli(tmp.path(), {"tune", cfg.string(), "-q"});
  EXPECT_EQ(r.rc, 2) << describe(r);
  EXPECT_TRUE(contains(r.err, "objective.args")) << r.err;
  EXPECT_TRUE(contains(r.err, "did you mean --epochs")) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "caviar.db")) << "a bad config must not create storage";
}
