// caviar tune as a process: parallel runs, budgets across restarts, SIGKILL and Ctrl-C,
// several processes on one study (SQLite and PostgreSQL).
#include "support/cli_process.h"

// ---------------------------------------------------------------- tune

TEST(CliTune, ParallelEightRuns32OneSecondTrialsInAboutFourSeconds) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(), config_text("par", "[sh, -c, 'sleep 1; echo value={x}']", 32));
  CliResult r = run_caviar(tmp.path(), {"tune", cfg.string(), "--parallel", "8", "-q"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_GE(r.seconds, 3.9) << r.describe();
  EXPECT_LT(r.seconds, 7.0) << r.describe();
  json trials = trials_json(tmp.path(), cfg);
  ASSERT_EQ(trials.size(), 32u);
  EXPECT_EQ(count_states(trials)["complete"], 32);
  for (const auto& t : trials) EXPECT_DOUBLE_EQ(t["value"].get<double>(), t["params"]["x"].get<double>());
}

TEST(CliBudget, RestartRunsOnlyWhatIsMissing) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(), config_text("budget", "[sh, -c, 'echo value={x}']", 6));
  CliResult first = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"});
  ASSERT_EQ(first.rc, 0) << first.describe();
  json t1 = trials_json(tmp.path(), cfg);
  ASSERT_EQ(t1.size(), 6u);
  EXPECT_EQ(count_states(t1)["complete"], 6);

  CliResult second = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"});
  ASSERT_EQ(second.rc, 0) << second.describe();
  json t2 = trials_json(tmp.path(), cfg);
  EXPECT_EQ(t2, t1) << "a run at its budget must not start or change any trial";

  CliResult third = run_caviar(tmp.path(), {"tune", cfg.string(), "--trials", "9", "-q"});
  ASSERT_EQ(third.rc, 0) << third.describe();
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

  auto first = std::make_unique<CaviarProcess>(tmp.path(), std::vector<std::string>{"tune", cfg.string(), "-q"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  write_file(tmp.path() / "long", "");
  ASSERT_TRUE(poll_until([&] { return count_files(runs, "long") >= 2; }, std::chrono::seconds(5)))
      << "two long trials never started";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  first->signal(SIGKILL);
  CliResult killed = first->wait(std::chrono::seconds(5));
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
  CliResult second = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"}, std::chrono::seconds(30));
  ASSERT_EQ(second.rc, 0) << second.describe();
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
  std::vector<std::unique_ptr<CaviarProcess>> procs;
  for (int i = 0; i < 4; ++i)
    procs.push_back(std::make_unique<CaviarProcess>(tmp.path(), std::vector<std::string>{"tune", cfg.string(), "-q"}));
  for (auto& p : procs) {
    CliResult r = p->wait(std::chrono::seconds(60));
    EXPECT_EQ(r.rc, 0) << r.describe();
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
  CliResult a = run_caviar(tmp.path(), {"tune", first.string(), "-q"});
  ASSERT_EQ(a.rc, 0) << a.describe();
  CliResult b = run_caviar(tmp.path(), {"tune", second.string(), "-q"});
  ASSERT_EQ(b.rc, 0) << b.describe();
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
  std::vector<std::unique_ptr<CaviarProcess>> procs;
  for (int i = 0; i < 16; ++i)
    procs.push_back(std::make_unique<CaviarProcess>(tmp.path(), std::vector<std::string>{"tune", cfg.string(), "-q"}));
  for (auto& p : procs) {
    CliResult r = p->wait(std::chrono::seconds(90));
    EXPECT_EQ(r.rc, 0) << r.describe();
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
  CaviarProcess tune(tmp.path(), {"tune", cfg.string()});
  ASSERT_TRUE(poll_until([&] { return trial_pids(runs, "sleep_pid").size() >= 2; }, std::chrono::seconds(10)));
  auto sent = SteadyClock::now();
  tune.signal(SIGINT);
  CliResult r = tune.wait(std::chrono::seconds(15));
  double stop_seconds = std::chrono::duration<double>(SteadyClock::now() - sent).count();
  EXPECT_EQ(r.rc, 130) << r.describe();
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
  CliResult again = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"});
  ASSERT_EQ(again.rc, 0) << again.describe();
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
  CaviarProcess tune(tmp.path(), {"tune", cfg.string()});
  ASSERT_TRUE(poll_until([&] { return trial_pids(runs, "sleep_pid").size() >= 2; }, std::chrono::seconds(10)));
  take_away();
  tune.signal(SIGINT);
  EXPECT_TRUE(survivors(trial_pids(runs, "sleep_pid"), std::chrono::seconds(3)).empty())
      << "trial processes outlived Ctrl-C";
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_FALSE(process_gone(tune.pid())) << "caviar did not wait to store the stopped trials";

  auto sent = SteadyClock::now();
  tune.signal(SIGINT);
  CliResult r = tune.wait(std::chrono::seconds(50));
  double stop_seconds = std::chrono::duration<double>(SteadyClock::now() - sent).count();
  give_back();
  EXPECT_LT(stop_seconds, 10.0) << r.describe();
  EXPECT_EQ(r.rc, 2) << r.describe();
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
