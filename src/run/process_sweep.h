// Finding a trial's processes wherever they went. A process group holds a trial's
// processes only until one of them leaves it (setsid, a daemon's double fork), and a
// double fork also leaves caviar's tree of children. What such a process keeps is its
// environment: every trial gets CAVIAR_TRIAL_TAG_<caviar's pid>_<its start time>=<n>, unique
// to the trial, and everything the trial starts inherits it (a caviar run as a trial of
// another adds its own variable: both hold). So caviar (on timeout, prune, Ctrl-C, or a
// trial's end) and the caviar-reaper (when caviar is gone) signal every process whose
// environment holds the tag.
//
// signal_tagged and kill_tagged make only system calls, no allocation: safe in the reaper,
// a child forked from a threaded process.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace caviar::detail {

// The name of the tag variable of the trials of caviar `pid` started at `start`
// (core/process_identity.h): "CAVIAR_TRIAL_TAG_123_456".
std::string trial_tag_variable(pid_t pid, std::uint64_t start);

// Sends `sig` to every process (but this one) whose environment has an entry equal to
// `entry` ("CAVIAR_TRIAL_TAG_123_456=7"), or, with prefix = true, starting with it
// ("CAVIAR_TRIAL_TAG_123_456=": every trial of one caviar). Returns how many it signalled.
// A process is checked and signalled through a pidfd, so a pid reused meanwhile is not hit.
int signal_tagged(const char* entry, std::size_t length, bool prefix, int sig);

// signal_tagged with SIGKILL, again until no tagged process is left (a process forked
// meanwhile is found by the next pass) or `rounds` passes, 10 ms apart.
void kill_tagged(const char* entry, std::size_t length, bool prefix, int rounds = 100);

}  // namespace caviar::detail
