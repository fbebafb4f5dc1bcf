// Study: one optimisation problem, its search space and its trials, kept in a Storage.
//
// A Study is the ask/tell interface over a Storage and a Sampler:
//   auto trial = study.ask();             // a new running trial, or nullopt: budget reached
//   study.tell(*trial, value);            // complete it
// and optimize() (include/caviar/tuner.h) runs an in-process objective on one or more threads.
//
// Several Study objects, in one process or many, may share one study in one storage: the
// storage makes trial numbers unique and keeps the total within the budget.
// A Study is safe to use from several threads at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "caviar/pruner.h"
#include "caviar/sampler.h"
#include "caviar/space.h"
#include "caviar/storage.h"
#include "caviar/study_view.h"
#include "caviar/trial.h"

namespace caviar {

struct StudyOptions {
  std::string name = "default";
  Direction direction = Direction::Minimize;
  SearchSpace space;
  SamplerOptions sampler;
  PrunerOptions pruner;       // judges intermediate reports (default: none)
  std::optional<int> budget;  // total finished trials; nullopt: no limit
  int retry = 0;              // times a failed trial's params are run again
  std::chrono::milliseconds heartbeat{10000};  // interval between heartbeats
  std::chrono::milliseconds stale_after{60000};  // no beat for this long: stale
  // A study stored with other parameters is refused (UsageError naming what changed)
  // unless this is set; then the new space replaces it, and the old one is kept in the
  // study's "caviar:space_changes" attribute: [{changed, old, changes}, ...].
  bool allow_space_change = false;
};

// What changed between two spaces in SearchSpace::to_config_json()'s form, one line per
// parameter: "parameters.lr: was float [1e-05, 1] log, now int [1, 10]". Empty when they
// hold the same parameters (their order aside).
std::vector<std::string> space_changes(const json& before, const json& after);

class Study {
 public:
  // Opens (or creates) the study in `storage`. The search space is stored with the study
  // (system attribute "caviar:space") so that other commands can read it back; a study
  // stored with another space is refused before anything is written (see
  // StudyOptions::allow_space_change).
  Study(std::shared_ptr<Storage> storage, StudyOptions options);

  const StudyOptions& options() const { return options_; }
  const StudyRecord& record() const { return record_; }
  Storage& storage() { return *storage_; }
  // The study as stored, read only (trials, counts, best; see study_view.h).
  StudyView view() const { return StudyView(storage_, record_); }
  const SearchSpace& space() const { return options_.space; }

  // Starts a trial (see Storage::start_trial). Returns nullopt when the budget is reached
  // or the sampler has nothing left. `heartbeat`: whether the caller will beat for it.
  std::optional<Trial> ask(bool heartbeat = true);
  // Starts a trial that a source other than the sampler proposes (PBT's next segment):
  // `propose` decides its params and attributes inside the storage's transaction. Stale
  // trials are failed but not enqueued again: the source reruns what it wants.
  std::optional<Trial> ask(const Proposer& propose, bool heartbeat = true);

  // Finishes a trial, storing `attrs` as extra system attributes. A NaN or infinite value
  // makes it failed with that reason. Each returns false if the trial was no longer
  // running (failed as stale meanwhile).
  bool tell(const Trial& trial, double value, const json& attrs = json::object());
  // Failed with `reason`; with `retry`, its params run again per StudyOptions::retry.
  bool tell_failed(const Trial& trial, const std::string& reason, const json& extra = {},
                   bool retry = true);
  // Pruned, with `last` as its value (default: the trial's last report).
  bool tell_pruned(const Trial& trial, std::optional<double> last = std::nullopt,
                   const json& attrs = json::object());
  // Marks a trial failed because caviar is stopping (Ctrl-C): uncounted, so a restarted
  // study runs it again, with reason kInterruptedReason.
  bool tell_interrupted(const Trial& trial);
  static constexpr const char* kInterruptedReason =
      "interrupted: caviar was stopped while the trial ran";

  // Whether the pruner would stop `trial` now, given its reports so far (the record's
  // `intermediate` map) and the study's stored history. False without a pruner.
  bool should_prune(const TrialRecord& trial) const;

  // Enqueues params (user values) to be run before sampled ones.
  void enqueue(const json& params);

  std::vector<TrialRecord> trials() const;
  TrialCounts counts() const;
  // The best complete trial, or nullopt if none has completed.
  std::optional<TrialRecord> best() const;

  // Makes ask() return nullopt from now on, and a Tuner running the study (optimize(),
  // include/caviar/tuner.h) stop its trials and end.
  void stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }

 private:
  std::shared_ptr<Storage> storage_;
  StudyOptions options_;
  StudyRecord record_;
  std::unique_ptr<Sampler> sampler_;
  std::unique_ptr<Pruner> pruner_;
  std::atomic<bool> stopping_{false};

  std::optional<Trial> start(const Proposer& propose, bool heartbeat, bool needs_history,
                             int retry);
  bool finish(const Trial& trial, TrialState state, std::optional<double> value,
              const json& attrs);
  // Stores the sampler's study notes that changed (as seen from trial `number`).
  void write_notes(const std::map<std::string, json>& notes, int number);
  std::mutex notes_mutex_;
  std::map<std::string, std::pair<int, json>> notes_written_;  // key -> (trial, value)
};

}  // namespace caviar
