#include "caviar/study.h"

#include <cmath>
#include <ctime>
#include <mutex>
#include <thread>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "caviar/error.h"
#include "core/format.h"
#include "storage/common.h"

namespace caviar {

bool better(Direction direction, double a, double b) {
  return direction == Direction::Minimize ? a < b : a > b;
}

namespace {

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string number_text(const json& v) {
  if (v.is_number_float()) return detail::shortest(v.get<double>());
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// A parameter of a stored space in words: "float [1e-05, 1] log", "choice [sgd, adam]".
std::string describe(const json& d) {
  if (!d.is_object()) return d.dump();
  std::string type = d.value("type", std::string("?"));
  std::string out = type;
  if (type == "choice" || type == "categorical") {
    std::vector<std::string> values;
    for (const auto& v : d.value("values", json::array())) values.push_back(number_text(v));
    out += fmt::format(" [{}]", fmt::join(values, ", "));
  } else {
    out += fmt::format(" [{}, {}]", number_text(d.value("low", json())), number_text(d.value("high", json())));
    if (d.contains("scale")) out += " " + number_text(d["scale"]);
    if (d.contains("step")) out += " step " + number_text(d["step"]);
  }
  if (d.contains("when")) out += fmt::format(" when \"{}\"", number_text(d["when"]));
  return out;
}

}  // namespace

Study::Study(std::shared_ptr<Storage> storage, StudyOptions options)
    : storage_(std::move(storage)), options_(std::move(options)) {
  if (!storage_) throw UsageError("study", "no storage given");
  sampler_ = make_sampler(options_.sampler);
  if (options_.pruner.name != "none") pruner_ = make_pruner(options_.pruner);
  storage_->set_stale_grace(options_.stale_after);
  record_ = storage_->open_study(options_.name, options_.direction);
  json space = options_.space.to_config_json();
  auto stored = record_.system_attrs.find("caviar:space");
  if (stored == record_.system_attrs.end() || *stored != space) {
    std::vector<std::string> changes;
    if (stored != record_.system_attrs.end() && stored->is_array()) changes = space_changes(*stored, space);
    if (!changes.empty() && !options_.allow_space_change)
      throw UsageError("parameters",
                       fmt::format("study '{}' was run with other parameters: {}. Name a new study "
                                   "(study: or --study), or continue this one with --allow-space-change",
                                   options_.name, fmt::join(changes, "; ")));
    if (!changes.empty()) {
      json history = record_.system_attrs.value("caviar:space_changes", json::array());
      if (!history.is_array()) history = json::array();
      history.push_back({{"changed", utc_now()}, {"old", *stored}, {"changes", changes}});
      storage_->set_study_attr(record_.id, "caviar:space_changes", history);
      record_.system_attrs["caviar:space_changes"] = history;
    }
    storage_->set_study_attr(record_.id, "caviar:space", space);
    record_.system_attrs["caviar:space"] = space;
  }
}


std::vector<std::string> space_changes(const json& before, const json& after) {
  auto by_name = [](const json& space) {
    std::vector<std::pair<std::string, json>> out;
    if (!space.is_array()) return out;
    for (const auto& d : space) {
      if (!d.is_object() || !d.contains("name") || !d["name"].is_string()) continue;
      json definition = d;
      definition.erase("name");
      out.emplace_back(d["name"].get<std::string>(), definition);
    }
    return out;
  };
  const auto old_params = by_name(before), new_params = by_name(after);
  auto find = [](const auto& params, const std::string& name) -> const json* {
    for (const auto& [n, d] : params)
      if (n == name) return &d;
    return nullptr;
  };
  std::vector<std::string> changes;
  for (const auto& [name, d] : new_params) {
    const json* old = find(old_params, name);
    if (!old) changes.push_back(fmt::format("parameters.{}: new, {}", name, describe(d)));
    else if (*old != d) changes.push_back(fmt::format("parameters.{}: was {}, now {}", name, describe(*old), describe(d)));
  }
  for (const auto& [name, d] : old_params)
    if (!find(new_params, name)) changes.push_back(fmt::format("parameters.{}: removed (was {})", name, describe(d)));
  return changes;
}

std::optional<Trial> Study::ask(bool heartbeat) {
  if (stopping_) return std::nullopt;
  StartRequest request;
  request.study_id = record_.id;
  request.space = &options_.space;
  request.budget = options_.budget;
  request.needs_history = sampler_->needs_history();
  request.heartbeat = heartbeat;
  request.retry = options_.retry;
  std::map<std::string, json> notes;  // the sampler's study attributes (see Sampler::study_notes)
  request.propose = [&](const std::vector<TrialRecord>& history, const Params& fixed,
                        int number) -> std::optional<TrialDraft> {
    SampleContext context{options_.space, history, number, options_.direction, fixed};
    auto params = sampler_->suggest(context);
    if (!params) return std::nullopt;
    notes = sampler_->study_notes(context);
    return TrialDraft{std::move(*params), json::object()};
  };
  auto record = storage_->start_trial(request);
  if (!record) return std::nullopt;
  if (!notes.empty()) write_notes(notes, record->number);
  return Trial(std::move(*record), &options_.space);
}

void Study::write_notes(const std::map<std::string, json>& notes, int number) {
  std::lock_guard lock(notes_mutex_);
  for (const auto& [key, value] : notes) {
    auto last = notes_written_.find(key);
    if (last == notes_written_.end()) {
      auto stored = record_.system_attrs.find(key);
      if (stored != record_.system_attrs.end() && *stored == value) {
        notes_written_[key] = {number, value};
        continue;
      }
    } else if (last->second.first > number || last->second.second == value) {
      continue;  // unchanged, or already written from a later trial's view
    }
    storage_->set_study_attr(record_.id, key, value);
    notes_written_[key] = {number, value};
  }
}

bool Study::finish(const Trial& trial, TrialState state, std::optional<double> value,
                   const json& attrs) {
  return storage_->finish_trial(trial.id(), state, value, attrs);
}

bool Study::tell(const Trial& trial, double value) {
  if (!std::isfinite(value))
    return tell_failed(trial, fmt::format("the objective returned {}", value));
  return finish(trial, TrialState::Complete, value, json::object());
}

bool Study::tell_failed(const Trial& trial, const std::string& reason, const json& extra) {
  json attrs = extra.is_object() ? extra : json::object();
  attrs["caviar:reason"] = reason;
  std::optional<Requeue> requeue;  // a retry, enqueued in the same transaction
  if (!attrs.value("caviar:uncounted", false)) {
    json retry = detail::retry_attrs(trial.record(), options_.retry);
    if (!retry.is_null()) {
      attrs["caviar:uncounted"] = true;
      requeue = Requeue{options_.space.to_json(trial.params()), retry};
    }
  }
  return storage_->finish_trial(trial.id(), TrialState::Failed, std::nullopt, attrs, requeue);
}

bool Study::tell_pruned(const Trial& trial) {
  std::optional<double> last;
  if (!trial.record().intermediate.empty()) last = trial.record().intermediate.rbegin()->second;
  return finish(trial, TrialState::Pruned, last, json::object());
}

bool Study::tell_interrupted(const Trial& trial) {
  return finish(trial, TrialState::Failed, std::nullopt,
                {{"caviar:reason", kInterruptedReason},
                 {"caviar:failure", "interrupted"},
                 {"caviar:uncounted", true}});
}

bool Study::should_prune(const TrialRecord& trial) const {
  if (!pruner_ || trial.intermediate.empty()) return false;
  return pruner_->should_prune(trial, storage_->trials(record_.id), options_.direction);
}

void Study::enqueue(const json& params) {
  options_.space.from_json(params);  // checks names and values
  storage_->enqueue_trial(record_.id, params, json::object());
}

std::vector<TrialRecord> Study::trials() const { return storage_->trials(record_.id); }

TrialCounts Study::counts() const { return storage_->counts(record_.id); }

std::optional<TrialRecord> Study::best() const {
  std::optional<TrialRecord> best;
  for (auto& t : trials()) {
    if (t.state != TrialState::Complete || !t.value) continue;
    if (!best || better(options_.direction, *t.value, *best->value)) best = std::move(t);
  }
  return best;
}

void Study::optimize(const std::function<double(Trial&)>& objective, std::optional<int> n_trials,
                     int threads) {
  std::atomic<int> remaining = n_trials.value_or(-1);
  std::mutex failure_mutex;
  std::exception_ptr failure;  // a storage error in any thread ends the loop; rethrown below
  std::atomic<bool> failed{false};
  auto run_trials = [&] {
    while (!stopping_ && !failed) {
      if (n_trials && remaining.fetch_sub(1) <= 0) return;
      auto trial = ask(false);
      if (!trial) return;
      Trial& t = *trial;
      bool pruned = false;
      t.set_sinks([&](std::int64_t step, double v) {
                    storage_->report(t.id(), step, v);
                    pruned = should_prune(t.record());
                  },
                  [&] { return stopping_ || pruned; });
      std::optional<double> value;
      std::string error;
      bool stopped = false;
      try {
        value = objective(t);
      } catch (const TrialPruned&) {
        stopped = true;
      } catch (const std::exception& e) {
        error = std::string("the objective threw: ") + e.what();
      }
      if (stopped) stopping_ ? tell_interrupted(t) : tell_pruned(t);
      else if (value) tell(t, *value);
      else tell_failed(t, error);
    }
  };
  auto worker = [&] {
    try {
      run_trials();
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      failed = true;
    }
  };
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (failure) std::rethrow_exception(failure);
}

SearchSpace stored_space(const json& attrs, const std::vector<TrialRecord>& trials) {
  auto it = attrs.find("caviar:space");
  if (it != attrs.end() && it->is_array() && !it->empty())
    return SearchSpace::from_config_json(*it, "caviar:space");
  // A study written by Optuna: the distributions of its trials, in order of appearance.
  SearchSpace space;
  for (const auto& t : trials)
    for (const auto& [name, value] : t.params)
      if (const json* d = t.distribution(name); d && !space.find(name))
        space.add(Parameter::from_optuna(name, *d));
  if (space.empty())
    throw UsageError("study", "it stores no search space (no caviar:space attribute and no "
                              "trial with parameters)");
  return space;
}

}  // namespace caviar
