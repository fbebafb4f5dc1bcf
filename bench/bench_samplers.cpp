// Time per suggestion of the model-based samplers against the size of the history.
//
// The shared fixture: a history of N complete trials on a suite problem (random points,
// the problem's values), then suggest() for trial N, timed. Every sampler goes through
// make_sampler(SamplerOptions{name, seed, settings}), so a new sampler needs one line:
//
//   BENCHMARK_CAPTURE(BM_Suggest, name, "name", R"({"key": 1})", "ackley5")
//       ->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);
//
// BM_Ask times the layer that bench/optuna_sampler_time.py times for Optuna's TPESampler
// on the same histories: the study's ask() on an in-memory store (the storage's copy of
// the history included), not the bare suggest().
//
// Run: build/bench/bench_samplers [--benchmark_filter=tpe]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bench/suite.h"
#include "caviar/sampler.h"
#include "caviar/storage.h"
#include "caviar/study.h"

using namespace caviar;

namespace {

// N complete trials of `problem` at random points (the random sampler, seed 12345),
// numbered 0..N-1, built once per (problem, N).
const std::vector<TrialRecord>& history(const suite::Problem& problem, int n) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, int>, std::vector<TrialRecord>> cache;
  std::lock_guard lock(mutex);
  auto& h = cache[{problem.name, n}];
  if (static_cast<int>(h.size()) == n) return h;
  h.clear();
  h.reserve(static_cast<std::size_t>(n));
  auto random = make_random_sampler(12345);
  const Params none;
  const std::vector<TrialRecord> empty;
  for (int i = 0; i < n; ++i) {
    SampleContext c{problem.space, empty, i, Direction::Minimize, none};
    TrialRecord t;
    t.id = i + 1;
    t.number = i;
    t.state = TrialState::Complete;
    t.params = *random->suggest(c);
    t.value = problem.f(t.params);
    h.push_back(std::move(t));
  }
  return h;
}

// One suggestion for trial N after a history of N trials (N = state.range(0)).
void BM_Suggest(benchmark::State& state, const char* sampler, const char* settings,
                const char* problem_name) {
  const suite::Problem problem = suite::problem(problem_name);
  const int n = static_cast<int>(state.range(0));
  const std::vector<TrialRecord>& h = history(problem, n);
  auto s = make_sampler(SamplerOptions{sampler, 1, json::parse(settings)});
  const Params fixed;
  const SampleContext c{problem.space, h, n, Direction::Minimize, fixed};
  for (auto _ : state) benchmark::DoNotOptimize(s->suggest(c));
  state.SetLabel(std::string(problem_name) + ", " + std::to_string(problem.space.size()) +
                 " params");
}

// One Study::ask() after N complete trials of ackley5 in an in-memory study, as Optuna's
// script does it: the asked trial is failed outside the timing so that the history the
// sampler sees does not change; each size is asked 20 times (5 at 10,000), and besides
// the mean the median ask is reported (median_ms), the figure Optuna's script prints.
void BM_Ask(benchmark::State& state, const char* sampler, const char* settings) {
  const suite::Problem problem = suite::problem("ackley5");
  const int n = static_cast<int>(state.range(0));
  StudyOptions options;
  options.name = "ask";
  options.space = problem.space;
  options.sampler = SamplerOptions{sampler, 1, json::parse(settings)};
  Study study(make_memory_storage(), options);
  for (const TrialRecord& t : history(problem, n)) {
    auto trial = study.ask([&](const std::vector<TrialRecord>&, const Params&, int) {
      return std::optional<TrialDraft>(TrialDraft{t.params, json::object()});
    }, false);
    study.tell(*trial, *t.value);
  }
  std::vector<double> ms;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto trial = study.ask(false);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    state.PauseTiming();
    study.tell_failed(*trial, "timed", json::object(), false);
    state.ResumeTiming();
  }
  std::sort(ms.begin(), ms.end());
  if (!ms.empty()) state.counters["median_ms"] = (ms[(ms.size() - 1) / 2] + ms[ms.size() / 2]) / 2;
  state.SetLabel("ackley5, Study::ask() on an in-memory study");
}

}  // namespace

BENCHMARK_CAPTURE(BM_Ask, tpe, "tpe", "{}")
    ->Arg(100)->Arg(1000)->Iterations(20)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Ask, tpe_univariate, "tpe", R"({"multivariate": false})")
    ->Arg(100)->Arg(1000)->Iterations(20)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Ask, tpe_10000, "tpe", "{}")->Arg(10000)->Iterations(5)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Ask, tpe_univariate_10000, "tpe", R"({"multivariate": false})")
    ->Arg(10000)->Iterations(5)->Unit(benchmark::kMillisecond);

// TPE on a 5-parameter continuous space (ackley5).
BENCHMARK_CAPTURE(BM_Suggest, tpe, "tpe", "{}", "ackley5")
    ->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Suggest, tpe_univariate, "tpe", R"({"multivariate": false})", "ackley5")
    ->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// CMA-ES on the same 5-parameter space. The sampler keeps its replayed state between
// calls, so the case above measures a suggestion with a warm cache (a fingerprint scan of
// the history, then one sample); cmaes_cold builds a new sampler per suggestion, so it
// replays every generation of the history (the first call of a new process).
BENCHMARK_CAPTURE(BM_Suggest, cmaes, "cmaes", "{}", "ackley5")
    ->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);
void BM_SuggestCmaesCold(benchmark::State& state) {
  const suite::Problem problem = suite::problem("ackley5");
  const int n = static_cast<int>(state.range(0));
  const std::vector<TrialRecord>& h = history(problem, n);
  const Params fixed;
  const SampleContext c{problem.space, h, n, Direction::Minimize, fixed};
  for (auto _ : state) {
    auto s = make_sampler(SamplerOptions{"cmaes", 1, json::object()});
    benchmark::DoNotOptimize(s->suggest(c));
  }
  state.SetLabel("ackley5, 5 params, new sampler each time");
}
BENCHMARK(BM_SuggestCmaesCold)->Name("BM_Suggest/cmaes_cold")
    ->Arg(100)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// GP (docs/samplers.md#gp) on the same 5-parameter space: at 500 trials the model keeps
// 300 points (max_trials) and fits its hyperparameters on 100 of them (fit_trials).
BENCHMARK_CAPTURE(BM_Suggest, gp, "gp", "{}", "ackley5")
    ->Arg(100)->Arg(500)->Arg(1000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
