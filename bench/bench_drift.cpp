// Re-tuning after the data changed (issue 32, docs/retune.md): the public suite's problems
// (bench/suite.h) with their optimum moved, and four ways to tune the moved problem:
//   cold     a new study, the auto sampler, nothing from the old one;
//   enqueue  the old study's best 5 run first, then the auto sampler cold (what caviar
//            retune did before its warm start; Optuna's usual warm start with caviar's
//            sampler);
//   retune   what `caviar retune` does: the best 5 first, then the auto sampler warm-
//            started from the old study (make_warm_start_sampler);
//   optuna   Optuna 3.1: the same best 5 enqueued, then TPESampler (bench/drift_optuna.py,
//            run by this program in the same run, on the same problems through --serve).
// The old study: `--old-trials` trials of the auto sampler (seed 1000 + seed) on the
// problem as it is. The move, in the unit cube of the space (each parameter on its scale):
// u -> (u - s) mod 1, s = `delta` times a random sign per coordinate (seeded by problem,
// shift and seed), small 0.05, medium 0.15, large 0.4 of each range. The cube is wrapped
// round (a torus), so every value of the problem is still taken once and the optimum's value
// is kept: regret = best - f* as in the suite.
// Prints, per shift, the median regret at 10/30/100 trials and the goals:
//   small and medium: retune's median at 30 <= cold's at 100;
//   large: retune's median at 100 <= 1.1 x cold's at 100;
//   retune's median at 100 below optuna's on most problems.
//
//   bench_drift [--problems all] [--shifts small,medium,large] [--seeds 0-9] [--trials 100]
//               [--old-trials 100] [--jobs 2] [--optuna bench/drift_optuna.py] [--python /usr/bin/python3]
//   bench_drift --serve     reads {"problem","shift","seed","params"} lines, prints values
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "bench/suite.h"
#include "caviar/attributes.h"
#include "caviar/retune.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/tuner.h"

using namespace caviar;

namespace {

const std::vector<int> kBudgets = {10, 30, 100};
const std::vector<std::string> kArms = {"cold", "enqueue", "retune", "optuna"};

double shift_size(const std::string& level) {
  if (level == "small") return 0.05;
  if (level == "medium") return 0.15;
  if (level == "large") return 0.4;
  throw std::invalid_argument("shift is small, medium or large, not " + level);
}

// The problem moved by `level` (bench/suite.h's moved): a random sign per coordinate.
suite::Problem moved(const suite::Problem& p, const std::string& level, int seed) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char ch : p.name + "/" + level) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ULL;
  std::mt19937_64 rng(h + static_cast<std::uint64_t>(seed));
  std::vector<double> s;
  for (std::size_t i = 0; i < p.space.size(); ++i) s.push_back(shift_size(level) * (rng() % 2 ? 1.0 : -1.0));
  return suite::moved(p, s);
}

std::vector<double> regrets(const Study& study, double fstar) {
  std::vector<TrialRecord> history = study.trials();
  std::sort(history.begin(), history.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
  std::vector<double> out;
  double best = INFINITY;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (history[i].value) best = std::min(best, *history[i].value);
    if (std::find(kBudgets.begin(), kBudgets.end(), static_cast<int>(i + 1)) != kBudgets.end())
      out.push_back(best - fstar);
  }
  return out;
}

StudyOptions options(const suite::Problem& p, const std::string& name, std::uint64_t seed, int trials) {
  StudyOptions o;
  o.name = name;
  o.space = p.space;
  o.sampler.seed = seed;
  o.budget = trials;
  return o;
}

struct Run {
  std::string problem, shift;
  int seed;
  std::map<std::string, std::vector<double>> regret;  // arm -> at kBudgets
  json old_best;                                      // the old best 5, user values
  double weight = NAN;                                // retune's learned weight at the end
};

Run run_one(const suite::Problem& p, const std::string& level, int seed, int trials, int old_trials) {
  Run r{p.name, level, seed, {}, json::array()};
  auto storage = make_memory_storage();
  Study old(storage, options(p, "old", 1000 + static_cast<std::uint64_t>(seed), old_trials));
  optimize(old, [&](Trial& t) { return p.f(t.params()); });
  const suite::Problem q = moved(p, level, seed);
  auto objective = [&](Trial& t) { return q.f(t.params()); };
  const auto seed64 = static_cast<std::uint64_t>(seed);
  {
    Study cold(storage, options(p, "cold", seed64, trials));
    optimize(cold, objective);
    r.regret["cold"] = regrets(cold, p.fstar);
  }
  {
    Study enqueue(storage, options(p, "enqueue", seed64, trials));
    for (const json& params : start_retune(enqueue, old.view(), 5)) r.old_best.push_back(params);
    optimize(enqueue, objective);
    r.regret["enqueue"] = regrets(enqueue, p.fstar);
  }
  {
    StudyOptions o = options(p, "retune", seed64, trials);
    o.sampler.prior = retune_prior(old.view(), o.space);
    Study retune(storage, o);
    start_retune(retune, old.view(), 5);
    optimize(retune, objective);
    r.regret["retune"] = regrets(retune, p.fstar);
    const json note = storage->find_study("retune")->system_attrs.value(attr::kWarmStart, json::object());
    r.weight = note.value("weight", NAN);
  }
  return r;
}

std::vector<int> parse_seeds(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  for (std::string part; std::getline(ss, part, ',');) {
    auto dash = part.find('-');
    if (dash == std::string::npos) out.push_back(std::stoi(part));
    else
      for (int s = std::stoi(part.substr(0, dash)); s <= std::stoi(part.substr(dash + 1)); ++s) out.push_back(s);
  }
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string part; std::getline(ss, part, ',');) out.push_back(part);
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? NAN : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The moved problems as a line server, for drift_optuna.py: one definition of each.
int serve() {
  std::map<std::string, suite::Problem> cache;
  for (std::string line; std::getline(std::cin, line);) {
    const json in = json::parse(line);
    const std::string key = in.at("problem").get<std::string>() + "/" + in.at("shift").get<std::string>() + "/" +
                            std::to_string(in.at("seed").get<int>());
    auto it = cache.find(key);
    if (it == cache.end())
      it = cache.emplace(key, moved(suite::problem(in["problem"]), in["shift"], in["seed"])).first;
    const Params params = it->second.space.from_json(in.at("params"));
    std::cout << fmt::format("{:.17g}", it->second.f(params)) << std::endl;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Re-tuning after a move of the optimum: cold, enqueue, retune and Optuna"};
  std::string problems = "all", shifts = "small,medium,large", seeds = "0-9", optuna, python = "/usr/bin/python3";
  int trials = 100, old_trials = 100, jobs = 2;
  bool serving = false;
  app.add_option("--problems", problems);
  app.add_option("--shifts", shifts);
  app.add_option("--seeds", seeds);
  app.add_option("--trials", trials);
  app.add_option("--old-trials", old_trials);
  app.add_option("--jobs", jobs);
  app.add_option("--optuna", optuna, "bench/drift_optuna.py: run Optuna's arm in the same run");
  app.add_option("--python", python);
  app.add_flag("--serve", serving);
  CLI11_PARSE(app, argc, argv);
  if (serving) return serve();

  std::vector<suite::Problem> chosen;
  const std::vector<std::string> named = split(problems);
  for (auto& p : suite::problems())
    if (problems == "all" || std::find(named.begin(), named.end(), p.name) != named.end()) chosen.push_back(p);
  struct Task {
    const suite::Problem* p;
    std::string shift;
    int seed;
  };
  std::vector<Task> tasks;
  for (const auto& p : chosen)
    for (const auto& s : split(shifts))
      for (int seed : parse_seeds(seeds)) tasks.push_back({&p, s, seed});
  std::vector<Run> runs(tasks.size());
  std::atomic<std::size_t> next{0};
  std::mutex print;
  std::vector<std::thread> pool;
  for (int j = 0; j < std::max(1, jobs); ++j)
    pool.emplace_back([&] {
      for (std::size_t i; (i = next++) < tasks.size();) {
        runs[i] = run_one(*tasks[i].p, tasks[i].shift, tasks[i].seed, trials, old_trials);
        std::lock_guard lock(print);
        std::fprintf(stderr, "\r%zu/%zu runs", i + 1, tasks.size());
      }
    });
  for (auto& t : pool) t.join();
  std::fprintf(stderr, "\n");

  if (!optuna.empty()) {  // Optuna's arm, on the same old best, through --serve
    const std::string old_file = "drift_old_best.jsonl", out_file = "drift_optuna.csv";
    {
      std::ofstream out(old_file);
      for (const Run& r : runs)
        out << json{{"problem", r.problem}, {"shift", r.shift}, {"seed", r.seed},
                    {"space", suite::problem(r.problem).space.to_config_json()},
                    {"fstar", suite::problem(r.problem).fstar}, {"old_best", r.old_best}}
                   .dump()
            << "\n";
    }
    const std::string command = fmt::format("{} {} --runs {} --serve '{} --serve' --trials {} --out {}", python,
                                            optuna, old_file, argv[0], trials, out_file);
    if (std::system(command.c_str()) != 0) {
      std::fprintf(stderr, "bench_drift: %s failed\n", command.c_str());
      return 1;
    }
    std::ifstream in(out_file);
    std::string line;
    std::getline(in, line);  // problem,shift,seed,r10,r30,r100
    while (std::getline(in, line)) {
      auto f = split(line);
      for (Run& r : runs)
        if (r.problem == f[0] && r.shift == f[1] && r.seed == std::stoi(f[2]))
          r.regret["optuna"] = {std::stod(f[3]), std::stod(f[4]), std::stod(f[5])};
    }
  }

  int small_met = 0, small_all = 0, large_met = 0, large_all = 0, beats = 0, compared = 0;
  for (const auto& s : split(shifts)) {
    fmt::print("\n### {} shift (median regret over {} seeds; {} old trials)\n\n", s, parse_seeds(seeds).size(), old_trials);
    fmt::print("| problem | cold @30 | cold @100 | enqueue @30 | enqueue @100 | retune @10 | retune @30 | retune @100 | optuna @30 | optuna @100 | weight | goal |\n");
    fmt::print("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (const auto& p : chosen) {
      std::map<std::string, std::vector<std::vector<double>>> at;  // arm -> budget -> values
      std::vector<double> weights;
      for (const Run& r : runs)
        if (r.problem == p.name && r.shift == s) weights.push_back(r.weight);
      for (const Run& r : runs)
        if (r.problem == p.name && r.shift == s)
          for (const auto& [arm, v] : r.regret) {
            at[arm].resize(kBudgets.size());
            for (std::size_t b = 0; b < v.size(); ++b) at[arm][b].push_back(v[b]);
          }
      auto m = [&](const std::string& arm, std::size_t b) {
        return at.count(arm) && at[arm].size() > b ? median(at[arm][b]) : NAN;
      };
      std::string goal;
      if (s == "large") {
        const bool met = m("retune", 2) <= 1.1 * m("cold", 2) + 1e-12;
        large_met += met, ++large_all;
        goal = met ? "met" : "missed";
      } else {
        const bool met = m("retune", 1) <= m("cold", 2) + 1e-12;
        small_met += met, ++small_all;
        goal = met ? "met" : "missed";
      }
      if (at.count("optuna")) {
        ++compared;
        if (m("retune", 2) < m("optuna", 2)) ++beats;
      }
      fmt::print("| {} | {:.3g} | {:.3g} | {:.3g} | {:.3g} | {:.3g} | {:.3g} | {:.3g} | {:.3g} | {:.3g} | {:.2f} | {} |\n",
                 p.name, m("cold", 1), m("cold", 2), m("enqueue", 1), m("enqueue", 2), m("retune", 0), m("retune", 1),
                 m("retune", 2), m("optuna", 1), m("optuna", 2), median(weights), goal);
    }
  }
  fmt::print("\nsmall and medium shifts: retune's median regret at 30 trials <= cold's at 100 on {} of {}\n", small_met,
             small_all);
  fmt::print("large shifts: retune's median at 100 within 10% of cold's on {} of {}\n", large_met, large_all);
  if (compared) fmt::print("retune's median at 100 below Optuna's (enqueue + TPE) on {} of {}\n", beats, compared);
  return 0;
}
