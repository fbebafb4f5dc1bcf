// The Tuner (include/caviar/tuner.h): workers that take trials from the source and run
// them with the trial runner, a heartbeat, and the progress reporter on this thread.
#include "caviar/tuner.h"

#include <algorithm>
#include <mutex>
#include <system_error>
#include <thread>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/error.h"
#include "run/heartbeat.h"
#include "run/progress.h"
#include "run/trial_runner.h"

namespace caviar {
namespace {

// Watches the first trials that finish for the same failure (stop_after_same_failures).
class FailureWatch {
 public:
  explicit FailureWatch(int watched) : watched_(watched) {}

  // Takes a finished trial; returns true once the first `watched` ones all failed alike.
  bool finished(const TrialRecord& t) {
    std::lock_guard lock(mutex_);
    if (watched_ <= 0 || decided_) return false;
    if (t.state == TrialState::Failed && t.system_attrs.value(attr::kFailure, "") == "interrupted")
      return false;  // stopped by caviar: says nothing about the trial
    const std::string line = t.reason_line();
    if (t.state != TrialState::Failed || (seen_ > 0 && signature(line) != signature_)) {
      decided_ = true;  // something worked, or failures differ: run the budget
      return false;
    }
    if (seen_++ == 0) {
      signature_ = signature(line);
      stop_ = EarlyStop{0, line, t};
    }
    if (seen_ < watched_) return false;
    decided_ = true;
    stop_->trials = seen_;
    return true;
  }
  std::optional<EarlyStop> result() const { return stop_ && stop_->trials ? stop_ : std::nullopt; }

 private:
  // The reason with each run of digits as '#': "exit code 2: bad value --batch 32" and
  // "... --batch 64" are one failure.
  static std::string signature(const std::string& reason) {
    std::string out;
    for (char c : reason) {
      const bool digit = c >= '0' && c <= '9';
      if (!digit) out += c;
      else if (out.empty() || out.back() != '#') out += '#';
    }
    return out;
  }
  std::mutex mutex_;
  int watched_, seen_ = 0;
  bool decided_ = false;
  std::string signature_;
  std::optional<EarlyStop> stop_;
};

}  // namespace

Tuner::Tuner(Study& study, Executor& executor, TuneOptions options)
    : study_(study), executor_(executor), options_(std::move(options)) {
  if (options_.parallel < 1) throw ConfigError("parallel", "must be at least 1");
  const Resources& r = options_.resources;
  if (!r.gpus.empty()) {
    if (r.gpus_per_trial < 1 || r.slots() < 1)
      throw ConfigError("resources.gpus_per_trial", fmt::format("{} devices per trial, but {} are given",
                                                                r.gpus_per_trial, r.gpus.size()));
    options_.parallel = std::min(options_.parallel, r.slots());  // a worker per slot at most
  }
  if (!options_.source) options_.source = make_sampler_source();
}

// Long because it wires the parts (source, runner, heartbeat, progress) to the worker
// threads and carries the two ways a run ends badly (a storage failure, no more threads);
// the work itself is in the parts.
TuneSummary Tuner::run() {
  using SteadyClock = std::chrono::steady_clock;
  const auto start = SteadyClock::now();
  TrialSource& source = *options_.source;
  const detail::TrialRunner runner(study_, executor_, source, [this] { return stopping(); },
                                   options_.trial_root);
  detail::Heartbeat heartbeat(study_.storage(), study_.options().heartbeat);
  detail::Progress progress(study_, options_.parallel,
                            study_.options().budget.value_or(source.planned_trials()),
                            options_.progress_interval, options_.on_progress);
  std::mutex fatal_mutex;
  std::exception_ptr fatal;  // a storage failure: stops the run, rethrown at the end
  auto fail = [&] {
    std::lock_guard lock(fatal_mutex);
    if (!fatal) fatal = std::current_exception();
    stopping_ = true;
  };
  auto out_of_time = [&] {
    return options_.time_limit && SteadyClock::now() - start >= *options_.time_limit;
  };
  std::atomic<int> started{0};
  const std::optional<int> budget = study_.options().budget;
  FailureWatch failures(budget ? std::min(*budget, options_.stop_after_same_failures)
                               : options_.stop_after_same_failures);
  std::atomic<bool> stopped_early{false};

  // Worker i owns slot i: the devices i*per_trial ... (i+1)*per_trial - 1, for each trial it
  // runs (one trial at a time, so no two running trials share a device).
  auto devices_of = [&](int worker) {
    const Resources& r = options_.resources;
    if (r.gpus.empty()) return std::vector<std::string>();
    const auto first = r.gpus.begin() + static_cast<std::ptrdiff_t>(worker) * r.gpus_per_trial;
    return std::vector<std::string>(first, first + r.gpus_per_trial);
  };
  auto worker = [&](int index) {
    const std::vector<std::string> devices = devices_of(index);
    while (!stopping() && !out_of_time()) {
      if (options_.max_new_trials && started.fetch_add(1) >= *options_.max_new_trials) break;
      std::optional<Trial> trial;
      try {
        trial = source.next(study_, options_.trial_root);
      } catch (...) {
        fail();
        break;
      }
      if (!trial) break;
      progress.started();
      heartbeat.add(trial->id());
      TrialRecord done;
      try {
        done = runner.run(*trial, devices, static_cast<bool>(options_.on_progress));
      } catch (...) {
        fail();
        done = trial->record();
        done.state = TrialState::Failed;
      }
      heartbeat.remove(trial->id());
      if (failures.finished(done)) {
        stopped_early = true;
        stopping_ = true;
      }
      progress.finished(std::move(done));
    }
    progress.worker_done();
  };

  // Without a progress callback nobody is told anything, so worker 0 runs on this thread
  // instead of waiting for the others: a one-thread optimize() stays on the caller's thread
  // (and its malloc arena), which makes a trivial in-process trial about twice as cheap.
  const bool worker_here = !options_.on_progress;
  std::vector<std::thread> pool;
  for (int i = worker_here ? 1 : 0; i < options_.parallel; ++i) {
    try {
      pool.emplace_back(worker, i);
    } catch (const std::system_error& e) {
      // The system gives no more threads (a thread limit, or no memory for stacks): the
      // workers started stop, and run() says why instead of ending the process.
      try {
        throw ConfigError("parallel", fmt::format("the system refused thread {} of {} ({}); run fewer "
                                                  "trials at a time (--parallel)",
                                                  i + 1, options_.parallel, e.what()));
      } catch (...) {
        fail();
      }
      break;
    }
  }
  if (worker_here) worker(0);
  else progress.watch(static_cast<int>(pool.size()));
  for (auto& t : pool) t.join();

  TuneSummary summary = progress.summary();
  if (stopped_early) summary.stopped_early = failures.result();
  summary.interrupted = stopping() && !fatal && !stopped_early;
  summary.elapsed_seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  if (fatal) std::rethrow_exception(fatal);
  summary.best = study_.best();
  return summary;
}

TuneSummary optimize(Study& study, const std::function<double(Trial&)>& objective,
                     std::optional<int> n_trials, int threads) {
  auto executor = make_function_executor(objective);
  TuneOptions options;
  options.parallel = std::max(1, threads);
  options.max_new_trials = n_trials;
  // In-process trials die with the process that runs them: like Study::ask(false), they
  // take no heartbeat, which keeps a trial's storage cost to its own rows.
  options.source = make_sampler_source(false);
  Tuner tuner(study, *executor, std::move(options));
  return tuner.run();
}

}  // namespace caviar
