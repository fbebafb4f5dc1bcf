#include "caviar/study.h"

#include <cmath>
#include <ctime>
#include <mutex>
#include <thread>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "base/bounded_text.h"
#include "base/format.h"
#include "caviar/attributes.h"
#include "caviar/error.h"
#include "caviar/retune.h"

namespace caviar {

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
  auto stored = record_.system_attrs.find(attr::kSpace);
  if (stored == record_.system_attrs.end() || *stored != space) {
    std::vector<std::string> changes;
    if (stored != record_.system_attrs.end() && stored->is_array()) changes = space_changes(*stored, space);
    if (!changes.empty() && !options_.allow_space_change)
      throw UsageError("parameters",
                       fmt::format("study '{}' was run with other parameters: {}. Name a new study "
                                   "(study: or --study), or continue this one with --allow-space-change",
                                   options_.name, fmt::join(changes, "; ")));
    if (!changes.empty()) {
      json history = record_.system_attrs.value(attr::kSpaceChanges, json::array());
      if (!history.is_array()) history = json::array();
      history.push_back({{"changed", utc_now()}, {"old", *stored}, {"changes", changes}});
      storage_->set_study_attr(record_.id, attr::kSpaceChanges, history);
      record_.system_attrs[attr::kSpaceChanges] = history;
    }
    storage_->set_study_attr(record_.id, attr::kSpace, space);
    record_.system_attrs[attr::kSpace] = space;
  }
  // A re-tuning (caviar/retune.h) samples warm from its old study in every process.
  if (!options_.sampler.prior)
    if (auto prior = linked_prior(storage_, record_, options_.space); prior && !prior->empty()) {
      options_.sampler.prior = std::move(prior);
      sampler_ = make_sampler(options_.sampler);
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
  std::map<std::string, json> notes;  // the sampler's study attributes (see Sampler::study_notes)
  auto trial = start(
      [&](const std::vector<TrialRecord>& history, const Params& fixed,
          int number) -> std::optional<TrialDraft> {
        SampleContext context{options_.space, history, number, options_.direction, fixed};
        auto params = sampler_->suggest(context);
        if (!params) return std::nullopt;
        notes = sampler_->study_notes(context);
        return TrialDraft{std::move(*params), json::object()};
      },
      heartbeat, sampler_->needs_history(), options_.retry);
  if (trial && !notes.empty()) write_notes(notes, trial->number());
  return trial;
}

std::optional<Trial> Study::ask(const Proposer& propose, bool heartbeat) {
  return start(propose, heartbeat, true, 0);
}

std::optional<Trial> Study::start(const Proposer& propose, bool heartbeat, bool needs_history,
                                  int retry) {
  if (stopping_) return std::nullopt;
  StartRequest request;
  request.study_id = record_.id;
  request.space = &options_.space;
  request.budget = options_.budget;
  request.needs_history = needs_history;
  request.heartbeat = heartbeat;
  request.retry = retry;
  request.propose = propose;
  auto record = storage_->start_trial(request);
  if (!record) return std::nullopt;
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

bool Study::tell(const Trial& trial, double value, const json& attrs) {
  if (!std::isfinite(value))
    return tell_failed(trial, fmt::format("the objective returned {}", value), attrs);
  return finish(trial, TrialState::Complete, value, attrs);
}

bool Study::tell_failed(const Trial& trial, const std::string& reason, const json& extra,
                        bool retry) {
  json attrs = extra.is_object() ? extra : json::object();
  attrs[attr::kReason] = detail::clip_text(reason);  // an exception's message may be huge
  std::optional<Requeue> requeue;  // a retry, enqueued in the same transaction
  if (retry && !attrs.value(attr::kUncounted, false)) {
    json retry = retry_attrs(trial.record(), options_.retry);
    if (!retry.is_null()) {
      attrs[attr::kUncounted] = true;
      requeue = Requeue{options_.space.to_json(trial.params()), retry};
    }
  }
  return storage_->finish_trial(trial.id(), TrialState::Failed, std::nullopt, attrs, requeue);
}

bool Study::tell_pruned(const Trial& trial, std::optional<double> last, const json& attrs) {
  if (!last && !trial.record().intermediate.empty()) last = trial.record().intermediate.rbegin()->second;
  return finish(trial, TrialState::Pruned, last, attrs);
}

bool Study::tell_interrupted(const Trial& trial) {
  return finish(trial, TrialState::Failed, std::nullopt,
                {{attr::kReason, kInterruptedReason},
                 {attr::kFailure, "interrupted"},
                 {attr::kUncounted, true}});
}

bool Study::should_prune(const TrialRecord& trial) const {
  if (!pruner_ || trial.intermediate.empty()) return false;
  return pruner_->should_prune(trial, storage_->trials(record_.id), options_.direction);
}

void Study::enqueue(const json& params) {
  options_.space.from_json(params);  // checks names and values
  storage_->enqueue_trial(record_.id, params, json::object());
}

std::vector<TrialRecord> Study::trials() const { return view().trials(); }

TrialCounts Study::counts() const { return view().counts(); }

std::optional<TrialRecord> Study::best() const { return view().best(); }

}  // namespace caviar
