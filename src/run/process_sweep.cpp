#include "run/process_sweep.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace caviar::detail {
namespace {

// Whether the environment of the process behind `dir_fd` (its /proc folder) has the entry.
bool has_entry(int dir_fd, const char* entry, std::size_t length, bool prefix) {
  int fd = openat(dir_fd, "environ", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[4096];
  std::size_t position = 0;  // in the current entry
  bool matching = true;      // the current entry agrees with `entry` so far
  bool found = false;
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n && !found; ++i) {
      const char c = buffer[i];
      if (c == '\0') {
        if (matching && (prefix ? position >= length : position == length)) found = true;
        position = 0;
        matching = true;
        continue;
      }
      if (matching && position < length) matching = entry[position] == c;
      else if (position >= length && !prefix) matching = false;
      ++position;
    }
    if (found) break;
  }
  close(fd);
  return found;
}

}  // namespace

std::string trial_tag_variable(pid_t pid, std::uint64_t start) {
  return "CAVIAR_TRIAL_TAG_" + std::to_string(pid) + "_" + std::to_string(start);
}

int signal_tagged(const char* entry, std::size_t length, bool prefix, int sig) {
  int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return 0;
  const pid_t self = getpid();
  int signalled = 0;
  alignas(8) char buffer[8192];
  for (;;) {
    ssize_t n = getdents64(proc, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t offset = 0; offset < n;) {
      auto* d = reinterpret_cast<dirent64*>(buffer + offset);
      offset += d->d_reclen;
      pid_t pid = 0;
      const char* p = d->d_name;
      for (; *p >= '0' && *p <= '9'; ++p) pid = pid * 10 + (*p - '0');
      if (*p != '\0' || pid <= 1 || pid == self) continue;
      int dir = openat(proc, d->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dir < 0) continue;
      if (has_entry(dir, entry, length, prefix)) {
        // Hold the process, then look again through the folder opened before: that folder
        // belongs to the process first seen (it reads as gone once that one exits), so a
        // pid reused in between is not signalled.
        int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
        if (pidfd >= 0 && has_entry(dir, entry, length, prefix) &&
            syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0)
          ++signalled;
        else if (pidfd < 0 && errno == ENOSYS && kill(pid, sig) == 0)  // a kernel before 5.3
          ++signalled;
        if (pidfd >= 0) close(pidfd);
      }
      close(dir);
    }
  }
  close(proc);
  return signalled;
}

void kill_tagged(const char* entry, std::size_t length, bool prefix, int rounds) {
  for (int i = 0; i < rounds; ++i) {
    if (signal_tagged(entry, length, prefix, SIGKILL) == 0) return;
    struct timespec pause = {0, 10 * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
}

}  // namespace caviar::detail
