// Tuner: runs a study to its budget with N trials at a time, made of parts:
//
//   a trial source   decides what runs next (TrialSource: the sampler, or PBT's next
//                    segment; babysitting and re-tuning plug in the same way);
//   a trial runner   runs one trial: its context, the executor, the pruner's verdict on
//                    each report, the source's check, and the outcome told to the study;
//   a heartbeat      beats for every running trial, so other processes tell a live
//                    trial from a dead one;
//   a progress       reporter that sums up what finished, for the live line.
//
// Several Tuners, in one process or many, may work on one study: the storage keeps trial
// numbers unique and the total within the budget. run() blocks; stop() (from any thread
// or a signal-handling thread) makes run() end soon: running trials are stopped and
// stored as failed-interrupted (uncounted, so a restarted run repeats them).
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "caviar/babysit.h"
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

// A trial source decides what runs next and what a trial of its kind needs around it.
// The sampler is one (make_sampler_source); PBT is another (make_pbt_source: a member's
// next segment, continuing a checkpoint with explored values). Every method may be called
// from several worker threads at once.
class TrialSource {
 public:
  virtual ~TrialSource() = default;
  // Starts the next trial in the study's storage, or nullopt when nothing is left to run
  // (the budget is reached, a grid is exhausted, the population has finished). Trial n
  // lives in trial_dir(trial_root, n).
  virtual std::optional<Trial> next(Study& study, const std::filesystem::path& trial_root) = 0;
  // Before the executor runs: sets up the context (a segment's checkpoint folders).
  // Returns "" or why the trial cannot run; it is then failed with that reason.
  virtual std::string prepare(const Trial&, TrialContext&) { return ""; }
  // After the executor: "" or why an outcome the executor called complete is a failure
  // (a segment that did not report up to its stop step). `reports`: what it reported.
  virtual std::string check(const std::map<std::int64_t, double>& /*reports*/,
                            const TrialContext&) {
    return "";
  }
  // Whether the study's retry rule reruns a failed trial (false: the source reruns what
  // it wants itself).
  virtual bool study_retries() const { return true; }
  // After the outcome is stored: housekeeping (removing what no trial will read again).
  virtual void after(Study&, const TrialContext&) {}
  // How many trials a run without failures takes, for progress when the study has no
  // budget; 0 if unknown.
  virtual int planned_trials() const { return 0; }
};

// Trials from the study's sampler (Study::ask). heartbeat = false: the trials are not
// beaten for, so no other process ever fails them as stale (in-process objectives).
std::unique_ptr<TrialSource> make_sampler_source(bool heartbeat = true);
// PBT's segments (include/caviar/pbt.h), decided by a PbtScheduler seeded by the study's
// sampler seed: each gets its checkpoint folders, must report up to its stop step and
// leave a checkpoint; checkpoints no segment can restore any more are removed unless
// options.keep_checkpoints. Failed segments are rerun by the scheduler, not the study.
std::unique_ptr<TrialSource> make_pbt_source(const Study& study, PbtOptions options);

// Babysitting one model (include/caviar/babysit.h): each trial is the model's next
// segment, as babysit_next decides it from the stored segments and the study's controls;
// it gets its checkpoint folders like PBT's, and every checkpoint is kept (a rollback
// may go back to any). While a pause is in force, next() waits, looking at the controls
// again every `poll`; it returns nullopt when the run is done, stopped, failed, busy or
// the study is stopping (Study::stop), after telling on_decision why. Run it with one
// worker and a study without a trial budget.
struct BabysitSetup {
  BabysitOptions options;
  std::string metric;                // the metric's name, for the suggestions' words
  std::vector<std::string> fixed;    // parameters a checkpoint fixes (fixed_during_training)
  Params first;                      // the first segment's values, when the run has none
  std::string origin;                // where they came from ("the best trial, #15")
  std::chrono::milliseconds poll{500};
  // Told each decision that is not a segment to run (paused: once per pause). Called from
  // the worker thread.
  std::function<void(const BabysitDecision&)> on_decision;
};
std::unique_ptr<TrialSource> make_babysit_source(BabysitSetup setup);

// Where trial `number` keeps its files: <trial_root>/<number as 4 digits>.
std::filesystem::path trial_dir(const std::filesystem::path& trial_root, int number);

struct TuneOptions {
  int parallel = 1;                       // at most resources.slots() when devices are given
  // Devices shared by the running trials: each has resources.gpus_per_trial of them to
  // itself (TrialContext::gpus, stored as caviar:gpus). None: trials get none.
  Resources resources;
  std::optional<int> max_new_trials;      // stop after starting this many here
  std::optional<std::chrono::milliseconds> time_limit;  // no new trials after this
  std::filesystem::path trial_root = "caviar-runs";
  std::chrono::milliseconds progress_interval{500};
  std::function<void(const TuneProgress&)> on_progress;  // called from one thread at a time
  // What runs next; null: the study's sampler (make_sampler_source).
  std::shared_ptr<TrialSource> source;
  // Stop early when the first min(this, the study's budget) trials that finish here all
  // failed the same way (the same reason on one line, digits aside: a command that
  // cannot run, a metric it never prints), instead of spending the budget on a mistake.
  // The trials still running are stopped (stored as interrupted). 0: never.
  int stop_after_same_failures = 0;
};

// Why a run stopped early (TuneOptions::stop_after_same_failures).
struct EarlyStop {
  int trials = 0;             // how many trials failed alike
  std::string reason;         // the first one's reason, on one line
  TrialRecord first;          // the first of them (its trial folder: caviar:trial_dir)
};

struct TuneSummary {
  int started = 0, complete = 0, pruned = 0, failed = 0;
  bool interrupted = false;
  std::optional<EarlyStop> stopped_early;
  std::optional<TrialRecord> best;
  double elapsed_seconds = 0;
};

class Tuner {
 public:
  // Throws ConfigError if options.parallel < 1 or the devices give no slot.
  Tuner(Study& study, Executor& executor, TuneOptions options);
  // Runs until the source has nothing left, the budget or max_new_trials is used, the time
  // is up, or stop(). Rethrows a storage failure after the running trials have ended.
  TuneSummary run();
  void stop() { stopping_ = true; }
  bool stopping() const { return stopping_ || study_.stopping(); }

 private:
  Study& study_;
  Executor& executor_;
  TuneOptions options_;
  std::atomic<bool> stopping_{false};
};

// Runs an in-process objective on the study: the Tuner with a function executor
// (make_function_executor) and trials that take no heartbeat, until the budget is used or `n_trials` more trials have
// started, `threads` at a time. An objective that throws fails its trial with the
// exception's text; one that throws TrialPruned (Trial::report does, when the pruner says
// so) is stored as pruned. Study::stop() ends it early. Rethrows a storage failure.
TuneSummary optimize(Study& study, const std::function<double(Trial&)>& objective,
                     std::optional<int> n_trials = std::nullopt, int threads = 1);

}  // namespace caviar
