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

}  // namespace caviar
