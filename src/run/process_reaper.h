// The process reaper: a small watchdog process, forked once, that ends every trial's
// process group if caviar dies without doing so itself (SIGKILL, a crash). caviar tells it
// which groups are alive through a pipe; when the pipe closes (caviar is gone), it sends
// SIGTERM then SIGKILL to each group still listed, and to every process that carries the tag
// of one of caviar's trials (those that left their group: run/process_sweep.h). So no trial
// outlives caviar.
#pragma once

#include <sys/types.h>

namespace caviar::detail {

// Starts the reaper if it is not running: called before a trial is spawned, so that a
// caviar killed between the spawn and reaper_watch() leaves no trial behind (the reaper
// still finds it by its tag).
void reaper_start();
// Registers a trial's process group (starting the reaper on first use).
void reaper_watch(pid_t pgid);
// The group has ended or been killed by caviar itself.
void reaper_forget(pid_t pgid);

}  // namespace caviar::detail
