// The heartbeat: proof of life for the trials this process runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>

#include "caviar/storage.h"

namespace caviar::detail {

// Beats for every trial added and not yet removed, every `interval`, from a thread of its
// own that starts with the object and ends with it. Another process that finds a running
// trial without a beat for the study's stale_after fails it as stale. A beat the storage
// cannot take is skipped (a trial is stale only after many misses). Safe to use from
// several threads at once.
class Heartbeat {
 public:
  Heartbeat(Storage& storage, std::chrono::milliseconds interval);
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

  void add(std::int64_t trial_id);
  void remove(std::int64_t trial_id);

 private:
  void beat_until_stopped();

  Storage& storage_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::set<std::int64_t> running_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace caviar::detail
