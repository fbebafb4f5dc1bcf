// The in-memory storage: studies and trials in this process only, guarded by one mutex.
#include <algorithm>
#include <mutex>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/error.h"
#include "caviar/storage.h"
#include "storage/common.h"

namespace caviar {
namespace {

using namespace detail;

class MemoryStorage final : public Storage {
 public:
  StudyRecord open_study(const std::string& name, Direction direction) override {
    std::lock_guard lock(mutex_);
    for (auto& s : studies_) {
      if (s.deleted || s.record.name != name) continue;
      check_direction(s.record, direction);
      return s.record;
    }
    Study s;
    s.record.id = static_cast<std::int64_t>(studies_.size()) + 1;
    s.record.name = name;
    s.record.direction = direction;
    studies_.push_back(std::move(s));
    return studies_.back().record;
  }

  std::optional<StudyRecord> find_study(const std::string& name) override {
    std::lock_guard lock(mutex_);
    for (auto& s : studies_)
      if (!s.deleted && s.record.name == name) return s.record;
    return std::nullopt;
  }

  std::vector<StudyRecord> studies() override {
    std::lock_guard lock(mutex_);
    std::vector<StudyRecord> out;
    for (auto& s : studies_)
      if (!s.deleted) out.push_back(s.record);
    return out;
  }

  void set_study_attr(std::int64_t study_id, const std::string& key, const json& value) override {
    std::lock_guard lock(mutex_);
    study(study_id).record.system_attrs[key] = value;
  }

  std::optional<TrialRecord> start_trial(const StartRequest& request) override {
    std::lock_guard lock(mutex_);
    Study& s = study(request.study_id);
    auto now = Clock::now();
    for (const auto& stale : fail_stale_locked(s, stale_grace(), now)) {
      json attrs = retry_attrs(stale, request.retry);
      if (!attrs.is_null() && request.space)
        enqueue_locked(s, request.study_id, request.space->to_json(stale.params), attrs);
    }
    TrialRecord* waiting = nullptr;
    if (s.waiting > 0)
      for (auto& t : s.trials)
        if (t.state == TrialState::Waiting) { waiting = &t; break; }
    if (!waiting && request.budget && counted(s) >= *request.budget) return std::nullopt;
    Params fixed = waiting ? fixed_params(*waiting, request.space) : Params{};
    static const std::vector<TrialRecord> no_history;
    int number = waiting ? waiting->number : static_cast<int>(s.trials.size());
    auto draft = request.propose(request.needs_history ? s.trials : no_history, fixed, number);
    if (!draft) return std::nullopt;
    TrialRecord* t = waiting;
    if (waiting) --s.waiting;
    if (!t) {
      s.trials.emplace_back();
      t = &s.trials.back();
      t->id = next_trial_id_++;
      t->number = static_cast<int>(s.trials.size()) - 1;
      ids_[t->id] = {request.study_id, t->number};
    }
    t->state = TrialState::Running;
    t->params = draft->params;
    if (request.space) t->parameters = request.space->by_name();
    t->system_attrs.update(draft->system_attrs);
    if (request.heartbeat) t->system_attrs[attr::kOwner] = owner_attr();
    t->started = now;
    if (request.heartbeat) s.beats[t->id] = now;
    return *t;
  }

  TrialRecord enqueue_trial(std::int64_t study_id, const json& fixed_params,
                            const json& system_attrs) override {
    std::lock_guard lock(mutex_);
    return enqueue_locked(study(study_id), study_id, fixed_params, system_attrs);
  }

  void report(std::int64_t trial_id, std::int64_t step, double value) override {
    std::lock_guard lock(mutex_);
    trial_by_id(trial_id).intermediate[step] = value;
  }

  void set_trial_param(std::int64_t trial_id, const Parameter& parameter, double internal) override {
    std::lock_guard lock(mutex_);
    TrialRecord& t = trial_by_id(trial_id);
    if (t.state != TrialState::Running)
      throw UsageError(fmt::format("trial id {}", trial_id),
                       "the trial is not running: a parameter is added while it runs");
    // The trial's definitions are shared with the other trials of its space: this one
    // gets its own copy with the new parameter.
    auto parameters = t.parameters ? std::make_shared<std::map<std::string, Parameter>>(*t.parameters)
                                   : std::make_shared<std::map<std::string, Parameter>>();
    (*parameters)[parameter.name] = parameter;
    t.parameters = std::move(parameters);
    t.params[parameter.name] = internal;
  }

  void set_trial_attr(std::int64_t trial_id, const std::string& key, const json& value) override {
    std::lock_guard lock(mutex_);
    trial_by_id(trial_id).system_attrs[key] = value;
  }

  void heartbeat(const std::vector<std::int64_t>& trial_ids) override {
    std::lock_guard lock(mutex_);
    auto now = Clock::now();
    for (auto id : trial_ids) {
      auto [study_id, number] = ids_.at(id);
      Study& s = study(study_id);
      if (s.trials[number].state == TrialState::Running) s.beats[id] = now;
    }
  }

  bool finish_trial(std::int64_t trial_id, TrialState state, std::optional<double> value,
                    const json& system_attrs, const std::optional<Requeue>& requeue) override {
    std::lock_guard lock(mutex_);
    TrialRecord& t = trial_by_id(trial_id);
    if (t.state != TrialState::Running) return false;
    t.state = state;
    t.value = value;
    t.finished = Clock::now();
    if (system_attrs.is_object()) t.system_attrs.update(system_attrs);
    std::int64_t study_id = ids_.at(trial_id).first;
    if (!t.counted()) ++study(study_id).uncounted;
    study(study_id).beats.erase(trial_id);
    if (requeue) enqueue_locked(study(study_id), study_id, requeue->params, requeue->system_attrs);
    return true;
  }

  std::vector<TrialRecord> fail_stale(std::int64_t study_id,
                                      std::chrono::milliseconds grace) override {
    std::lock_guard lock(mutex_);
    return fail_stale_locked(study(study_id), grace, Clock::now());
  }

  std::vector<TrialRecord> rerun_failed(std::int64_t study_id, const SearchSpace& space) override {
    std::lock_guard lock(mutex_);
    Study& s = study(study_id);
    std::vector<TrialRecord> out;
    const std::size_t before = s.trials.size();  // not the trials enqueued here
    for (std::size_t i = 0; i < before; ++i) {
      if (s.trials[i].state != TrialState::Failed || !s.trials[i].counted()) continue;
      const TrialRecord failed = s.trials[i];
      json attrs = {{attr::kAttempt, failed.system_attrs.value(attr::kAttempt, 1) + 1},
                    {attr::kRetryOf, failed.number}};
      out.push_back(enqueue_locked(s, study_id, space.to_json(failed.params), attrs));
      s.trials[i].system_attrs[attr::kUncounted] = true;
      s.trials[i].system_attrs[attr::kRerunAs] = out.back().number;
      ++s.uncounted;
    }
    return out;
  }

  void delete_study(std::int64_t study_id) override {
    std::lock_guard lock(mutex_);
    Study& s = study(study_id);
    for (const auto& t : s.trials) ids_.erase(t.id);
    s = Study{};
    s.deleted = true;  // ids are indices: the slot stays, empty
  }

  std::vector<TrialRecord> trials(std::int64_t study_id) override {
    std::lock_guard lock(mutex_);
    return study(study_id).trials;
  }

  std::optional<TrialRecord> trial(std::int64_t study_id, int number) override {
    std::lock_guard lock(mutex_);
    Study& s = study(study_id);
    if (number < 0 || number >= static_cast<int>(s.trials.size())) return std::nullopt;
    return s.trials[number];
  }

  std::optional<TrialRecord> best(std::int64_t study_id, Direction direction) override {
    std::lock_guard lock(mutex_);
    const TrialRecord* found = best_trial(study(study_id).trials, direction);
    return found ? std::optional<TrialRecord>(*found) : std::nullopt;
  }

  TrialCounts counts(std::int64_t study_id) override {
    std::lock_guard lock(mutex_);
    TrialCounts c;
    for (const auto& t : study(study_id).trials) add_to_counts(c, t);
    return c;
  }

 private:
  struct Study {
    StudyRecord record;
    std::vector<TrialRecord> trials;  // index = number
    std::map<std::int64_t, Clock::time_point> beats;
    int waiting = 0;    // trials in the waiting state
    int uncounted = 0;  // failed trials that do not use up the budget
    bool deleted = false;
  };

  TrialRecord enqueue_locked(Study& s, std::int64_t study_id, const json& fixed_params,
                             const json& system_attrs) {
    TrialRecord t;
    t.id = next_trial_id_++;
    t.number = static_cast<int>(s.trials.size());
    t.state = TrialState::Waiting;
    t.system_attrs = system_attrs.is_object() ? system_attrs : json::object();
    t.system_attrs["fixed_params"] = fixed_params;
    ids_[t.id] = {study_id, t.number};
    s.trials.push_back(t);
    ++s.waiting;
    return t;
  }

  std::mutex mutex_;
  std::vector<Study> studies_;
  std::map<std::int64_t, std::pair<std::int64_t, int>> ids_;  // trial id -> study, number
  std::int64_t next_trial_id_ = 1;

  Study& study(std::int64_t id) {
    if (id < 1 || id > static_cast<std::int64_t>(studies_.size()) || studies_[id - 1].deleted)
      throw UsageError("study", fmt::format("no study with id {}", id));
    return studies_[id - 1];
  }

  TrialRecord& trial_by_id(std::int64_t id) {
    auto it = ids_.find(id);
    if (it == ids_.end()) throw UsageError("trial", fmt::format("no trial with id {}", id));
    return study(it->second.first).trials[it->second.second];
  }

  static int counted(const Study& s) { return static_cast<int>(s.trials.size()) - s.uncounted; }

  std::vector<TrialRecord> fail_stale_locked(Study& s, std::chrono::milliseconds grace,
                                             Clock::time_point now) {
    std::vector<TrialRecord> out;
    for (auto it = s.beats.begin(); it != s.beats.end();) {
      TrialRecord& t = trial_by_id(it->first);
      json attrs;
      if (now - it->second > grace) {
        attrs = stale_attrs(now - it->second);
      } else if (auto owner = t.system_attrs.find(attr::kOwner); owner != t.system_attrs.end()) {
        attrs = dead_owner_attrs(*owner);
      }
      if (attrs.is_null()) { ++it; continue; }
      out.push_back(t);
      t.state = TrialState::Failed;
      t.finished = now;
      t.system_attrs.update(attrs);
      ++s.uncounted;
      it = s.beats.erase(it);
    }
    return out;
  }
};

}  // namespace

std::shared_ptr<Storage> make_memory_storage() { return std::make_shared<MemoryStorage>(); }

}  // namespace caviar
