// Executors run one trial: an external command (any language) or an in-process function.
//
// An executor is given a running Trial and a TrialContext (where to write, how to report,
// when to stop) and returns the outcome; the Tuner stores it. Executors are shared by the
// Tuner's worker threads: run() must be safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caviar/config.h"
#include "caviar/trial.h"

namespace caviar {

struct TrialContext {
  std::string study;
  std::filesystem::path trial_dir;             // private folder, created by the executor
  ReportSink report;                           // stores an intermediate value
  StopQuery should_stop;                       // pruned or caviar is stopping
  // The devices this trial has to itself while it runs (Resources in config.h); empty:
  // none given. Commands get them as CUDA_VISIBLE_DEVICES and CAVIAR_GPU ("2,3").
  std::vector<std::string> gpus;
  // A segment of a scheduler's member (PBT, include/caviar/pbt.h); unset otherwise. The
  // trial restores `restore_from` (empty on a member's first segment), which was saved at
  // step `start_at`, reports steps start_at+1 .. stop_at, and leaves its state in
  // `checkpoint_dir` (created, empty). Commands get them as CAVIAR_CHECKPOINT_DIR,
  // CAVIAR_RESTORE_FROM, CAVIAR_START_AT and CAVIAR_STOP_AT (docs/protocol.md).
  std::filesystem::path checkpoint_dir;
  std::filesystem::path restore_from;
  std::int64_t start_at = 0;
  std::optional<std::int64_t> stop_at;
};

struct TrialOutcome {
  TrialState state = TrialState::Failed;       // Complete, Pruned or Failed
  std::optional<double> value;                 // the objective (complete) or last report
  std::string reason;                          // why it failed or stopped
  bool interrupted = false;                    // stopped because caviar is stopping
  json attrs = json::object();                 // extra system attributes to store
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual TrialOutcome run(Trial& trial, const TrialContext& context) = 0;
};

// Runs CommandObjective per the trial protocol (docs/protocol.md): placeholders, CAVIAR_*
// environment, params.json, metric lines on stdout, its own process group that is ended
// on timeout, stop, or when caviar itself dies. Throws ConfigError at construction if the
// program cannot be found.
std::unique_ptr<Executor> make_command_executor(CommandObjective objective,
                                                const SearchSpace& space);

// Runs an in-process objective; an exception fails the trial with its message and
// TrialPruned makes it pruned.
std::unique_ptr<Executor> make_function_executor(std::function<double(Trial&)> objective);

// The executor a config asks for: its command, or its builtin objective. Throws
// ConfigError for a program that is not there or an unknown builtin.
std::unique_ptr<Executor> make_executor(const Config& config);

// The parameters that cannot change while one model trains (PBT, babysitting), because a
// checkpoint fits only one value of each: the built-in trainer's layers, units and
// optimizer; none for a command (its checkpoints are its own business).
std::vector<std::string> fixed_during_training(const Config& config);

// Finds a program the way execvp would; "" if it is not there or not executable.
std::string find_program(const std::string& name);

}  // namespace caviar
