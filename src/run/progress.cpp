#include "run/progress.h"

#include <algorithm>
#include <cmath>

namespace caviar::detail {

Progress::Progress(Study& study, int parallel, int budget, std::chrono::milliseconds interval,
                   std::function<void(const TuneProgress&)> callback)
    : study_(study),
      parallel_(parallel),
      budget_(budget),
      interval_(interval),
      callback_(std::move(callback)) {}

void Progress::started() {
  std::lock_guard lock(mutex_);
  ++summary_.started;
}

void Progress::finished(TrialRecord done) {
  {
    std::lock_guard lock(mutex_);
    switch (done.state) {
      case TrialState::Complete: ++summary_.complete; break;
      case TrialState::Pruned: ++summary_.pruned; break;
      default: ++summary_.failed; break;
    }
    seconds_sum_ += done.duration_seconds();
    if (!callback_) return;  // nobody to tell: no wake-up (a thread switch per trial)
    unreported_.push_back(std::move(done));
  }
  wake_.notify_all();
}

void Progress::worker_done() {
  {
    std::lock_guard lock(mutex_);
    ++workers_done_;
  }
  wake_.notify_all();
}

TuneSummary Progress::summary() const {
  std::lock_guard lock(mutex_);
  return summary_;
}

void Progress::watch(int workers) {
  using SteadyClock = std::chrono::steady_clock;
  auto next = SteadyClock::now();
  std::unique_lock lock(mutex_);
  while (workers_done_ < workers) {
    wake_.wait_for(lock, std::chrono::milliseconds(100));
    const auto now = SteadyClock::now();
    if (!callback_ || (now < next && unreported_.empty())) continue;
    TuneProgress p;
    p.budget = budget_;
    p.started_here = summary_.started;
    p.finished_here = summary_.complete + summary_.pruned + summary_.failed;
    p.elapsed_seconds = std::chrono::duration<double>(now - start_).count();
    p.finished = std::move(unreported_);
    unreported_.clear();
    const double mean = p.finished_here > 0 ? seconds_sum_ / p.finished_here : 0;
    lock.unlock();
    try {
      p.counts = study_.counts();
      p.best = study_.best();
    } catch (const std::exception&) {
      // The storage is busy or away: this line shows what this run knows.
    }
    if (p.budget > 0 && p.finished_here > 0) {
      const int left = std::max(0, p.budget - p.counts.counted + p.counts.running);
      p.remaining_seconds = mean * std::ceil(static_cast<double>(left) / parallel_);
    }
    callback_(p);
    lock.lock();
    next = now + interval_;
  }
}

}  // namespace caviar::detail
