// A caviar killed and started again at once fails the trials of its dead self at once and
// runs the whole budget (issue 29, item 6): each trial stores its owner (host, boot id, pid
// namespace, pid and the process's start time) as "caviar:owner", and start_trial's stale
// check fails a running trial whose owner was on this machine and is gone, without waiting
// for `stale_after`. Trials owned on another machine keep the heartbeat rule.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "caviar/storage.h"
#include "caviar/study.h"
#include "base/process_identity.h"
#include "caviar/config.h"
#include "support/cli.h"
#include "support/files.h"
#include "support/postgres.h"
#include "support/stores.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace caviar;
using caviar::testing::CaviarProcess;
using caviar::testing::CliResult;
using caviar::testing::poll_until;
using caviar::testing::run_caviar;
using caviar::testing::TempDir;
using caviar::testing::write_file;

// ---------------------------------------------------------------- a real caviar, killed

TEST(DeadOwner, KilledTuneStartedAgainAtOnceFinishesTheExactBudget) {
  TempDir tmp;
  fs::path cfg = tmp.path() / "cfg.yaml";
  // stale_after 120 s: the heartbeat rule alone would keep the killed trials for two minutes.
  write_file(cfg, "study: again\nstorage: sqlite:///study.db\nmetric: value\n"
                  "objective:\n  command: [sh, -c, 'touch \"$CAVIAR_TRIAL_DIR/started\"; sleep 1.5; echo value={x}']\n"
                  "parameters:\n  x: {type: float, low: 0, high: 1}\n"
                  "budget: {trials: 8, parallel: 2}\nstale_after: 120s\n");
  fs::path runs = load_config(cfg).trial_root;  // caviar-runs/<study>-<hash>
  auto started = [&] {
    int n = 0;
    std::error_code ec;
    if (fs::is_directory(runs, ec))
      for (const auto& d : fs::directory_iterator(runs)) n += fs::exists(d.path() / "started");
    return n;
  };

  pid_t first_pid;
  {
    CaviarProcess first(tmp.path(), {"tune", cfg.string(), "-q"});
    first_pid = first.pid();
    // Two trials done, two running: kill it mid-run.
    ASSERT_TRUE(poll_until([&] { return started() >= 4; }, std::chrono::seconds(30))) << "trials never started";
    first.signal(SIGKILL);
    CliResult killed = first.wait(std::chrono::seconds(10));
    ASSERT_EQ(killed.rc, 128 + SIGKILL) << killed.describe();
  }
  CliResult second = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"}, std::chrono::seconds(60));
  ASSERT_EQ(second.rc, 0) << second.describe();
  EXPECT_LT(second.seconds, 20.0) << "the run again should not wait for stale_after (120 s)";
  EXPECT_EQ(second.out.find("running elsewhere"), std::string::npos) << second.out;

  CliResult listing = run_caviar(tmp.path(), {"trials", cfg.string(), "--format", "json"});
  ASSERT_EQ(listing.rc, 0) << listing.describe();
  json trials = json::parse(listing.out);
  std::map<std::string, int> states;
  std::set<int> numbers;
  int failed_by_owner = 0;
  for (const auto& t : trials) {
    ++states[t["state"].get<std::string>()];
    numbers.insert(t["number"].get<int>());
    if (t["state"] == "failed") {
      const std::string reason = t["reason"].get<std::string>();
      EXPECT_EQ(reason.rfind("stale: its owner, pid " + std::to_string(first_pid) + " on this machine", 0), 0u)
          << reason;
      EXPECT_EQ(t["system_attrs"].value("caviar:uncounted", false), true) << t.dump();
      ++failed_by_owner;
    }
  }
  EXPECT_EQ(states["complete"], 8) << trials.dump(1);
  EXPECT_EQ(states["running"], 0) << trials.dump(1);
  EXPECT_GE(failed_by_owner, 1) << "the killed run had trials running: " << trials.dump(1);
  EXPECT_EQ(numbers.size(), trials.size()) << "trial numbers are unique";
  EXPECT_EQ(*numbers.rbegin(), static_cast<int>(trials.size()) - 1);
}

// ---------------------------------------------------------------- every store

namespace {

class DeadOwnerStores : public caviar::testing::EveryStore {
 protected:
  void SetUp() override {
    EveryStore::SetUp();
    if (HasFatalFailure()) return;
    StudyOptions o;
    o.name = "owners";
    o.space = SearchSpace::from_config_json(json::parse(R"({"x": {"type": "float", "low": 0, "high": 1}})"));
    o.budget = 2;
    study_.emplace(storage_, o);
  }

  // A running trial (beating for 120 s of stale_after), whose owner is then said to be `owner`.
  Trial trial_owned_by(const json& owner) {
    storage_->set_stale_grace(std::chrono::seconds(120));
    auto t = study_->ask(true);
    EXPECT_TRUE(t.has_value());
    storage_->set_trial_attr(t->id(), "caviar:owner", owner);
    return *t;
  }
  TrialRecord stored(const Trial& t) { return *storage_->trial(study_->record().id, t.number()); }

  static json me() {
    const auto& p = detail::this_process();
    return {{"host", p.host}, {"boot_id", p.boot_id}, {"pid_ns", p.pid_ns}, {"pid", p.pid}, {"start", p.start}};
  }

  std::optional<Study> study_;
};

// A process that has run and is gone: its pid and start time.
std::pair<pid_t, std::uint64_t> dead_process() {
  pid_t pid = fork();
  if (pid == 0) {
    pause();
    _exit(0);
  }
  auto start = detail::process_start_time(pid);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  EXPECT_TRUE(start.has_value());
  return {pid, start.value_or(1)};
}

}  // namespace

TEST_P(DeadOwnerStores, EachTrialRecordsItsOwner) {
  auto t = study_->ask(true);
  ASSERT_TRUE(t);
  EXPECT_EQ(stored(*t).system_attrs.value("caviar:owner", json()), me());
  auto asked = study_->ask(false);  // ask/tell: nothing beats for it, no owner
  ASSERT_TRUE(asked);
  EXPECT_FALSE(stored(*asked).system_attrs.contains("caviar:owner"));
}

TEST_P(DeadOwnerStores, TrialOfAGoneOwnerOnThisMachineIsFailedAtOnce) {
  auto [pid, start] = dead_process();
  json owner = me();
  owner["pid"] = pid;
  owner["start"] = start;
  Trial orphan = trial_owned_by(owner);
  auto next = study_->ask(true);  // its stale check fails the orphan; the budget (2) has room again
  ASSERT_TRUE(next);
  TrialRecord r = stored(orphan);
  EXPECT_EQ(r.state, TrialState::Failed);
  EXPECT_EQ(r.reason().rfind("stale: its owner, pid " + std::to_string(pid) + " on this machine", 0), 0u) << r.reason();
  EXPECT_FALSE(r.counted());
  EXPECT_TRUE(study_->ask(true)) << "two counted trials fit in the budget of 2";
}

TEST_P(DeadOwnerStores, ALiveProcessWithAnotherStartTimeIsNotTheOwner) {
  json owner = me();
  owner["pid"] = getppid();  // alive, but started at another time than the owner claims
  owner["start"] = detail::process_start_time(getppid()).value_or(0) + 1;
  Trial orphan = trial_owned_by(owner);
  ASSERT_TRUE(study_->ask(true));
  EXPECT_EQ(stored(orphan).state, TrialState::Failed);
}

TEST_P(DeadOwnerStores, LiveOwnerAndOwnersOnOtherMachinesKeepTheHeartbeatRule) {
  auto [pid, start] = dead_process();
  json elsewhere = me();
  elsewhere["host"] = "another-machine";
  elsewhere["pid"] = pid;
  elsewhere["start"] = start;
  Trial remote = trial_owned_by(elsewhere);
  json rebooted = me();  // this host name, another boot: a pid of then says nothing now
  rebooted["boot_id"] = "00000000-0000-0000-0000-000000000000";
  rebooted["pid"] = pid;
  rebooted["start"] = start;
  Trial before_reboot = trial_owned_by(rebooted);
  EXPECT_FALSE(study_->ask(true)) << "both still count: the budget of 2 is used";
  storage_->fail_stale(study_->record().id, std::chrono::seconds(120));
  EXPECT_EQ(stored(remote).state, TrialState::Running);
  EXPECT_EQ(stored(before_reboot).state, TrialState::Running);
  // The heartbeat rule still applies to them.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(storage_->fail_stale(study_->record().id, std::chrono::milliseconds(10)).size(), 2u);
  EXPECT_EQ(stored(remote).reason().rfind("stale: no heartbeat", 0), 0u) << stored(remote).reason();
}

INSTANTIATE_TEST_SUITE_P(Stores, DeadOwnerStores, ::testing::Values("memory", "sqlite", "postgres"));
