#include "run/process_reaper.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include "base/process_identity.h"
#include "run/process_sweep.h"

namespace caviar::detail {
namespace {

constexpr int kMaxGroups = 8192;

// "CAVIAR_TRIAL_TAG_<pid>_<start>=": the start of the tag of each of caviar's trials, set
// before the reaper is forked.
char tag_prefix[96];
std::size_t tag_prefix_length = 0;

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
  static pid_t groups[kMaxGroups];
  int count = 0;
  char buffer[512];
  char line[32];
  int line_length = 0;
  for (;;) {
    ssize_t n = read(read_fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      char ch = buffer[i];
      if (ch != '\n') {
        if (line_length < static_cast<int>(sizeof line) - 1) line[line_length++] = ch;
        continue;
      }
      line[line_length] = '\0';
      line_length = 0;
      pid_t pgid = 0;
      for (const char* p = line + 1; *p >= '0' && *p <= '9'; ++p) pgid = pgid * 10 + (*p - '0');
      if (pgid <= 1) continue;
      if (line[0] == '+' && count < kMaxGroups) {
        groups[count++] = pgid;
      } else if (line[0] == '-') {
        for (int k = 0; k < count; ++k)
          if (groups[k] == pgid) { groups[k] = groups[--count]; break; }
      }
    }
  }
  // caviar is gone: end what it left running, its groups and the processes that left them
  // (they carry caviar's tag in their environment, run/process_sweep.h).
  for (int k = 0; k < count; ++k) kill(-groups[k], SIGTERM);
  const int tagged = signal_tagged(tag_prefix, tag_prefix_length, true, SIGTERM);
  if (count > 0 || tagged > 0) {
    struct timespec pause = {2, 0};
    nanosleep(&pause, nullptr);
    for (int k = 0; k < count; ++k) kill(-groups[k], SIGKILL);
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
