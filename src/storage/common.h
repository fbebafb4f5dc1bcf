// Helpers shared by the storage implementations.
#pragma once

#include <chrono>
#include <string>

#include "base/format.h"
#include "caviar/storage.h"

namespace caviar::detail {

// A storage URL as open_storage() (caviar/storage.h) reads it, before anything is opened:
// which store, and for SQLite the file and the schema. Throws StorageError, whose message
// shows the URL redacted.
struct StorageUrl {
  enum class Kind { Memory, Sqlite, Postgres } kind = Kind::Memory;
  std::string sqlite_path;
  std::string schema = "v3.2.0.a";
};
StorageUrl parse_storage_url(const std::string& url);

// Throws UsageError if an existing study is opened with another direction.
void check_direction(const StudyRecord& study, Direction wanted);

// Throws StorageError (at `where`) unless `revision` is an Optuna schema revision that
// caviar reads: v3.0.0.d or v3.2.0.a.
void check_revision(const std::string& where, const std::string& revision);

// The system attributes of a trial failed as stale after `silence` without heartbeat.
json stale_attrs(Clock::duration silence);

// The system attribute "caviar:owner" of a trial that this process starts and beats for:
// {"host", "boot_id", "pid_ns", "pid", "start"} (core/process_identity.h).
json owner_attr();

// If `owner` (a trial's caviar:owner) names a process on this machine, boot and pid
// namespace that no longer runs (its pid is gone, or is another process now): the system
// attributes to fail the trial with, as stale and uncounted, at once. Null otherwise: the
// owner lives, or runs elsewhere (those wait for the heartbeat rule), or is unknown.
json dead_owner_attrs(const json& owner);

// Optuna's fixed_params of a waiting trial, as internal values of `space` (names that
// are not in the space are dropped).
Params fixed_params(const TrialRecord& waiting, const SearchSpace* space);



void add_to_counts(TrialCounts& counts, const TrialRecord& trial);

// The record of a trial that start_trial has just written as running, without reading it
// back; `started` as written (format_time).
TrialRecord running_trial(std::int64_t id, int number, TrialDraft draft,
                          std::shared_ptr<const std::map<std::string, Parameter>> parameters,
                          const std::string& started);

// Optuna's names in its tables: trial states ("RUNNING", ..., "FAIL") and value types.
// A non-finite value is stored as NULL plus its type ("INF_POS", "INF_NEG", "NAN"); a NULL
// whose type is "FINITE" reads back as NaN.
const char* optuna_state(TrialState state);
TrialState state_from_optuna(const std::string& text);
const char* optuna_value_type(double value);
double value_from_optuna(std::optional<double> stored, const std::string& type);


}  // namespace caviar::detail
