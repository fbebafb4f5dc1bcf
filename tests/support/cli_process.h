// Running the `caviar` command line as a process in tests: real subprocesses, real
// signals, real SQLite files. Each test writes a YAML config into a fresh temporary
// folder, runs the built CLI (CAVIAR_BINARY) in it, and checks exit codes, output and what
// the database holds.
#pragma once

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
