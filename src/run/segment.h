// A segment trial: a model continued from a checkpoint for a stretch of steps (PBT's
// members, the babysat model). The tuner's side of it: its checkpoint folders before
// it runs, its reports after.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "caviar/executor.h"
#include "caviar/storage.h"
#include "caviar/trial.h"

namespace caviar::detail {

// A segment trial to insert: its parameters, its lineage under `key` ("caviar:pbt" or
// "caviar:babysit"), its own checkpoint folder (<trial_dir>/checkpoint) and the checkpoint
// folder it restores ("" for none).
TrialDraft segment_draft(Params params, const char* key, json lineage, const std::string& restore_source,
                         const std::filesystem::path& trial_root, int number);

// Fills the segment fields of `context` from the started trial's lineage (`lineage`: its
// "caviar:pbt" or "caviar:babysit" attribute, for its start and stop steps and the trial
// it restores; null: not a segment) and attributes ("caviar:checkpoint_dir",
// "caviar:restore_source"): an empty checkpoint folder, and a copy of the checkpoint to
// restore at <trial_dir>/restore (so that no other trial can change it while this one
// reads it). Returns "" or why it cannot run.
std::string prepare_segment(const TrialRecord& trial, const json* lineage, TrialContext& context);

// After a segment completed: "" if it reported steps after its start up to its stop step
// and (unless it ends at `max_steps`) left a checkpoint; else why it is failed.
std::string check_segment(const std::map<std::int64_t, double>& reports,
                          const TrialContext& context, std::int64_t max_steps);

// Removes the restore copy (the original stays with the trial that wrote it).
void cleanup_segment(const TrialContext& context);

}  // namespace caviar::detail
