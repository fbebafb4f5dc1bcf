// Test support: whether a process has stopped running, and waiting until it has.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

namespace caviar::testing {

// No such process, or a zombie: dead and waiting for its parent to reap it (an orphan
// waits for PID 1, which in a container can take seconds and is not the tested code's doing).
inline bool process_gone(pid_t pid) {
  if (kill(pid, 0) == -1 && errno == ESRCH) return true;
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(file, stat)) return true;
  const auto close_paren = stat.rfind(')');  // the state follows the command name
  return close_paren != std::string::npos && close_paren + 2 < stat.size() && stat[close_paren + 2] == 'Z';
}

// Polls every 20 ms until the process is gone; whether it is by the end of `limit`.
inline bool wait_gone(pid_t pid, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (process_gone(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return process_gone(pid);
}

}  // namespace caviar::testing
