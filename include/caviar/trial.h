// Trials: one evaluation of the objective at one point of the search space.
//
// TrialRecord is a trial as stored: a plain value, safe to copy and share.
// Trial is the live handle an objective gets while it runs; it is used by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caviar/space.h"

namespace caviar {

// The states of Optuna's schema. A failed trial carries its reason in the system attribute
// "caviar:reason"; failures that should not use up the budget (the trial was interrupted,
// its owner vanished, or it is retried) also carry "caviar:uncounted": true.
enum class TrialState { Running, Complete, Pruned, Failed, Waiting };

const char* to_string(TrialState state);         // "running", "complete", ...
TrialState trial_state_from_string(const std::string& text);  // throws UsageError
bool is_finished(TrialState state);              // complete, pruned or failed

enum class Direction { Minimize, Maximize };
const char* to_string(Direction direction);      // "minimize" / "maximize"
Direction direction_from_string(const std::string& text);  // throws ConfigError

using Clock = std::chrono::system_clock;

struct TrialRecord {
  std::int64_t id = 0;       // storage-wide id
  int number = 0;            // 0, 1, 2, ... within the study
  TrialState state = TrialState::Running;
  Params params;             // internal values; see space.h
  // The definition of each param as stored with the trial (for a study Optuna wrote, the
  // only record of its space), shared between the trials of one space; the map may hold
  // more names than params: look up by name.
  std::shared_ptr<const std::map<std::string, Parameter>> parameters;
  std::optional<double> value;
  std::map<std::int64_t, double> intermediate;  // step -> reported value
  std::optional<Clock::time_point> started, finished;
  json system_attrs = json::object();
  json user_attrs = json::object();

  // The stored definition of a param, or nullptr if there is none.
  const Parameter* parameter(const std::string& name) const;
  // The user's value of param `name` (its choice, or its number) through its stored
  // definition; the internal number where there is none or it does not fit.
  json user_value(const std::string& name) const;
  // The failure reason, or "" if none was stored.
  std::string reason() const;
  // The reason on one line, for tables and logs: its first line, and for a reason that
  // quotes the last lines of stderr, the last of them ("exit code 2: train.py: error:
  // unrecognized arguments: --batch 32").
  std::string reason_line() const;
  // The values the trial printed at its last step besides the step (the "caviar:metrics"
  // attribute of a command trial), by name; empty if none.
  std::map<std::string, double> last_metrics() const;
  // Whether this trial uses up one unit of the study's trial budget.
  bool counted() const;
  // Seconds from start to finish (or to now, while running); 0 if never started.
  double duration_seconds() const;
};

// The system attributes of a rerun of `failed` (attempt + 1, retry_of), or null if it
// has used its `retry` attempts already.
json retry_attrs(const TrialRecord& failed, int retry);

// A stored reason on one line (see TrialRecord::reason_line).
std::string one_line_reason(const std::string& reason);

// The better of two values for a direction (strictly: a tie is not better).
bool better(Direction direction, double a, double b);

// Whether a trial can be the best: complete, with a finite value. The one rule behind
// every "best trial" caviar shows or uses; a NaN or infinite value is never best.
bool rankable(const TrialRecord& trial);

// The best rankable trial of `trials` for `direction` (on a tie, the one that comes
// first), or nullptr if none is rankable. The pointer points into `trials`.
const TrialRecord* best_trial(const std::vector<TrialRecord>& trials, Direction direction);

// What an objective reports back; see Trial::report.
using ReportSink = std::function<void(std::int64_t step, double value)>;
// Asks whether the trial should stop now (pruning, Ctrl-C).
using StopQuery = std::function<bool()>;

// The handle an in-process objective receives. Reads parameters by name, reports
// intermediate values. Not thread-safe: one objective call uses it from one thread.
class Trial {
 public:
  Trial(TrialRecord record, const SearchSpace* space);

  int number() const { return record_.number; }
  std::int64_t id() const { return record_.id; }
  const TrialRecord& record() const { return record_; }
  const Params& params() const { return record_.params; }

  bool has(const std::string& name) const;
  // A parameter's value. Throws UsageError if the name is not in this trial (for example
  // a conditional parameter whose condition failed) or has another type.
  double float_param(const std::string& name) const;
  std::int64_t int_param(const std::string& name) const;
  json choice(const std::string& name) const;      // the choice as given in the space
  json value(const std::string& name) const;       // any type, as JSON
  json params_json() const;                        // {name: value}

  // Records an intermediate value (stored at once). If the study's pruner judges the
  // trial hopeless or the study is stopping, throws TrialPruned; the objective should
  // let it propagate.
  void report(std::int64_t step, double value);
  bool should_stop() const;

  // Wiring used by Study; objectives do not call these.
  void set_sinks(ReportSink sink, StopQuery stop);

 private:
  TrialRecord record_;
  const SearchSpace* space_;
  ReportSink sink_;
  StopQuery stop_;
};

}  // namespace caviar
