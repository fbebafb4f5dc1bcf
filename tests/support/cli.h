// Test support: the built `caviar` (CAVIAR_BINARY) run as a real process in a folder, its
// stdout and stderr going to files, in a process group of its own (killed whole if it
// overruns). For the tests of what caviar does with input from outside.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
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
  double seconds = 0;
  std::string describe() const {
    return "rc=" + std::to_string(rc) + "\n--- stdout:\n" + out + "\n--- stderr:\n" + err;
  }
};

// Runs caviar with `args` in `dir`; `in_child` (if set) runs in the child before exec
// (to lower a resource limit, say). Kills it after `limit` and fails the test.
inline CliResult run_caviar(const std::filesystem::path& dir, std::vector<std::string> args,
                            std::chrono::milliseconds limit = std::chrono::seconds(60),
                            const std::function<void()>& in_child = {}) {
  static int counter = 0;
  const std::string tag = std::to_string(getpid()) + "-" + std::to_string(counter++);
  const std::filesystem::path out_file = dir / ("cli-out-" + tag + ".txt");
  const std::filesystem::path err_file = dir / ("cli-err-" + tag + ".txt");
  args.insert(args.begin(), CAVIAR_BINARY);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string out = out_file.string(), err = err_file.string(), cwd = dir.string();
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid == 0) {
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
  CliResult r;
  int status = 0;
  const auto until = start + limit;
  while (true) {
    if (waitpid(pid, &status, WNOHANG) == pid) break;
    if (std::chrono::steady_clock::now() > until) {
      ADD_FAILURE() << "caviar did not finish within " << limit.count() << " ms; killed";
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out_file);
  r.err = read_file(err_file);
  std::error_code ec;
  std::filesystem::remove(out_file, ec);
  std::filesystem::remove(err_file, ec);
  return r;
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
