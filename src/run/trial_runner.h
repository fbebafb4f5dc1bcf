// The trial runner: one started trial, from its context to its stored outcome.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "caviar/executor.h"
#include "caviar/study.h"
#include "caviar/tuner.h"

namespace caviar::detail {

// Runs a trial and tells the study its outcome:
//   the context   its folder, a report sink that stores each report at once and asks the
//                 pruner about it, and a stop query (pruned, caviar stopping, or a report
//                 the storage could not keep);
//   the source    prepares it (a segment's checkpoint folders) and checks a complete one;
//   the executor  runs it (an exception from it fails the trial, it does not unwind);
//   the outcome   interrupted if caviar was stopping and it did not complete, with the
//                 pruner's reason if pruned, told to the study (the source says whether the
//                 study's retry rule applies); then the source's housekeeping.
// Holds no state of its own between trials: safe to use from several threads at once.
class TrialRunner {
 public:
  TrialRunner(Study& study, Executor& executor, TrialSource& source,
              std::function<bool()> stopping, std::filesystem::path trial_root);

  // Runs `trial` to its end and stores the outcome. Returns the trial as it finished (state,
  // value, reason in its system attributes), for progress lines. Throws what the storage
  // throws when the outcome cannot be stored.
  // `full_record` false: a trial that did not fail comes back with only its number, state,
  // value and times (what the counts need).
  // `gpus`: the devices the trial has to itself (TrialContext::gpus), stored with it.
  TrialRecord run(Trial& trial, std::vector<std::string> gpus = {}, bool full_record = true) const;

 private:
  Study& study_;
  Executor& executor_;
  TrialSource& source_;
  std::function<bool()> stopping_;
  std::filesystem::path trial_root_;
};

}  // namespace caviar::detail
