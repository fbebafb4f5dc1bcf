// Storage: the single source of truth for studies and trials.
//
// Every worker (thread, process, machine) reads history from a Storage and writes results
// to it; nothing about a study lives only in memory. Implementations:
//   memory     in-process, for library users and tests       "memory" or ""
//   sqlite     the embedded default, WAL, one file            "sqlite:///path/to/file.db"
//   postgres   one server, workers on many machines           "postgresql://user@host/db"
// The SQL layout is Optuna's RDB schema (revision v3.2.0.a by default; add
// "?schema=v3.0.0.d" to the URL of a new SQLite file or PostgreSQL database for Optuna
// 3.0/3.1), so Optuna and optuna-dashboard read caviar's studies and caviar continues
// Optuna's.
//
// All methods are safe to call from several threads at once. Every state change is one
// transaction. Methods throw StorageError when the store cannot be read or written and
// UsageError for an unknown study or trial.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caviar/trial.h"

namespace caviar {

struct StudyRecord {
  std::int64_t id = 0;
  std::string name;
  Direction direction = Direction::Minimize;
  json system_attrs = json::object();
  json user_attrs = json::object();
};

// How many trials of a study are in each state; `counted` is what the budget compares.
struct TrialCounts {
  int running = 0, waiting = 0, complete = 0, pruned = 0, failed = 0;
  int counted = 0;  // trials that use up the budget (all but uncounted failures)
  int total() const { return running + waiting + complete + pruned + failed; }
  int& of(TrialState state);  // the count of one state
};

// A trial to run again: its fixed params (user values) and the new trial's attributes.
struct Requeue {
  json params;
  json system_attrs;
};

// A new trial to insert: parameters (internal values) and system attributes.
struct TrialDraft {
  Params params;
  json system_attrs = json::object();
};

// Decides the next trial inside the storage's write transaction, given the history
// (all trials of the study, every state), the fixed params of a waiting trial that is
// being claimed (empty for a new trial) and the number the trial will have. Returns
// nullopt when there is nothing left to run (a grid that is exhausted).
using Proposer = std::function<std::optional<TrialDraft>(
    const std::vector<TrialRecord>& history, const Params& fixed, int number)>;

struct StartRequest {
  std::int64_t study_id = 0;
  const SearchSpace* space = nullptr;  // for distributions and enqueued (waiting) trials
  Proposer propose;
  std::optional<int> budget;           // total counted trials the study may hold
  bool needs_history = true;           // false: propose gets an empty history (faster)
  bool heartbeat = true;               // the caller will beat for this trial
  int retry = 0;                       // stale trials are enqueued again up to this many times
};

class Storage {
 public:
  virtual ~Storage() = default;

  // The study with this name, created with `direction` if it does not exist. An existing
  // study with another direction throws UsageError.
  virtual StudyRecord open_study(const std::string& name, Direction direction) = 0;
  virtual std::optional<StudyRecord> find_study(const std::string& name) = 0;
  virtual std::vector<StudyRecord> studies() = 0;
  virtual void set_study_attr(std::int64_t study_id, const std::string& key,
                              const json& value) = 0;

  // Starts one trial, atomically: fails stale trials first (see fail_stale; with
  // request.retry, their params are enqueued again), then claims the oldest waiting trial
  // or, if the budget allows, inserts a new one from the proposer. Returns the running trial, or nullopt if the budget is reached or the
  // proposer has nothing left.
  virtual std::optional<TrialRecord> start_trial(const StartRequest& request) = 0;

  // Enqueues a trial with fixed parameters (Optuna's WAITING state with "fixed_params").
  virtual TrialRecord enqueue_trial(std::int64_t study_id, const json& fixed_params,
                                    const json& system_attrs) = 0;

  virtual void report(std::int64_t trial_id, std::int64_t step, double value) = 0;
  // Adds a parameter to a running trial, stored with its definition as Optuna's
  // set_trial_param does: a parameter that an objective asks for by define-by-run (the
  // Python API's suggest_*) and the study's space does not declare. Throws UsageError if
  // the trial is not running.
  virtual void set_trial_param(std::int64_t trial_id, const Parameter& parameter,
                               double internal) = 0;
  virtual void set_trial_attr(std::int64_t trial_id, const std::string& key,
                              const json& value) = 0;
  // Records that the owners of these running trials are alive.
  virtual void heartbeat(const std::vector<std::int64_t>& trial_ids) = 0;

  // Moves a running trial to a finished state with its value and extra system attributes,
  // and, in the same transaction, enqueues `requeue` if given (a retry of its params).
  // Returns false, changing nothing, if the trial is no longer running (for example it
  // was failed as stale by another worker).
  virtual bool finish_trial(std::int64_t trial_id, TrialState state,
                            std::optional<double> value, const json& system_attrs,
                            const std::optional<Requeue>& requeue = std::nullopt) = 0;

  // Fails every running trial of the study whose last heartbeat is older than `grace`
  // (trials that never beat are left alone), with reason "stale" and uncounted. Returns
  // them as they were before.
  virtual std::vector<TrialRecord> fail_stale(std::int64_t study_id,
                                              std::chrono::milliseconds grace) = 0;

  // Runs the study's failed trials again, in one transaction: every failed trial that
  // still counts against the budget (not interrupted, stale or already rerun) is marked
  // uncounted with caviar:rerun_as = the number of a new waiting trial that holds its
  // parameters (`space` turns them into the user's values) with caviar:retry_of and
  // caviar:attempt. Returns the new waiting trials (none if nothing had failed).
  virtual std::vector<TrialRecord> rerun_failed(std::int64_t study_id, const SearchSpace& space) = 0;

  // Deletes the study and everything stored with it (its attributes and directions, its
  // trials with their parameters, values, reports, attributes and heartbeats), in one
  // transaction. Throws UsageError for an unknown study.
  virtual void delete_study(std::int64_t study_id) = 0;

  virtual std::vector<TrialRecord> trials(std::int64_t study_id) = 0;
  virtual std::optional<TrialRecord> trial(std::int64_t study_id, int number) = 0;
  virtual TrialCounts counts(std::int64_t study_id) = 0;
  // The study's best trial (best_trial in trial.h, the one rule), or nullopt. By default
  // from trials(); a storage that holds the trials in memory finds it without copying them.
  virtual std::optional<TrialRecord> best(std::int64_t study_id, Direction direction) {
    const std::vector<TrialRecord> all = trials(study_id);
    const TrialRecord* found = best_trial(all, direction);
    return found ? std::optional<TrialRecord>(*found) : std::nullopt;
  }

  // For a reader that follows a study as it grows (the dashboard), reading only what may
  // have changed since its last look: the trials whose id is above `after_id`, by id, at
  // most `limit` of them, and the trials whose ids are in `again` (those the reader last
  // saw running or waiting), all states, in one read. A storage keeps nothing of what it
  // read for this (a reader of a 100,000-trial study holds its own compact copy). By
  // default from trials(); the SQL stores read these trials only.
  virtual std::vector<TrialRecord> trials_after(std::int64_t study_id, std::int64_t after_id, int limit,
                                                const std::vector<std::int64_t>& again);

  // The grace period used by start_trial's stale check (default 60 s).
  void set_stale_grace(std::chrono::milliseconds grace) { stale_grace_ = grace; }
  std::chrono::milliseconds stale_grace() const { return stale_grace_; }

  // Gives up waiting, from any thread: a call that is retrying an unreachable or locked
  // storage (a dropped PostgreSQL connection, a SQLite file that other processes keep
  // locked) throws StorageError at its next retry instead of waiting out its clock, and so
  // does every later call that would wait. For a process told to stop again while it
  // waits: caviar tune's second Ctrl-C.
  void stop_waiting() { stop_waiting_ = true; }
  bool waiting_stopped() const { return stop_waiting_; }

 private:
  std::chrono::milliseconds stale_grace_{60000};
  std::atomic<bool> stop_waiting_{false};
};

// Opens a storage by URL: "memory", "sqlite:///relative.db", "sqlite:////abs/path.db",
// "postgresql://user:password@host:port/database" (a libpq URI: "postgresql:///db" takes
// the host, port and user from PGHOST, PGPORT and PGUSER). A SQLite file that exists, or
// a PostgreSQL database with tables, must be a caviar or Optuna study store. Throws
// StorageError.
//
// Create (the default) makes the tables where there are none yet (and the SQLite file);
// Existing is for reading what was stored: a SQLite file that is not there or is empty, or
// a database without the tables, is an error; caviar writes nothing (SQLite itself may
// create the -shm file of a database in WAL mode to read it). ReadOnly is Existing that
// the database itself holds to reading (SQLite's query_only, without the checkpoint a
// last connection makes on closing; PostgreSQL's read-only transactions): any write
// throws StorageError. The dashboard opens its store so.
enum class OpenMode { Create, Existing, ReadOnly };
std::shared_ptr<Storage> open_storage(const std::string& url, OpenMode mode = OpenMode::Create);
// Whether `url` names the in-process memory store ("", "memory", "memory://"): a store that
// only this process sees, so a second reader must share its Storage, not open another.
bool is_memory_url(const std::string& url);

std::shared_ptr<Storage> make_memory_storage();

// The one way a storage URL reaches a message, a printout or a file: the URL with its
// password ("user:password@", or a "password=" parameter, in any scheme, misspelt ones
// included) replaced by "***". A URL of more than 4096 characters is an error anyway; its
// text is not shown at all.
std::string redacted_url(const std::string& url);
// The URL without its password at all (for a config that caviar writes: libpq then takes
// the password from PGPASSWORD or ~/.pgpass).
std::string url_without_password(const std::string& url);
// `text` (a library's message about `url`, which may quote parts of it) with the URL's
// password taken out wherever it shows, as written or percent-decoded.
std::string without_secrets_of(const std::string& url, const std::string& text);
// Remembers the passwords of `url` (open_storage() and the config do, for every URL they
// see), so that without_noted_secrets() can take them out of any message: the command
// line's last line of defence, for a message that quotes a URL another way.
void note_secrets_of(const std::string& url);
std::string without_noted_secrets(std::string text);

}  // namespace caviar
