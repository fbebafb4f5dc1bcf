// No trial outlives caviar, not even processes that leave the trial's process group: a
// trial that daemonises a sleeper (fork, setsid, fork again; the sleeper ignores SIGTERM
// and closes its output) has that sleeper ended on timeout, prune, a trial's normal end,
// Ctrl-C and SIGKILL of caviar (issue 29, item 5). Real processes and signals; each test
// polls, for a bounded time, until the sleeper's pid is gone, and fails if it survives.
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "caviar/config.h"
#include "support/cli.h"
#include "support/files.h"
#include "support/processes.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using caviar::testing::CaviarProcess;
using caviar::testing::CliResult;
using caviar::testing::poll_until;
using caviar::testing::read_file;
using caviar::testing::run_caviar;
using caviar::testing::TempDir;
using caviar::testing::write_file;

namespace {

// argv: trial number, then what the trial does once its daemon runs: "sleep" (for ever),
// "exit" (reports and exits 0), "report" (trial 0 reports 0 at epochs 1-3 and exits with
// no daemon; later trials report 100 at epoch 1, then sleep).
constexpr const char* kDaemonisingTrial = R"(import os, signal, sys, time
number, mode = int(sys.argv[1]), sys.argv[2]
folder = os.environ["CAVIAR_TRIAL_DIR"]
if mode == "report" and number == 0:
    for epoch in (1, 2, 3):
        print(f"epoch={epoch} value=0", flush=True)
    sys.exit(0)
if os.fork() == 0:
    os.setsid()  # out of the trial's process group and session
    if os.fork() == 0:  # and out of its tree: the parent exits, init adopts this one
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        with open(folder + "/daemon_pid.tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.rename(folder + "/daemon_pid.tmp", folder + "/daemon_pid")
        while True:
            time.sleep(1)
    os._exit(0)
os.wait()
while not os.path.exists(folder + "/daemon_pid"):
    time.sleep(0.01)
if mode == "exit":
    print("value=0.5")
    sys.exit(0)
if mode == "report":
    print("epoch=1 value=100", flush=True)
time.sleep(300)
)";

struct Study {
  TempDir tmp;
  fs::path cfg;
  fs::path runs() const { return caviar::load_config(cfg).trial_root; }  // caviar-runs/<study>-<hash>

  Study(const std::string& mode, int budget, const std::string& extra = "") {
    write_file(tmp.path() / "trial.py", kDaemonisingTrial);
    cfg = tmp.path() / "cfg.yaml";
    write_file(cfg, "study: daemons\nstorage: sqlite:///study.db\nmetric: value\nstep: epoch\n"
                    "objective:\n  command: [python3, trial.py, '{trial}', " + mode + "]\n  grace: 1s\n" + extra +
                    "parameters:\n  x: {type: float, low: 0, high: 1}\n"
                    "budget: {trials: " + std::to_string(budget) + ", parallel: 1}\n");
  }

  // The daemon's pid, once a trial has written it (waits up to 20 s).
  pid_t daemon(int number) const {
    fs::path file = runs() / (number < 10 ? "000" + std::to_string(number) : "00" + std::to_string(number)) / "daemon_pid";
    if (!poll_until([&] { return fs::exists(file); }, std::chrono::seconds(20))) return -1;
    return static_cast<pid_t>(std::stol(read_file(file)));
  }

  json trials() const {
    CliResult r = run_caviar(tmp.path(), {"trials", cfg.string(), "--format", "json"});
    EXPECT_EQ(r.rc, 0) << r.describe();
    return json::parse(r.out, nullptr, false);
  }
};

// Whether `pid` is gone within `limit`; if not, kills it (the test has failed) so that
// nothing the test started outlives it.
bool gone(pid_t pid, std::chrono::milliseconds limit) {
  if (pid <= 0) return false;
  if (caviar::testing::wait_gone(pid, limit)) return true;
  kill(pid, SIGKILL);
  return false;
}

}  // namespace

TEST(NoOrphans, DaemonOfATimedOutTrialIsEnded) {
  Study s("sleep", 1, "  timeout: 5s\n");  // time for python to start and daemonise
  CliResult r = run_caviar(s.tmp.path(), {"tune", s.cfg.string(), "-q"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  pid_t daemon = s.daemon(0);
  ASSERT_GT(daemon, 0) << "the trial never daemonised";
  EXPECT_TRUE(gone(daemon, std::chrono::seconds(5))) << "the daemon " << daemon << " outlived its timed-out trial";
  json t = s.trials();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0]["reason"].get<std::string>().rfind("timeout:", 0), 0u) << t.dump();
}

TEST(NoOrphans, DaemonOfAPrunedTrialIsEnded) {
  Study s("report", 2, "pruner: {name: median, warmup_steps: 0, min_trials: 1}\n");
  CliResult r = run_caviar(s.tmp.path(), {"tune", s.cfg.string(), "-q"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  pid_t daemon = s.daemon(1);
  ASSERT_GT(daemon, 0) << "the trial never daemonised";
  EXPECT_TRUE(gone(daemon, std::chrono::seconds(5))) << "the daemon " << daemon << " outlived its pruned trial";
  json t = s.trials();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1]["state"], "pruned") << t.dump();
}

TEST(NoOrphans, DaemonOfATrialThatExitsIsEnded) {
  Study s("exit", 1);
  CliResult r = run_caviar(s.tmp.path(), {"tune", s.cfg.string(), "-q"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  pid_t daemon = s.daemon(0);
  ASSERT_GT(daemon, 0) << "the trial never daemonised";
  EXPECT_TRUE(gone(daemon, std::chrono::seconds(5))) << "the daemon " << daemon << " outlived its trial";
  json t = s.trials();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0]["state"], "complete") << t.dump();
}

TEST(NoOrphans, DaemonIsEndedOnCtrlC) {
  Study s("sleep", 1);
  CaviarProcess caviar(s.tmp.path(), {"tune", s.cfg.string(), "-q"});
  pid_t daemon = s.daemon(0);
  ASSERT_GT(daemon, 0) << "the trial never daemonised";
  caviar.signal(SIGINT);
  CliResult r = caviar.wait(std::chrono::seconds(30));
  EXPECT_EQ(r.rc, 130) << r.describe();
  EXPECT_TRUE(gone(daemon, std::chrono::seconds(5))) << "the daemon " << daemon << " outlived caviar's Ctrl-C";
}

TEST(NoOrphans, DaemonIsEndedWhenCaviarIsKilled) {
  Study s("sleep", 1);
  CaviarProcess caviar(s.tmp.path(), {"tune", s.cfg.string(), "-q"});
  pid_t daemon = s.daemon(0);
  ASSERT_GT(daemon, 0) << "the trial never daemonised";
  caviar.signal(SIGKILL);
  CliResult r = caviar.wait(std::chrono::seconds(10));
  EXPECT_EQ(r.rc, 128 + SIGKILL) << r.describe();
  // The caviar-reaper sends SIGTERM (ignored), then SIGKILL 2 s later.
  EXPECT_TRUE(gone(daemon, std::chrono::seconds(10))) << "the daemon " << daemon << " outlived a SIGKILLed caviar";
}
