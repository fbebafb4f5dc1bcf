#include "run/process_reaper.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include "base/process_identity.h"
#include "run/process_sweep.h"

namespace caviar::detail {

void ReaperGroups::feed(const char* data, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      end_line();
    } else if (line_length_ < static_cast<int>(sizeof line_)) {
      line_[line_length_++] = data[i];
    } else {
      line_too_long_ = true;
    }
  }
}

void ReaperGroups::end_line() {
  const int length = line_length_;
  const bool too_long = line_too_long_;
  line_length_ = 0;
  line_too_long_ = false;
  if (too_long || length < 2 || (line_[0] != '+' && line_[0] != '-')) return;
  pid_t pgid = 0;
  for (int k = 1; k < length; ++k) {
    if (line_[k] < '0' || line_[k] > '9') return;
    pgid = pgid * 10 + (line_[k] - '0');
    if (pgid > kMaxPid) return;
  }
  if (pgid <= 1) return;
  if (line_[0] == '+' && count_ < kMaxGroups) {
    groups_[count_++] = pgid;
  } else if (line_[0] == '-') {
    for (int k = 0; k < count_; ++k)
      if (groups_[k] == pgid) { groups_[k] = groups_[--count_]; break; }
  }
}

namespace {

// "CAVIAR_TRIAL_TAG_<pid>_<start>=": the start of the tag of each of caviar's trials, set
// before the reaper is forked.
char tag_prefix[96];
std::size_t tag_prefix_length = 0;

// The reaper's list, made before the fork (a local static's first use may take a lock).
ReaperGroups groups;

// The reaper's main loop. Runs in a child forked from a possibly multi-threaded process,
// so it uses only async-signal-safe calls: no allocation, no locks.
[[noreturn]] void reaper_main(int read_fd) {
  signal(SIGINT, SIG_IGN);  // Ctrl-C reaches the whole foreground group; caviar handles it
  signal(SIGTERM, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  // Keep only the pipe: move it to fd 3, then close everything above.
  if (read_fd != 3) {
    dup2(read_fd, 3);
    read_fd = 3;
  }
  close_range(4, ~0U, 0);
  char buffer[512];
  for (;;) {
    ssize_t n = read(read_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    groups.feed(buffer, static_cast<std::size_t>(n));
  }
  // caviar is gone: end what it left running, its groups and the processes that left them
  // (they carry caviar's tag in their environment, run/process_sweep.h).
  for (pid_t pgid : groups) kill(-pgid, SIGTERM);
  const int tagged = signal_tagged(tag_prefix, tag_prefix_length, true, SIGTERM);
  if (groups.size() > 0 || tagged > 0) {
    struct timespec pause = {2, 0};
    nanosleep(&pause, nullptr);
    for (pid_t pgid : groups) kill(-pgid, SIGKILL);
  }
  kill_tagged(tag_prefix, tag_prefix_length, true);
  _exit(0);
}

std::mutex reaper_mutex;
int write_fd = -1;

// Forks the reaper unless it runs; reaper_mutex held.
void start_locked() {
  if (write_fd < 0) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    pid_t parent = getpid();
    const auto& me = this_process();
    const std::string prefix = trial_tag_variable(me.pid, me.start) + "=";
    tag_prefix_length = std::min(prefix.size(), sizeof tag_prefix - 1);
    std::memcpy(tag_prefix, prefix.data(), tag_prefix_length);
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[1]);
      // If caviar died between fork and here, the pipe is already closed: fine.
      prctl(PR_SET_NAME, "caviar-reaper");
      (void)parent;
      reaper_main(fds[0]);
    }
    close(fds[0]);
    if (pid < 0) {
      close(fds[1]);
      return;
    }
    write_fd = fds[1];
    signal(SIGPIPE, SIG_IGN);
  }
}

void send(char op, pid_t pgid) {
  std::lock_guard lock(reaper_mutex);
  start_locked();
  if (write_fd < 0) return;
  char line[32];
  int n = std::snprintf(line, sizeof line, "%c%d\n", op, static_cast<int>(pgid));
  ssize_t ignored = write(write_fd, line, static_cast<std::size_t>(n));
  (void)ignored;
}

}  // namespace

void reaper_start() {
  std::lock_guard lock(reaper_mutex);
  start_locked();
}
void reaper_watch(pid_t pgid) { send('+', pgid); }
void reaper_forget(pid_t pgid) { send('-', pgid); }

}  // namespace caviar::detail
