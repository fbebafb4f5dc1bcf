// Overhead: trials per second of a trivial in-process objective (sum of squares of five
// floats in [-10, 10]) with the random sampler through Study::optimize, so what is timed
// is caviar itself: asking, storing and telling.
//
//   bench_overhead [--memory-trials N] [--sqlite-trials N] [--dir DIR] [--no-shm]
//
// Cases (the names match bench/optuna_overhead.py, so run_overhead.sh can join them):
//   memory               make_memory_storage(), 1 thread            (default 10,000 trials)
//   sqlite-disk-1proc    SQLite file in DIR, 1 process              (default 2,000 trials)
//   sqlite-disk-2procs   the same study from 2 processes together   (2,000 in all: budget)
//   sqlite-shm-1proc     SQLite file in /dev/shm, 1 process
//   sqlite-shm-2procs    SQLite file in /dev/shm, 2 processes
// DIR defaults to ./caviar-bench-overhead (on disk; /tmp may be tmpfs elsewhere). The
// worker processes are this program run again with --worker URL STUDY.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/tuner.h"

using namespace caviar;
namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

namespace {

constexpr const char* kStudy = "overhead";

StudyOptions options_for(std::optional<int> budget) {
  StudyOptions o;
  o.name = kStudy;
  o.direction = Direction::Minimize;
  json space = json::object();
  for (int i = 0; i < 5; ++i)
    space["x" + std::to_string(i)] = {{"type", "float"}, {"low", -10}, {"high", 10}};
  o.space = SearchSpace::from_config_json(space);
  o.sampler.name = "random";
  o.sampler.seed = 1;
  o.budget = budget;
  return o;
}

double objective(Trial& t) {
  double s = 0;
  for (int i = 0; i < 5; ++i) {
    static const char* names[] = {"x0", "x1", "x2", "x3", "x4"};
    double x = t.float_param(names[i]);
    s += x * x;
  }
  return s;
}

double seconds_since(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

struct Row {
  std::string name;
  int trials;
  double seconds;
};

void remove_db(const fs::path& db) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(db.string() + suffix);
}

// Checks what the storage holds after a case: the count and unique, contiguous numbers.
void verify(const std::string& url, int expected) {
  auto storage = open_storage(url);
  auto study = storage->find_study(kStudy);
  if (!study) throw std::runtime_error("study missing after the run");
  auto trials = storage->trials(study->id);
  std::set<int> numbers;
  int complete = 0;
  for (const auto& t : trials) {
    numbers.insert(t.number);
    complete += t.state == TrialState::Complete;
  }
  if (static_cast<int>(trials.size()) != expected || complete != expected ||
      static_cast<int>(numbers.size()) != expected || *numbers.rbegin() != expected - 1)
    throw std::runtime_error(fmt::format("{}: expected {} complete trials numbered 0..{}, found "
                                         "{} trials ({} complete, {} numbers)",
                                         url, expected, expected - 1, trials.size(), complete,
                                         numbers.size()));
}

Row run_memory(int n) {
  Study study(make_memory_storage(), options_for(std::nullopt));
  auto start = Steady::now();
  optimize(study, objective, n);
  double s = seconds_since(start);
  if (static_cast<int>(study.counts().complete) != n) throw std::runtime_error("memory: wrong count");
  return {"memory", n, s};
}

Row run_sqlite_1proc(const std::string& name, const fs::path& db, int n) {
  remove_db(db);
  std::string url = "sqlite:///" + fs::absolute(db).string();
  auto start = Steady::now();
  {
    Study study(open_storage(url), options_for(n));
    optimize(study, objective);
  }
  double s = seconds_since(start);
  verify(url, n);
  remove_db(db);
  return {name, n, s};
}

Row run_sqlite_procs(const std::string& name, const fs::path& db, int n, int procs) {
  remove_db(db);
  std::string url = "sqlite:///" + fs::absolute(db).string();
  { Study create(open_storage(url), options_for(n)); }  // the file and the study exist first
  std::string self = fs::read_symlink("/proc/self/exe").string();
  auto start = Steady::now();
  std::vector<pid_t> pids;
  for (int i = 0; i < procs; ++i) {
    pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      std::string budget = std::to_string(n);
      execl(self.c_str(), self.c_str(), "--worker", url.c_str(), budget.c_str(), (char*)nullptr);
      std::perror("execl");
      _exit(127);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error(fmt::format("worker {} failed (status {})", pid, status));
  }
  double s = seconds_since(start);
  verify(url, n);
  remove_db(db);
  return {name, n, s};
}

int worker(const std::string& url, int budget) {
  try {
    Study study(open_storage(url), options_for(budget));
    optimize(study, objective);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "worker: {}\n", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--worker") == 0) return worker(argv[2], std::atoi(argv[3]));
  int memory_trials = 10000, sqlite_trials = 2000;
  fs::path dir = "caviar-bench-overhead";
  bool shm = fs::is_directory("/dev/shm");
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "bench_overhead: {} needs a value\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--memory-trials") memory_trials = std::stoi(next());
    else if (a == "--sqlite-trials") sqlite_trials = std::stoi(next());
    else if (a == "--dir") dir = next();
    else if (a == "--no-shm") shm = false;
    else {
      fmt::print(stderr, "usage: bench_overhead [--memory-trials N] [--sqlite-trials N] [--dir DIR] [--no-shm]\n");
      return 2;
    }
  }
  try {
    fs::create_directories(dir);
    std::vector<Row> rows;
    rows.push_back(run_memory(memory_trials));
    rows.push_back(run_sqlite_1proc("sqlite-disk-1proc", dir / "overhead.db", sqlite_trials));
    rows.push_back(run_sqlite_procs("sqlite-disk-2procs", dir / "overhead.db", sqlite_trials, 2));
    if (shm) {
      fs::path shm_db = fs::path("/dev/shm") / fmt::format("caviar-overhead-{}.db", getpid());
      rows.push_back(run_sqlite_1proc("sqlite-shm-1proc", shm_db, sqlite_trials));
      rows.push_back(run_sqlite_procs("sqlite-shm-2procs", shm_db, sqlite_trials, 2));
    }
    fs::remove(dir);  // only if empty
    fmt::print("caviar (C++), random sampler, objective: sum of squares of 5 floats\n\n");
    fmt::print("| case | trials | seconds | trials/s |\n|---|---:|---:|---:|\n");
    for (const auto& r : rows)
      fmt::print("| {} | {} | {:.3f} | {:.1f} |\n", r.name, r.trials, r.seconds, r.trials / r.seconds);
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_overhead: {}\n", e.what());
    return 1;
  }
  return 0;
}
