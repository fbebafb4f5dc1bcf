// Trials as JSON, CSV and text tables, for `caviar trials`, `caviar best`, `caviar export`
// and for library users. Parameter values are the user's values (not internal ones),
// rendered from each trial's stored distributions, so Optuna-written trials work too.
#pragma once

#include <string>
#include <vector>

#include "caviar/trial.h"

namespace caviar {

// {"number", "state", "params": {name: value}, "value", "intermediate": {step: value},
//  "started", "finished", "duration_s", "reason", "system_attrs"}; absent fields are null.
json trial_to_json(const TrialRecord& trial);

// One row per trial: number,state,value,duration_s,params_<name>...,reason.
std::string trials_to_csv(const std::vector<TrialRecord>& trials);

// An aligned text table for a terminal (params abbreviated), with a header row.
std::string trials_to_table(const std::vector<TrialRecord>& trials);

// Rows of cells as a plain-text table: columns padded to their widest cell, two spaces
// apart, no trailing spaces. The first row is the header.
std::string aligned_table(const std::vector<std::vector<std::string>>& rows);

// A trial's params as "name=value" pairs joined by ", " (floats to 4 significant digits).
std::string params_text(const TrialRecord& trial);

// PBT (include/caviar/pbt.h):
// Every member's chain, from the trials' "caviar:pbt" attributes: [{"member": m,
// "trials": [{"number", "state", "value", "segment", "step", "stop", "parent_trial",
// "donor_trial", "donor_member", "changes", "params"}, ...]}, ...], members and trials in
// order. Trials without the attribute are left out.
json pbt_lineage(const std::vector<TrialRecord>& trials);

// The same as an aligned text table, one row per segment, grouped by member:
//   member  seg  #   steps  state     value   origin
//   0       1    5   3-4    complete  0.4312  copied member 2 (#6): lr 0.01 -> 0.012
std::string pbt_lineage_table(const std::vector<TrialRecord>& trials);

// A babysat run (include/caviar/babysit.h) as a tree, for `caviar trials --lineage`, the
// report and the dashboard, or null if the study has none:
//   {"segments": [{number, state, value, step, stop, branch, parent_trial, restore_trial,
//     origin, changes, note, rejected, rerun_of, reason, test_acc, ended, params, points:
//     [[step, value], ...] what it reported}, ...] (by number),
//    "curve": [{step, trial, value, train_loss, val_loss, val_acc, test_acc, time}] (the
//     current branch), "best_day": the complete segment with the highest test accuracy
//     (else the best value), "controls": [{id, action, params, to, time, by, note,
//     applied_by, waiting}] (applied_by: the segment that applied it, or null; waiting: a
//     set or rollback not applied yet), "paused_since": when
//     the pause in force was given, or null}.
json babysit_tree(const std::vector<TrialRecord>& trials, const json& study_system_attrs, Direction direction);
// The same as a table: one row per segment, in order, with its branch and origin:
//   branch  #   steps  state     value   test    origin
//   0       4   1-1    complete  0.8123  0.8011  start (best trial #15)
//   1       9   4-4    complete  0.8512  0.8433  rollback to step 3: lr 0.01 -> 0.003
std::string babysit_tree_table(const json& tree);

}  // namespace caviar
