#include "storage/common.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/error.h"
#include "base/process_identity.h"

namespace caviar {

int& TrialCounts::of(TrialState state) {
  switch (state) {
    case TrialState::Running: return running;
    case TrialState::Waiting: return waiting;
    case TrialState::Complete: return complete;
    case TrialState::Pruned: return pruned;
    case TrialState::Failed: return failed;
  }
  return failed;
}

std::vector<TrialRecord> Storage::trials_after(std::int64_t study_id, std::int64_t after_id, int limit,
                                               const std::vector<std::int64_t>& again) {
  std::vector<TrialRecord> all = trials(study_id), out;
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  int added = 0;
  for (auto& t : all) {
    if (t.id > after_id && added < limit) {
      ++added;
      out.push_back(std::move(t));
    } else if (t.id <= after_id && std::find(again.begin(), again.end(), t.id) != again.end()) {
      out.push_back(std::move(t));
    }
  }
  return out;
}

}  // namespace caviar

namespace caviar::detail {

void check_direction(const StudyRecord& study, Direction wanted) {
  if (study.direction != wanted)
    throw UsageError("study '" + study.name + "'",
                     fmt::format("it exists with direction {}, not {}", to_string(study.direction),
                                 to_string(wanted)));
}

void check_revision(const std::string& where, const std::string& revision) {
  if (revision != "v3.0.0.d" && revision != "v3.2.0.a")
    throw StorageError(where, fmt::format("Optuna schema revision '{}'; caviar reads v3.0.0.d (Optuna 3.0-3.1) "
                                          "and v3.2.0.a (Optuna 3.2-5.x)", revision));
}

json stale_attrs(Clock::duration silence) {
  double seconds = std::chrono::duration<double>(silence).count();
  return {{attr::kReason, fmt::format("stale: no heartbeat from its worker for {:.0f} s "
                                        "(the process was killed or its machine lost)", seconds)},
          {attr::kFailure, "stale"},
          {attr::kUncounted, true}};
}

json owner_attr() {
  const ProcessIdentity& me = this_process();
  return {{"host", me.host}, {"boot_id", me.boot_id}, {"pid_ns", me.pid_ns}, {"pid", me.pid}, {"start", me.start}};
}

json dead_owner_attrs(const json& owner) {
  if (!owner.is_object()) return nullptr;
  ProcessIdentity them;
  try {
    them.host = owner.value("host", "");
    them.boot_id = owner.value("boot_id", "");
    them.pid_ns = owner.value("pid_ns", "");
    them.pid = owner.value("pid", 0);
    them.start = owner.value("start", std::uint64_t{0});
  } catch (const json::exception&) {
    return nullptr;  // not what caviar writes: leave it to the heartbeat rule
  }
  const ProcessIdentity& me = this_process();
  if (!me.same_machine(them) || them.pid <= 0 || them.start == 0) return nullptr;
  if (them.pid == me.pid && them.start == me.start) return nullptr;
  if (process_start_time(them.pid) == them.start) return nullptr;
  return {{attr::kReason, fmt::format("stale: its owner, pid {} on this machine ({}), is gone (killed or crashed); "
                                        "failed at once, not after stale_after", them.pid, them.host)},
          {attr::kFailure, "stale"},
          {attr::kUncounted, true}};
}

Params fixed_params(const TrialRecord& waiting, const SearchSpace* space) {
  Params out;
  auto it = waiting.system_attrs.find("fixed_params");
  if (it == waiting.system_attrs.end() || !it->is_object() || !space) return out;
  for (const auto& [name, value] : it->items())
    if (const Parameter* p = space->find(name)) out[name] = p->internal(value);
  return out;
}


void add_to_counts(TrialCounts& c, const TrialRecord& t) {
  ++c.of(t.state);
  if (t.counted()) ++c.counted;
}

TrialRecord running_trial(std::int64_t id, int number, TrialDraft draft,
                          std::shared_ptr<const std::map<std::string, Parameter>> parameters,
                          const std::string& started) {
  TrialRecord t;
  t.id = id;
  t.number = number;
  t.state = TrialState::Running;
  t.params = std::move(draft.params);
  t.parameters = std::move(parameters);
  t.started = parse_time(started);
  t.system_attrs = std::move(draft.system_attrs);
  return t;
}

const char* optuna_state(TrialState s) {
  switch (s) {
    case TrialState::Running: return "RUNNING";
    case TrialState::Complete: return "COMPLETE";
    case TrialState::Pruned: return "PRUNED";
    case TrialState::Failed: return "FAIL";
    case TrialState::Waiting: return "WAITING";
  }
  return "FAIL";
}

TrialState state_from_optuna(const std::string& s) {
  if (s == "RUNNING") return TrialState::Running;
  if (s == "COMPLETE") return TrialState::Complete;
  if (s == "PRUNED") return TrialState::Pruned;
  if (s == "WAITING") return TrialState::Waiting;
  return TrialState::Failed;
}

const char* optuna_value_type(double v) {
  if (std::isnan(v)) return "NAN";
  if (std::isinf(v)) return v > 0 ? "INF_POS" : "INF_NEG";
  return "FINITE";
}

double value_from_optuna(std::optional<double> stored, const std::string& type) {
  if (type == "INF_POS") return HUGE_VAL;
  if (type == "INF_NEG") return -HUGE_VAL;
  if (type == "NAN" || !stored) return std::nan("");
  return *stored;
}

}  // namespace caviar::detail
