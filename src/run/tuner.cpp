#include "caviar/tuner.h"

#include <condition_variable>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

#include <fmt/core.h>

#include "caviar/error.h"
#include "run/pbt_scheduler.h"

namespace caviar {

Tuner::Tuner(Study& study, Executor& executor, TuneOptions options)
    : study_(study), executor_(executor), options_(std::move(options)) {
  if (options_.parallel < 1) throw ConfigError("parallel", "must be at least 1");
}

TuneSummary Tuner::run() {
  using SteadyClock = std::chrono::steady_clock;
  const auto start = SteadyClock::now();
  std::mutex mutex;
  std::condition_variable wake;
  std::set<std::int64_t> running;  // trial ids this process beats for
  TuneSummary summary;
  std::atomic<int> started{0};
  std::atomic<int> workers_left{options_.parallel};
  std::exception_ptr fatal;  // a storage failure: stops the run, rethrown at the end
  std::vector<double> durations;
  std::vector<TrialRecord> finished_since_report;  // for progress, one line each
  Storage& storage = study_.storage();

  auto out_of_time = [&] {
    return options_.time_limit && SteadyClock::now() - start >= *options_.time_limit;
  };
  auto trial_dir = [&](int number) { return options_.trial_root / fmt::format("{:04d}", number); };

  // PBT: the scheduler proposes each segment inside the storage's transaction; it reruns
  // failed segments itself, so the storage requeues nothing.
  std::optional<PbtScheduler> pbt;
  if (options_.pbt)
    pbt.emplace(*options_.pbt, study_.space(), study_.options().direction, study_.options().sampler,
                study_.options().retry);
  auto ask = [&]() -> std::optional<Trial> {
    if (!pbt) return study_.ask();
    StartRequest request;
    request.study_id = study_.record().id;
    request.space = &study_.space();
    request.budget = study_.options().budget;
    request.retry = 0;
    request.propose = [&](const std::vector<TrialRecord>& history, const Params& fixed,
                          int number) -> std::optional<TrialDraft> {
      auto segment = pbt->next(history, fixed);
      if (!segment) return std::nullopt;
      TrialDraft draft{std::move(segment->params), {{"caviar:pbt", segment->lineage}}};
      draft.system_attrs["caviar:checkpoint_dir"] =
          std::filesystem::absolute(trial_dir(number) / "checkpoint").string();
      if (!segment->restore_source.empty()) draft.system_attrs["caviar:restore_source"] = segment->restore_source;
      return draft;
    };
    auto record = storage.start_trial(request);
    if (!record) return std::nullopt;
    return Trial(std::move(*record), &study_.space());
  };

  auto worker = [&] {
    while (!stopping_ && !out_of_time()) {
      if (options_.max_new_trials && started.fetch_add(1) >= *options_.max_new_trials) break;
      std::optional<Trial> trial;
      try {
        trial = ask();
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!fatal) fatal = std::current_exception();
        stopping_ = true;
        break;
      }
      if (!trial) break;
      {
        std::lock_guard lock(mutex);
        running.insert(trial->id());
        ++summary.started;
      }
      std::int64_t id = trial->id();
      TrialContext ctx;
      ctx.study = study_.options().name;
      ctx.trial_dir = trial_dir(trial->number());
      // Each report is stored at once, then judged by the pruner (once per report, not per
      // poll of should_stop).
      TrialRecord reported = trial->record();
      std::atomic<bool> pruned{false};
      // A report the storage could not keep stops the trial the usual way (its processes
      // ended and reaped by the executor), not by unwinding through the executor.
      std::atomic<bool> report_failed{false};
      std::string report_error;
      ctx.report = [&](std::int64_t step, double v) {
        if (report_failed) return;
        try {
          storage.report(id, step, v);
        } catch (const std::exception& e) {
          report_error = e.what();
          report_failed = true;
          return;
        }
        reported.intermediate[step] = v;
        if (study_.should_prune(reported)) pruned = true;
      };
      ctx.should_stop = [&] { return stopping_.load() || pruned.load() || report_failed.load(); };
      TrialOutcome outcome;
      const std::string cannot_run = pbt ? detail::pbt_prepare(trial->record(), ctx) : "";
      if (!cannot_run.empty()) {
        outcome.reason = cannot_run;
      } else {
        try {
          outcome = executor_.run(*trial, ctx);
        } catch (const std::exception& e) {
          outcome.state = TrialState::Failed;
          outcome.reason = std::string("the executor failed: ") + e.what();
        }
        if (report_failed) {
          outcome.state = TrialState::Failed;
          outcome.reason = "a report could not be stored: " + report_error;
        }
      }
      if (pbt) {
        if (outcome.state == TrialState::Complete) {
          std::string why = detail::pbt_check(reported.intermediate, ctx, pbt->options().max_steps);
          if (!why.empty()) outcome.state = TrialState::Failed, outcome.reason = std::move(why);
        }
        detail::pbt_cleanup(ctx);
      }
      // What is stored: an interrupted trial is failed (uncounted) whatever the executor saw.
      bool interrupted = stopping_ && outcome.state != TrialState::Complete;
      if (interrupted) {
        outcome.state = TrialState::Failed;
        outcome.reason = Study::kInterruptedReason;
      } else if (outcome.state == TrialState::Pruned && pruned && !reported.intermediate.empty()) {
        outcome.reason = fmt::format("pruned by the {} pruner at step {}",
                                     study_.options().pruner.name, reported.intermediate.rbegin()->first);
        outcome.attrs["caviar:reason"] = outcome.reason;
      }
      try {
        if (interrupted) {
          study_.tell_interrupted(*trial);
        } else if (outcome.state == TrialState::Failed && pbt) {  // the scheduler decides any rerun
          outcome.attrs["caviar:reason"] = outcome.reason;
          storage.finish_trial(id, TrialState::Failed, std::nullopt, outcome.attrs);
        } else if (outcome.state == TrialState::Failed) {
          study_.tell_failed(*trial, outcome.reason, outcome.attrs);
        } else {
          storage.finish_trial(id, outcome.state, outcome.value, outcome.attrs);
        }
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!fatal) fatal = std::current_exception();
        stopping_ = true;
      }
      if (pbt && !pbt->options().keep_checkpoints) {
        // Disk: a checkpoint no segment can restore any more is removed (each worker may
        // do it; removing a removed folder is a no-op).
        try {
          for (const auto& dir : pbt->superseded_checkpoints(storage.trials(study_.record().id))) {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
          }
        } catch (const std::exception&) {
          // The storage is unreachable: the next segment's end tries again.
        }
      }
      std::lock_guard lock(mutex);
      running.erase(id);
      durations.push_back(trial->record().duration_seconds());
      switch (outcome.state) {
        case TrialState::Complete: ++summary.complete; break;
        case TrialState::Pruned: ++summary.pruned; break;
        default: ++summary.failed; break;
      }
      TrialRecord done = trial->record();  // as stored, for the progress lines
      done.state = outcome.state;
      done.value = outcome.state == TrialState::Failed ? std::nullopt : outcome.value;
      done.system_attrs["caviar:reason"] = outcome.reason;
      finished_since_report.push_back(std::move(done));
      wake.notify_all();
    }
    std::lock_guard lock(mutex);
    --workers_left;
    wake.notify_all();
  };

  std::vector<std::thread> pool;
  for (int i = 0; i < options_.parallel; ++i) {
    try {
      pool.emplace_back(worker);
    } catch (const std::system_error& e) {
      // The system gives no more threads (a thread limit, or no memory for stacks): the
      // workers started stop, and run() says why instead of ending the process.
      std::lock_guard lock(mutex);
      if (!fatal)
        fatal = std::make_exception_ptr(ConfigError(
            "parallel", fmt::format("the system refused thread {} of {} ({}); run fewer trials at a time "
                                    "(--parallel)", i + 1, options_.parallel, e.what())));
      stopping_ = true;
      workers_left -= options_.parallel - i;
      wake.notify_all();
      break;
    }
  }

  // This thread beats for the running trials and reports progress.
  auto next_beat = SteadyClock::now();
  auto next_progress = SteadyClock::now();
  {
    std::unique_lock lock(mutex);
    while (workers_left > 0) {
      wake.wait_for(lock, std::chrono::milliseconds(100));
      auto now = SteadyClock::now();
      if (now >= next_beat) {
        std::vector<std::int64_t> ids(running.begin(), running.end());
        lock.unlock();
        try {
          storage.heartbeat(ids);
        } catch (const std::exception&) {
          // A storage hiccup: the next beat retries; trials are only stale after many misses.
        }
        lock.lock();
        next_beat = now + study_.options().heartbeat;
      }
      if (options_.on_progress && (now >= next_progress || !finished_since_report.empty())) {
        TuneProgress p;
        p.budget = study_.options().budget.value_or(pbt ? pbt->planned_trials() : 0);
        p.started_here = summary.started;
        p.finished_here = summary.complete + summary.pruned + summary.failed;
        p.elapsed_seconds = std::chrono::duration<double>(now - start).count();
        p.finished = std::move(finished_since_report);
        finished_since_report.clear();
        std::vector<double> d = durations;
        lock.unlock();
        try {
          p.counts = study_.counts();
          p.best = study_.best();
        } catch (const std::exception&) {
        }
        if (p.budget > 0 && !d.empty()) {
          double mean = 0;
          for (double x : d) mean += x;
          mean /= static_cast<double>(d.size());
          int left = std::max(0, p.budget - p.counts.counted + p.counts.running);
          p.remaining_seconds = mean * std::ceil(static_cast<double>(left) / options_.parallel);
        }
        options_.on_progress(p);
        lock.lock();
        next_progress = now + options_.progress_interval;
      }
    }
  }
  for (auto& t : pool) t.join();
  summary.interrupted = stopping_ && !fatal;
  summary.elapsed_seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (fatal) std::rethrow_exception(fatal);
  summary.best = study_.best();
  return summary;
}

}  // namespace caviar
