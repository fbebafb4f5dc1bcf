#include "base/process_identity.h"

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

namespace caviar::detail {

bool ProcessIdentity::same_machine(const ProcessIdentity& other) const {
  return !host.empty() && !boot_id.empty() && !pid_ns.empty() && host == other.host &&
         boot_id == other.boot_id && pid_ns == other.pid_ns;
}

std::optional<std::uint64_t> process_start_time(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (pid <= 0 || !std::getline(file, stat)) return std::nullopt;
  // "pid (comm) S ppid ...": the command may hold spaces and parentheses; fields follow the last ')'.
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close_paren + 1));
  std::string state, field;
  fields >> state;
  if (state == "Z" || state == "X" || state == "x") return std::nullopt;
  for (int i = 4; i < 22; ++i) fields >> field;  // fields 4..21
  std::uint64_t start = 0;
  if (!(fields >> start)) return std::nullopt;
  return start;
}

const ProcessIdentity& this_process() {
  static std::mutex mutex;
  static ProcessIdentity identity;
  std::lock_guard lock(mutex);
  if (identity.pid == getpid()) return identity;
  ProcessIdentity id;
  char host[HOST_NAME_MAX + 1] = {};
  if (gethostname(host, sizeof host - 1) == 0) id.host = host;
  std::ifstream boot("/proc/sys/kernel/random/boot_id");
  std::getline(boot, id.boot_id);
  char ns[64] = {};
  ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
  if (n > 0) id.pid_ns.assign(ns, static_cast<std::size_t>(n));
  id.pid = getpid();
  id.start = process_start_time(id.pid).value_or(0);
  identity = id;
  return identity;
}

}  // namespace caviar::detail
