// StudyView: one stored study, read only. The command line (`caviar trials`, `best`,
// `export`, `importance`, `zoom`, `report`), the report and the live pages read a study
// through it, and Study uses it for its own reads, so each stored fact (the trials, the
// best trial, the search space kept with the study) is read one way everywhere.
//
// A StudyView never writes. It reads the storage afresh on each call (another process
// may be adding trials). Safe to use from several threads at once, as Storage is.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caviar/space.h"
#include "caviar/storage.h"
#include "caviar/trial.h"

namespace caviar {

class StudyView {
 public:
  StudyView(std::shared_ptr<Storage> storage, StudyRecord record);

  // The study `name` in the storage at `url`, opened for reading: creates no database and
  // no study. Throws StorageError when the store cannot be read, and UsageError when the
  // study is not there, listing the studies the store holds.
  static StudyView open(const std::string& url, const std::string& name);

  const StudyRecord& record() const { return record_; }
  const std::string& name() const { return record_.name; }
  Direction direction() const { return record_.direction; }
  Storage& storage() const { return *storage_; }
  const std::shared_ptr<Storage>& storage_handle() const { return storage_; }

  // Every trial of the study, all states, by number.
  std::vector<TrialRecord> trials() const;
  TrialCounts counts() const;
  // The best trial (see best_trial in trial.h: complete, finite value), or nullopt.
  std::optional<TrialRecord> best() const;
  // The search space kept with the study; `trials` are this study's trials (for a study
  // that Optuna wrote, the space is read from their distributions). See stored_space.
  SearchSpace space(const std::vector<TrialRecord>& trials) const;

 private:
  std::shared_ptr<Storage> storage_;
  StudyRecord record_;
};

// The search space stored with a study: its "caviar:space" system attribute, or, for a
// study that Optuna wrote, the distributions of its trials. Throws UsageError if neither
// is there.
SearchSpace stored_space(const json& study_system_attrs, const std::vector<TrialRecord>& trials);

}  // namespace caviar
