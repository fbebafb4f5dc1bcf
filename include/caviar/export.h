// Trials as JSON, CSV and text tables, for `caviar trials`, `caviar best`, `caviar export`
// and for library users. Parameter values are the user's values (not internal ones),
// rendered from each trial's stored distributions, so Optuna-written trials work too.
#pragma once

#include <string>
#include <vector>

#include "caviar/storage.h"

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

}  // namespace caviar
