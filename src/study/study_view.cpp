#include "caviar/study_view.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "caviar/attributes.h"
#include "caviar/error.h"

namespace caviar {

StudyView::StudyView(std::shared_ptr<Storage> storage, StudyRecord record)
    : storage_(std::move(storage)), record_(std::move(record)) {
  if (!storage_) throw UsageError("study", "no storage given");
}

StudyView StudyView::open(const std::string& url, const std::string& name) {
  auto storage = open_storage(url, OpenMode::Existing);
  auto record = storage->find_study(name);
  if (!record) {
    std::vector<std::string> names;
    for (const auto& s : storage->studies()) names.push_back(s.name);
    throw UsageError("study '" + name + "'",
                     names.empty() ? fmt::format("not found in {} (it holds no studies yet)", redacted_url(url))
                                   : fmt::format("not found in {}; it holds: {}", redacted_url(url),
                                                 fmt::join(names, ", ")));
  }
  return StudyView(std::move(storage), std::move(*record));
}

std::vector<TrialRecord> StudyView::trials() const { return storage_->trials(record_.id); }

TrialCounts StudyView::counts() const { return storage_->counts(record_.id); }

std::optional<TrialRecord> StudyView::best() const { return storage_->best(record_.id, record_.direction); }

SearchSpace StudyView::space(const std::vector<TrialRecord>& trials) const {
  return stored_space(record_.system_attrs, trials);
}

SearchSpace stored_space(const json& attrs, const std::vector<TrialRecord>& trials) {
  auto it = attrs.find(attr::kSpace);
  if (it != attrs.end() && it->is_array() && !it->empty())
    return SearchSpace::from_config_json(*it, attr::kSpace);
  // A study written by Optuna: the distributions of its trials, in order of appearance.
  SearchSpace space;
  for (const auto& t : trials)
    for (const auto& [name, value] : t.params)
      if (const Parameter* p = t.parameter(name); p && !space.find(name)) space.add(*p);
  if (space.empty())
    throw UsageError("study", "it stores no search space (no caviar:space attribute and no "
                              "trial with parameters)");
  return space;
}

}  // namespace caviar
