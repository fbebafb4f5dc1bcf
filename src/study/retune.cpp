// Re-tuning on new data: the link and the old best run first (include/caviar/retune.h).
#include "caviar/retune.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/core.h>

#include "base/format.h"
#include "caviar/attributes.h"
#include "caviar/error.h"

namespace caviar {

std::vector<const TrialRecord*> best_distinct(const std::vector<TrialRecord>& trials, Direction direction, int k) {
  std::vector<const TrialRecord*> ranked;
  for (const auto& t : trials)
    if (rankable(t)) ranked.push_back(&t);
  std::stable_sort(ranked.begin(), ranked.end(), [&](const TrialRecord* a, const TrialRecord* b) {
    return better(direction, *a->value, *b->value);
  });
  std::vector<const TrialRecord*> out;
  for (const TrialRecord* t : ranked) {
    if (static_cast<int>(out.size()) >= k) break;
    if (std::none_of(out.begin(), out.end(), [&](const TrialRecord* o) { return o->params == t->params; }))
      out.push_back(t);
  }
  return out;
}

void check_retune(const StudyView& old, const StudyOptions& study, int k) {
  if (k < 0) throw UsageError("--best", "must be 0 or more");
  if (study.name == old.name())
    throw UsageError("--from", "the new study is the old one: give the new one another name (--study NEW)");
  if (old.direction() != study.direction)
    throw UsageError("--from", fmt::format("study '{}' {}s, this one {}s", old.name(), to_string(old.direction()),
                                           to_string(study.direction)));
  if (k > 0 && !old.best()) throw UsageError("study '" + old.name() + "'", "has no complete trial to start from");
}

std::vector<json> start_retune(Study& study, const StudyView& old, int k) {
  check_retune(old, study.options(), k);
  if (study.record().system_attrs.contains(attr::kRetune)) return {};
  const std::vector<TrialRecord> trials = old.trials();
  const auto best = best_distinct(trials, old.direction(), k);
  std::vector<json> configs;
  json runs = json::array();
  for (const TrialRecord* t : best) {
    json params = json::object();
    for (const auto& [name, internal] : t->params)
      if (study.space().find(name)) params[name] = t->user_value(name);
    configs.push_back(params);
    runs.push_back({{"old_trial", t->number}, {"params", params}});
  }
  for (const json& params : configs) study.space().from_json(params);  // all checked before any is stored
  study.storage().set_study_attr(
      study.record().id, attr::kRetune,
      {{"from", old.name()}, {"time", detail::format_time(std::chrono::system_clock::now(), true)}, {"runs", runs}});
  for (const json& params : configs) study.enqueue(params);
  return configs;
}

std::shared_ptr<const std::vector<TrialRecord>> retune_prior(const StudyView& old, const SearchSpace& space) {
  auto prior = std::make_shared<std::vector<TrialRecord>>();
  for (TrialRecord& t : old.trials()) {
    if (t.state != TrialState::Complete || !t.value || !std::isfinite(*t.value)) continue;
    Params params;
    bool usable = true;
    for (const Parameter& p : space.params()) {
      if (!space.active(p, params)) continue;
      if (!t.params.count(p.name)) {
        usable = false;
        break;
      }
      try {
        params[p.name] = p.internal(t.user_value(p.name));
      } catch (const Error&) {
        usable = false;
        break;
      }
    }
    if (!usable) continue;
    t.params = std::move(params);
    prior->push_back(std::move(t));
  }
  return prior;
}

std::optional<RetuneLink> retune_link(const StudyRecord& record) {
  auto link = record.system_attrs.find(attr::kRetune);
  if (link == record.system_attrs.end() || !link->is_object() || !link->contains("from") ||
      !(*link)["from"].is_string())
    return std::nullopt;
  RetuneLink out{(*link)["from"].get<std::string>(), {}};
  for (const json& run : link->value("runs", json::array()))
    if (run.is_object() && run.contains("old_trial") && run["old_trial"].is_number_integer())
      out.runs.emplace_back(run["old_trial"].get<int>(), run.value("params", json::object()));
  return out;
}

std::shared_ptr<const std::vector<TrialRecord>> linked_prior(const std::shared_ptr<Storage>& storage,
                                                             const StudyRecord& record, const SearchSpace& space) {
  const auto link = retune_link(record);
  if (!link) return nullptr;
  auto old = storage->find_study(link->from);
  if (!old) return nullptr;
  return retune_prior(StudyView(storage, *old), space);
}

}  // namespace caviar
