#include "run/trial_runner.h"

#include <atomic>
#include <map>
#include <mutex>
#include <optional>

#include <fmt/core.h>

#include "caviar/attributes.h"

namespace caviar::detail {

TrialRunner::TrialRunner(Study& study, Executor& executor, TrialSource& source,
                         std::function<bool()> stopping, std::filesystem::path trial_root)
    : study_(study),
      executor_(executor),
      source_(source),
      stopping_(std::move(stopping)),
      trial_root_(std::move(trial_root)) {}

TrialRecord TrialRunner::run(Trial& trial, std::vector<std::string> gpus, bool full_record) const {
  const std::int64_t id = trial.id();
  TrialContext context;
  context.study = study_.options().name;
  context.trial_dir = trial_dir(trial_root_, trial.number());
  context.gpus = std::move(gpus);
  // Each report is stored at once, then judged by the pruner (once per report, not per
  // poll of should_stop). A report the storage could not keep stops the trial the usual
  // way (its processes ended and reaped by the executor), not by unwinding through it.
  std::optional<TrialRecord> reported;  // the trial with its reports so far, from the first
  std::mutex report_mutex;  // an executor may report from another thread than it polls
  std::atomic<bool> pruned{false}, report_failed{false};
  std::string report_error;
  context.report = [&](std::int64_t step, double value) {
    std::lock_guard lock(report_mutex);
    if (report_failed) return;
    try {
      study_.storage().report(id, step, value);
    } catch (const std::exception& e) {
      report_error = e.what();
      report_failed = true;
      return;
    }
    if (!reported) reported = trial.record();
    reported->intermediate[step] = value;
    if (study_.should_prune(*reported)) pruned = true;
  };
  context.should_stop = [&] { return stopping_() || pruned.load() || report_failed.load(); };

  TrialOutcome outcome;
  if (std::string cannot_run = source_.prepare(trial, context); !cannot_run.empty()) {
    outcome.reason = std::move(cannot_run);
  } else {
    try {
      outcome = executor_.run(trial, context);
    } catch (const std::exception& e) {
      outcome.state = TrialState::Failed;
      outcome.reason = std::string("the executor failed: ") + e.what();
    }
    if (report_failed) {
      outcome.state = TrialState::Failed;
      outcome.reason = "a report could not be stored: " + report_error;
    }
    if (outcome.state == TrialState::Complete) {
      static const std::map<std::int64_t, double> none;
      if (std::string why = source_.check(reported ? reported->intermediate : none, context); !why.empty())
        outcome.state = TrialState::Failed, outcome.reason = std::move(why);
    }
  }

  if (!context.gpus.empty()) outcome.attrs[attr::kGpus] = context.gpus;

  // What is stored: an interrupted trial is failed (uncounted) whatever the executor saw.
  const bool interrupted = stopping_() && outcome.state != TrialState::Complete;
  if (interrupted) {
    outcome.state = TrialState::Failed;
    outcome.reason = Study::kInterruptedReason;
    study_.tell_interrupted(trial);
  } else if (outcome.state == TrialState::Failed) {
    study_.tell_failed(trial, outcome.reason, outcome.attrs, source_.study_retries());
  } else if (outcome.state == TrialState::Pruned) {
    if (pruned && reported && !reported->intermediate.empty()) {
      outcome.reason = fmt::format("pruned by the {} pruner at step {}", study_.options().pruner.name,
                                   reported->intermediate.rbegin()->first);
      outcome.attrs[attr::kReason] = outcome.reason;
    }
    study_.tell_pruned(trial, outcome.value, outcome.attrs);
  } else {
    study_.tell(trial, outcome.value.value_or(std::nan("")), outcome.attrs);
  }
  source_.after(study_, context);

  // As stored: the whole record for progress lines and for failures (the early stop reads
  // their reasons), else only what the counts need (a copy per trial is most of the cost
  // of a trivial in-process trial).
  TrialRecord done;
  if (full_record || outcome.state == TrialState::Failed) {
    done = trial.record();
    if (outcome.attrs.is_object()) done.system_attrs.update(outcome.attrs);
    if (interrupted) done.system_attrs[attr::kFailure] = "interrupted";
    done.system_attrs[attr::kReason] = outcome.reason;
  } else {
    done.id = trial.id();
    done.number = trial.number();
    done.started = trial.record().started;
  }
  done.state = outcome.state;
  done.value = outcome.state == TrialState::Failed ? std::nullopt : outcome.value;
  done.finished = Clock::now();
  return done;
}

}  // namespace caviar::detail
