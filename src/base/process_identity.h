// Which process this is, in a way that outlives it: the machine (host name and boot id),
// the pid namespace, the pid and the process's start time. A pid alone is reused; a pid
// with its start time (in clock ticks since boot, /proc/PID/stat) names one process for
// the whole uptime of one boot. So a caviar can tell, from what another caviar stored, that
// it ran on this machine and is gone (docs/storage.md, "Heartbeats, stale trials").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace caviar::detail {

struct ProcessIdentity {
  std::string host;     // gethostname()
  std::string boot_id;  // /proc/sys/kernel/random/boot_id
  std::string pid_ns;   // readlink /proc/self/ns/pid: "pid:[4026531836]"
  pid_t pid = 0;
  std::uint64_t start = 0;  // start time, clock ticks after boot (field 22 of /proc/PID/stat)

  // Whether both name the same machine, boot and pid namespace (so the same pid is the
  // same process): all three known and equal.
  bool same_machine(const ProcessIdentity& other) const;
};

// This process (read again after a fork).
const ProcessIdentity& this_process();

// The start time of a live process (running, sleeping, stopped: not a zombie), or nullopt
// if there is no such process or it has exited.
std::optional<std::uint64_t> process_start_time(pid_t pid);

}  // namespace caviar::detail
