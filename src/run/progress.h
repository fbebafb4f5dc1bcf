// The progress reporter: what a run has done so far, for the live line.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "caviar/study.h"
#include "caviar/tuner.h"

namespace caviar::detail {

// Counts what the workers start and finish (the run's TuneSummary) and, when a callback
// is given, calls it with a TuneProgress every `interval` and soon after each finished
// trial: the study's counts and best as stored, and an estimate of the time left from the
// mean duration of the trials finished here. Workers call started() and finished() from
// any thread; watch() runs on the tuner's own thread and calls the callback there.
class Progress {
 public:
  Progress(Study& study, int parallel, int budget, std::chrono::milliseconds interval,
           std::function<void(const TuneProgress&)> callback);

  void started();
  void finished(TrialRecord done);
  // Marks one worker as done; watch() returns once all `workers` are.
  void worker_done();
  // Reports until every worker is done.
  void watch(int workers);
  // The counts of this run so far.
  TuneSummary summary() const;

 private:
  Study& study_;
  int parallel_, budget_;
  std::chrono::milliseconds interval_;
  std::function<void(const TuneProgress&)> callback_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  TuneSummary summary_;
  int workers_done_ = 0;
  double seconds_sum_ = 0;               // durations of the trials finished here
  std::vector<TrialRecord> unreported_;  // finished since the last callback
};

}  // namespace caviar::detail
