// Comparing two studies (include/caviar/compare.h).
#include "caviar/compare.h"

#include <cmath>
#include <map>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/error.h"
#include "caviar/retune.h"

namespace caviar {
namespace {

// A trial's parameters as the user's values, for matching across two studies' spaces.
json user_params(const TrialRecord& t) {
  json out = json::object();
  for (const auto& [name, internal] : t.params) out[name] = t.user_value(name);
  return out;
}

bool same_params(const json& a, const json& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [name, v] : a.items()) {
    auto it = b.find(name);
    if (it == b.end()) return false;
    if (v.is_number() && it->is_number()) {
      const double x = v.get<double>(), y = it->get<double>();
      if (std::abs(x - y) > 1e-12 * std::max({1.0, std::abs(x), std::abs(y)})) return false;
    } else if (v != *it) {
      return false;
    }
  }
  return true;
}

json best_json(const TrialRecord* t) {
  if (!t) return nullptr;
  return {{"number", t->number}, {"value", *t->value}, {"params", user_params(*t)}};
}

// name -> (share, rank), or why there is none.
std::map<std::string, std::pair<double, int>> ranking(const ComparedStudy& s, const ImportanceOptions& options,
                                                      std::string& why) {
  std::map<std::string, std::pair<double, int>> out;
  try {
    ImportanceOptions o = options;
    o.pairs = false;
    const Importance imp = importance(s.space, s.trials, s.record.direction, o);
    int rank = 0;
    for (const auto& p : imp.params) out[p.name] = {p.share, ++rank};
  } catch (const UsageError& e) {
    why = fmt::format("study '{}': {}", s.record.name, e.what());
  }
  return out;
}

}  // namespace

ComparedStudy compared(const StudyView& study) {
  std::vector<TrialRecord> trials = study.trials();
  SearchSpace space = study.space(trials);
  return ComparedStudy{study.record(), std::move(space), std::move(trials)};
}

json compare_studies(const ComparedStudy& old_study, const ComparedStudy& new_study, const CompareOptions& options) {
  if (!(options.tolerance >= 0)) throw UsageError("tolerance", "must be 0 or more");
  const Direction direction = new_study.record.direction;
  if (old_study.record.direction != direction)
    throw UsageError("study '" + old_study.record.name + "'",
                     fmt::format("{}s while study '{}' {}s: they do not measure the same thing",
                                 to_string(old_study.record.direction), new_study.record.name, to_string(direction)));
  const TrialRecord* old_best = best_trial(old_study.trials, direction);
  const TrialRecord* new_best = best_trial(new_study.trials, direction);
  // The old best on the new data: the new study's best complete run of the same values.
  const TrialRecord* here = nullptr;
  if (old_best) {
    const json wanted = user_params(*old_best);
    for (const auto& t : new_study.trials)
      if (rankable(t) && same_params(user_params(t), wanted) && (!here || better(direction, *t.value, *here->value)))
        here = &t;
  }
  json out;
  out["old"] = {{"study", old_study.record.name}, {"trials", old_study.trials.size()}, {"best", best_json(old_best)}};
  out["new"] = {{"study", new_study.record.name}, {"trials", new_study.trials.size()}, {"best", best_json(new_best)},
                {"old_best_here", here ? json{{"number", here->number}, {"value", *here->value}} : json(nullptr)}};
  out["tolerance"] = options.tolerance;
  std::optional<double> baseline;
  if (here) baseline = *here->value;
  else if (old_best) baseline = *old_best->value;
  out["baseline"] = baseline ? json(*baseline) : json(nullptr);
  out["baseline_from"] = here ? "new" : "old";
  if (baseline && new_best) {
    const double gain = direction == Direction::Maximize ? *new_best->value - *baseline : *baseline - *new_best->value;
    out["gain"] = gain;
    out["verdict"] = gain > options.tolerance ? "better" : "holds";
  } else {
    out["gain"] = nullptr;
    out["verdict"] = "unknown";
  }

  std::string why_old, why_new;
  const auto old_rank = ranking(old_study, options.importance, why_old);
  const auto new_rank = ranking(new_study, options.importance, why_new);
  json rows = json::array();
  std::vector<std::string> names;
  for (const auto& p : new_study.space.params()) names.push_back(p.name);
  for (const auto& p : old_study.space.params())
    if (!new_study.space.find(p.name)) names.push_back(p.name);
  for (const auto& name : names) {
    json row = {{"name", name}};
    auto side = [&](const auto& r, const char* share, const char* rank) {
      auto it = r.find(name);
      row[share] = it == r.end() ? json(nullptr) : json(it->second.first);
      row[rank] = it == r.end() ? json(nullptr) : json(it->second.second);
    };
    side(old_rank, "old_share", "old_rank");
    side(new_rank, "new_share", "new_rank");
    rows.push_back(row);
  }
  out["importance"] = rows;
  out["importance_note"] = why_old.empty() ? why_new : why_new.empty() ? why_old : why_old + "; " + why_new;
  return out;
}

std::shared_ptr<const ComparedStudy> linked_old_study(const std::shared_ptr<Storage>& storage,
                                                      const StudyRecord& study) {
  const auto link = retune_link(study);
  if (!link) return nullptr;
  auto old = storage->find_study(link->from);
  if (!old) return nullptr;
  return std::make_shared<const ComparedStudy>(compared(StudyView(storage, *old)));
}

json retune_verdict_data(const ComparedStudy& old_study, const ComparedStudy& new_study) {
  json out = compare_studies(old_study, new_study);
  auto value_of = [](const TrialRecord* t) { return t && rankable(*t) ? json(*t->value) : json(nullptr); };
  json runs = json::array();
  const auto link = retune_link(new_study.record);
  for (const auto& [number, wanted] : link ? link->runs : std::vector<std::pair<int, json>>{}) {
    const TrialRecord* old = nullptr;
    for (const auto& t : old_study.trials)
      if (t.number == number) old = &t;
    // The first new trial with the same values: the re-tuning enqueued it.
    const TrialRecord* here = nullptr;
    for (const auto& t : new_study.trials)
      if (same_params(user_params(t), wanted) && (!here || t.number < here->number)) here = &t;
    runs.push_back({{"old_trial", number},
                    {"old_value", value_of(old)},
                    {"new_trial", here ? json(here->number) : json(nullptr)},
                    {"new_value", value_of(here)}});
  }
  out["runs"] = runs;
  out["warm_start"] = new_study.record.system_attrs.value(attr::kWarmStart, json(nullptr));
  return out;
}

}  // namespace caviar
