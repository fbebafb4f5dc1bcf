#include "caviar/trial.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/error.h"

namespace caviar {

const char* to_string(TrialState state) {
  switch (state) {
    case TrialState::Running: return "running";
    case TrialState::Complete: return "complete";
    case TrialState::Pruned: return "pruned";
    case TrialState::Failed: return "failed";
    case TrialState::Waiting: return "waiting";
  }
  return "?";
}

TrialState trial_state_from_string(const std::string& text) {
  if (text == "running") return TrialState::Running;
  if (text == "complete") return TrialState::Complete;
  if (text == "pruned") return TrialState::Pruned;
  if (text == "failed" || text == "fail") return TrialState::Failed;
  if (text == "waiting") return TrialState::Waiting;
  throw UsageError("state", fmt::format("'{}' is not one of complete, pruned, failed, running, waiting", text));
}

bool is_finished(TrialState state) {
  return state == TrialState::Complete || state == TrialState::Pruned ||
         state == TrialState::Failed;
}

const char* to_string(Direction direction) {
  return direction == Direction::Minimize ? "minimize" : "maximize";
}

Direction direction_from_string(const std::string& text) {
  if (text == "minimize" || text == "min") return Direction::Minimize;
  if (text == "maximize" || text == "max") return Direction::Maximize;
  throw ConfigError("direction", fmt::format("must be minimize or maximize, got '{}'", text));
}

const Parameter* TrialRecord::parameter(const std::string& name) const {
  if (!parameters) return nullptr;
  auto it = parameters->find(name);
  return it == parameters->end() ? nullptr : &it->second;
}

json TrialRecord::user_value(const std::string& name) const {
  auto it = params.find(name);
  if (it == params.end()) return nullptr;
  if (const Parameter* p = parameter(name)) {
    try {
      return p->external(it->second);
    } catch (const std::exception&) {
      // a stored value outside its definition (a hand-edited study): show the number
    }
  }
  return it->second;
}

std::string TrialRecord::reason() const {
  auto it = system_attrs.find(attr::kReason);
  return it != system_attrs.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string TrialRecord::reason_line() const {
  return one_line_reason(reason());
}

std::string one_line_reason(const std::string& reason) {
  const std::size_t nl = reason.find('\n');
  if (nl == std::string::npos) return reason;
  std::string first = reason.substr(0, nl);
  for (const char* quote : {"; last lines of stderr:", "; last line of stderr:"})
    if (first.size() >= std::strlen(quote) && first.ends_with(quote)) first.resize(first.size() - std::strlen(quote));
  // The last line with something on it: what a failing program says last is its error.
  std::size_t end = reason.size();
  while (end > nl) {
    std::size_t start = reason.rfind('\n', end - 1);
    std::string line = reason.substr(start + 1, end - start - 1);
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      line.erase(0, line.find_first_not_of(" \t"));
      return first + ": " + line;
    }
    end = start;
  }
  return first;
}

std::map<std::string, double> TrialRecord::last_metrics() const {
  std::map<std::string, double> out;
  auto it = system_attrs.find(attr::kMetrics);
  if (it == system_attrs.end() || !it->is_object() || it->empty()) return out;
  const json* last = nullptr;
  long long last_step = 0;
  for (const auto& [key, values] : it->items()) {
    char* end = nullptr;
    long long step = std::strtoll(key.c_str(), &end, 10);
    if (*end != '\0' || !values.is_object()) continue;
    if (!last || step > last_step) last = &values, last_step = step;
  }
  if (last)
    for (const auto& [name, v] : last->items())
      if (v.is_number()) out[name] = v.get<double>();
  return out;
}

bool TrialRecord::counted() const {
  auto it = system_attrs.find(attr::kUncounted);
  return !(state == TrialState::Failed && it != system_attrs.end() && *it == true);
}

double TrialRecord::duration_seconds() const {
  if (!started) return 0;
  auto end = finished ? *finished : Clock::now();
  return std::chrono::duration<double>(end - *started).count();
}

Trial::Trial(TrialRecord record, const SearchSpace* space)
    : record_(std::move(record)), space_(space) {}

bool Trial::has(const std::string& name) const { return record_.params.count(name) > 0; }

namespace {
double lookup(const TrialRecord& r, const std::string& name) {
  auto it = r.params.find(name);
  if (it == r.params.end())
    throw UsageError(name, fmt::format("trial {} has no such parameter (unknown, or its "
                                       "condition does not hold)", r.number));
  return it->second;
}
}  // namespace

double Trial::float_param(const std::string& name) const { return lookup(record_, name); }

std::int64_t Trial::int_param(const std::string& name) const {
  return std::llround(lookup(record_, name));
}

json Trial::choice(const std::string& name) const { return value(name); }

json Trial::value(const std::string& name) const {
  double internal = lookup(record_, name);
  if (space_ && space_->find(name)) return space_->at(name).external(internal);
  if (const Parameter* p = record_.parameter(name)) return p->external(internal);
  return internal;
}

json Trial::params_json() const {
  json out = json::object();
  for (const auto& [name, internal] : record_.params) out[name] = value(name);
  return out;
}

void Trial::report(std::int64_t step, double value) {
  record_.intermediate[step] = value;
  if (sink_) sink_(step, value);
  if (should_stop()) throw TrialPruned();
}

bool Trial::should_stop() const { return stop_ && stop_(); }

void Trial::set_sinks(ReportSink sink, StopQuery stop) {
  sink_ = std::move(sink);
  stop_ = std::move(stop);
}

bool better(Direction direction, double a, double b) {
  return direction == Direction::Minimize ? a < b : a > b;
}

bool rankable(const TrialRecord& trial) {
  return trial.state == TrialState::Complete && trial.value && std::isfinite(*trial.value);
}

const TrialRecord* best_trial(const std::vector<TrialRecord>& trials, Direction direction) {
  const TrialRecord* best = nullptr;
  for (const auto& t : trials)
    if (rankable(t) && (!best || better(direction, *t.value, *best->value))) best = &t;
  return best;
}

json retry_attrs(const TrialRecord& failed, int retry) {
  int attempt = failed.system_attrs.value(attr::kAttempt, 1);
  if (attempt > retry) return nullptr;
  return {{attr::kAttempt, attempt + 1}, {attr::kRetryOf, failed.number}};
}

}  // namespace caviar
