// Test support: whether a process has stopped running.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cerrno>
#include <fstream>
#include <string>

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

}  // namespace caviar::testing
