// The worker team: members meet at one barrier before a task, inside it, and after it.
#include "nn/team.h"

namespace caviar::nn {

WorkerTeam::WorkerTeam(int size) : size_(size), barrier_(size) {
  for (int member = 1; member < size; ++member) threads_.emplace_back([this, member] { serve(member); });
}

WorkerTeam::~WorkerTeam() {
  if (size_ > 1) {
    stopping_ = true;
    barrier_.arrive_and_wait();  // releases the members, who see stopping_ and leave
  }
}

void WorkerTeam::serve(int member) {
  for (;;) {
    barrier_.arrive_and_wait();
    if (stopping_) return;
    try {
      (*task_)(member);
    } catch (...) {
      record_failure();
    }
    barrier_.arrive_and_wait();
  }
}

void WorkerTeam::record_failure() {
  std::lock_guard lock(failure_mutex_);
  if (!failure_) failure_ = std::current_exception();
}

void WorkerTeam::run(const std::function<void(int)>& task) {
  if (size_ == 1) {
    task(0);
    return;
  }
  task_ = &task;
  failure_ = nullptr;
  barrier_.arrive_and_wait();
  try {
    task(0);
  } catch (...) {
    record_failure();
  }
  barrier_.arrive_and_wait();
  if (failure_) std::rethrow_exception(failure_);
}

}  // namespace caviar::nn
