// The Tuner's side of a PBT segment trial (include/caviar/pbt.h): setting up its
// checkpoint folders before it runs, checking what it did after.
#pragma once

#include <string>

#include "caviar/executor.h"
#include "caviar/pbt.h"

namespace caviar::detail {

// Fills the segment fields of `context` from the started trial's attributes
// ("caviar:pbt", "caviar:checkpoint_dir", "caviar:restore_source"): an empty checkpoint
// folder, and a copy of the checkpoint to restore at <trial_dir>/restore (so that no
// other trial can change it while this one reads it). Returns "" or why it cannot run.
std::string pbt_prepare(const TrialRecord& trial, TrialContext& context);

// After a segment completed: "" if it reported steps after its start up to its stop step
// and (unless it ends at `max_steps`) left a checkpoint; else why it is failed.
std::string pbt_check(const std::map<std::int64_t, double>& reports, const TrialContext& context,
                      std::int64_t max_steps);

// Removes the restore copy (the original stays with the trial that wrote it).
void pbt_cleanup(const TrialContext& context);

}  // namespace caviar::detail
