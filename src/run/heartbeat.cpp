#include "run/heartbeat.h"

#include <vector>

namespace caviar::detail {

Heartbeat::Heartbeat(Storage& storage, std::chrono::milliseconds interval)
    : storage_(storage), interval_(interval), thread_([this] { beat_until_stopped(); }) {}

Heartbeat::~Heartbeat() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Heartbeat::add(std::int64_t trial_id) {
  std::lock_guard lock(mutex_);
  running_.insert(trial_id);
}

void Heartbeat::remove(std::int64_t trial_id) {
  std::lock_guard lock(mutex_);
  running_.erase(trial_id);
}

void Heartbeat::beat_until_stopped() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) break;
    std::vector<std::int64_t> ids(running_.begin(), running_.end());
    if (ids.empty()) continue;
    lock.unlock();
    try {
      storage_.heartbeat(ids);
    } catch (const std::exception&) {
      // A storage hiccup: the next beat retries; trials are only stale after many misses.
    }
    lock.lock();
  }
}

}  // namespace caviar::detail
