// Tuner: the worker loop that runs a study to its budget with N trials at a time.
//
// Each worker thread asks the study for a trial, runs it with the executor, and tells the
// result; a heartbeat thread beats for every running trial so that other processes can
// tell a live trial from a dead one. Several Tuners, in one process or many, may work on
// one study: the storage keeps trial numbers unique and the total within the budget.
//
// run() blocks; stop() (from any thread or a signal-handling thread) makes run() end soon:
// running trials are stopped and stored as failed-interrupted (uncounted, so a restarted
// run repeats them).
//
// With TuneOptions::pbt, each trial is a segment of a PBT member: the Tuner asks the
// PbtScheduler for it, gives it its checkpoint folders (TrialContext), checks that it
// reported up to its stop step and left a checkpoint, and runs until no member is ready.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>

#include "caviar/executor.h"
#include "caviar/pbt.h"
#include "caviar/study.h"

namespace caviar {

struct TuneProgress {
  TrialCounts counts;                     // the whole study, as stored
  int budget = 0;                         // 0: none
  int started_here = 0, finished_here = 0;
  std::optional<TrialRecord> best;
  double elapsed_seconds = 0;
  std::optional<double> remaining_seconds;  // estimate
  std::vector<TrialRecord> finished;      // trials that finished since the last call
};

struct TuneOptions {
  int parallel = 1;
  std::optional<int> max_new_trials;      // stop after starting this many here
  std::optional<std::chrono::milliseconds> time_limit;  // no new trials after this
  std::filesystem::path trial_root = "caviar-runs";
  std::chrono::milliseconds progress_interval{500};
  std::function<void(const TuneProgress&)> on_progress;  // called from one thread at a time
  // Population Based Training (include/caviar/pbt.h): trials are the members' segments,
  // chosen by the scheduler (seeded by the study's sampler seed) instead of the sampler.
  std::optional<PbtOptions> pbt;
};

struct TuneSummary {
  int started = 0, complete = 0, pruned = 0, failed = 0;
  bool interrupted = false;
  std::optional<TrialRecord> best;
  double elapsed_seconds = 0;
};

class Tuner {
 public:
  Tuner(Study& study, Executor& executor, TuneOptions options);
  TuneSummary run();
  void stop() { stopping_ = true; }
  bool stopping() const { return stopping_; }

 private:
  Study& study_;
  Executor& executor_;
  TuneOptions options_;
  std::atomic<bool> stopping_{false};
};

}  // namespace caviar
