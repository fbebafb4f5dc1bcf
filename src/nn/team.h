// A fixed team of threads that runs one task at a time on all its members, with a
// barrier inside the task. The calling thread is member 0; a team of 1 starts no thread.
#pragma once

#include <barrier>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace caviar::nn {

// Not thread-safe: one owner calls run(); the members call sync() inside the task.
class WorkerTeam {
 public:
  explicit WorkerTeam(int size);
  ~WorkerTeam();
  WorkerTeam(const WorkerTeam&) = delete;
  WorkerTeam& operator=(const WorkerTeam&) = delete;

  int size() const { return size_; }
  // Runs task(member) on every member and returns when all have finished. The task must
  // not throw between two sync() calls of other members (ours do not throw at all).
  void run(const std::function<void(int member)>& task);
  // Inside a task: waits until every member has reached this point.
  void sync() {
    if (size_ > 1) barrier_.arrive_and_wait();
  }

 private:
  void serve(int member);
  int size_;
  std::barrier<> barrier_;
  const std::function<void(int)>* task_ = nullptr;
  bool stopping_ = false;
  void record_failure();
  std::mutex failure_mutex_;
  std::exception_ptr failure_;  // the first exception a member threw
  std::vector<std::jthread> threads_;  // last: joined before the rest is destroyed
};

// The part [begin, end) of n items that member `member` of `members` takes.
struct Share {
  std::ptrdiff_t begin, end;
};
inline Share share_of(std::ptrdiff_t n, int member, int members) {
  return {n * member / members, n * (member + 1) / members};
}

}  // namespace caviar::nn
