// The process reaper: a small watchdog process, forked once, that ends every trial's
// process group if caviar dies without doing so itself (SIGKILL, a crash). caviar tells it
// which groups are alive through a pipe; when the pipe closes (caviar is gone), it sends
// SIGTERM then SIGKILL to each group still listed, and to every process that carries the tag
// of one of caviar's trials (those that left their group: run/process_sweep.h). So no trial
// outlives caviar.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace caviar::detail {

// What the reaper reads from the pipe: one line per change, "+<pgid>\n" when a group
// starts and "-<pgid>\n" when it ends, <pgid> in decimal (2 to kMaxPid). Any other line is
// ignored: it cannot name a group that caviar did not send. Allocates nothing and takes no
// lock, since the reaper runs it in a child forked from a multi-threaded process.
class ReaperGroups {
 public:
  static constexpr int kMaxGroups = 8192;
  static constexpr pid_t kMaxPid = 1 << 22;  // Linux's PID_MAX_LIMIT

  void feed(const char* data, std::size_t size);
  int size() const { return count_; }
  const pid_t* begin() const { return groups_; }
  const pid_t* end() const { return groups_ + count_; }

 private:
  pid_t groups_[kMaxGroups];
  int count_ = 0;
  char line_[16];  // "+4194304" fits; a longer line is not one of caviar's
  int line_length_ = 0;
  bool line_too_long_ = false;

  void end_line();
};

// Starts the reaper if it is not running: called before a trial is spawned, so that a
// caviar killed between the spawn and reaper_watch() leaves no trial behind (the reaper
// still finds it by its tag).
void reaper_start();
// Registers a trial's process group (starting the reaper on first use).
void reaper_watch(pid_t pgid);
// The group has ended or been killed by caviar itself.
void reaper_forget(pid_t pgid);

}  // namespace caviar::detail
