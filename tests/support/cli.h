// Test support: the built `caviar` (CAVIAR_BINARY) run as a real process in a folder, in a
// process group of its own (killed whole if it overruns), with stdout and stderr going to
// files (a pipe would be held open by the caviar-reaper it forks); its exit status and its
// resource use (wait4: peak memory and CPU time of caviar and of the children it waited
// for). The one way every test runs the command line.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/files.h"

namespace caviar::testing {

struct CliResult {
  int rc = -1;  // exit status, or 128 + signal
  std::string out, err;
  double seconds = 0;       // wall clock
  double cpu_seconds = 0;   // user + system, caviar and the children it waited for
  long peak_rss_kib = 0;    // the largest resident set of caviar or of a child it waited for
  std::string describe() const {
    return "rc=" + std::to_string(rc) + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err;
  }
};

// caviar with `args`, started in `dir`; `in_child` (if set) runs in the child before exec
// (to set a variable or lower a resource limit). Killed with its group if not waited for.
class CaviarProcess {
 public:
  CaviarProcess(const std::filesystem::path& dir, std::vector<std::string> args,
                const std::function<void()>& in_child = {}) {
    static int counter = 0;
    const std::string tag = std::to_string(getpid()) + "-" + std::to_string(counter++);
    out_ = dir / ("cli-out-" + tag + ".txt");
    err_ = dir / ("cli-err-" + tag + ".txt");
    args.insert(args.begin(), CAVIAR_BINARY);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string out = out_.string(), err = err_.string(), cwd = dir.string();
    start_ = std::chrono::steady_clock::now();
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int n = open("/dev/null", O_RDONLY);
      if (o < 0 || e < 0 || n < 0 || chdir(cwd.c_str()) != 0) _exit(126);
      dup2(n, 0), dup2(o, 1), dup2(e, 2);
      if (in_child) in_child();
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~CaviarProcess() {
    if (!done_ && pid_ > 0) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  CaviarProcess(const CaviarProcess&) = delete;
  CaviarProcess& operator=(const CaviarProcess&) = delete;
  pid_t pid() const { return pid_; }
  void signal(int sig) { kill(pid_, sig); }
  // What it has written so far (for a URL it prints while it runs).
  std::string out_so_far() const { return read_file(out_); }
  std::string err_so_far() const { return read_file(err_); }

  // Waits for the exit (polling); after `limit` the process group is killed and the test
  // fails. The output files are removed once read.
  CliResult wait(std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    CliResult r;
    int status = 0;
    struct rusage usage {};
    const auto until = std::chrono::steady_clock::now() + limit;
    while (true) {
      if (wait4(pid_, &status, WNOHANG, &usage) == pid_) break;
      if (std::chrono::steady_clock::now() > until) {
        ADD_FAILURE() << "caviar did not finish within " << limit.count() << " ms; killed";
        kill(-pid_, SIGKILL);
        wait4(pid_, &status, 0, &usage);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    done_ = true;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                    static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    r.peak_rss_kib = usage.ru_maxrss;
    r.out = read_file(out_);
    r.err = read_file(err_);
    std::error_code ec;
    std::filesystem::remove(out_, ec);
    std::filesystem::remove(err_, ec);
    return r;
  }

 private:
  std::filesystem::path out_, err_;
  pid_t pid_ = -1;
  bool done_ = false;
  std::chrono::steady_clock::time_point start_;
};

// Runs caviar with `args` in `dir` to its end (see CaviarProcess).
inline CliResult run_caviar(const std::filesystem::path& dir, std::vector<std::string> args,
                            std::chrono::milliseconds limit = std::chrono::seconds(60),
                            const std::function<void()>& in_child = {}) {
  CaviarProcess c(dir, std::move(args), in_child);
  return c.wait(limit);
}

// Polls every 20 ms until `condition` holds; whether it does by the end of `limit`.
template <typename F>
bool poll_until(F condition, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// Whether stderr is one line "caviar: WHERE...: why" (the error model, docs/cli.md).
inline ::testing::AssertionResult one_error_line(const CliResult& r, const std::string& where) {
  const std::string prefix = "caviar: ";
  if (r.err.rfind(prefix, 0) != 0)
    return ::testing::AssertionFailure() << "stderr does not start with 'caviar: '\n" << r.describe();
  if (r.err.empty() || r.err.back() != '\n' || r.err.find('\n') != r.err.size() - 1)
    return ::testing::AssertionFailure() << "stderr is not one line\n" << r.describe();
  if (r.err.find(where) == std::string::npos)
    return ::testing::AssertionFailure() << "stderr does not name '" << where << "'\n" << r.describe();
  if (r.err.size() > 1000)
    return ::testing::AssertionFailure() << "the message is " << r.err.size() << " characters long\n"
                                         << r.err.substr(0, 300);
  return ::testing::AssertionSuccess();
}

}  // namespace caviar::testing
