// Search quality: every sampler on the public suite (bench/suite.h, ../shared/bench/suite.md),
// several seeds, a fixed trial budget, sequential in-memory studies through Study::optimize.
// Prints Markdown tables of median and mean regret (best value found − f*) at the budgets,
// each sampler's average rank, and the CPU time of a run; with --optuna, Optuna's rows from
// run_optuna.py's CSV are joined in as extra columns, and --goal checks one sampler against
// Optuna's best per problem, and (--botorch) beside BoTorch's medians as the anchors
// recorded them in baselines.md.
//
//   bench_quality [--samplers auto,tpe,gp,cmaes,random,sobol,gp:indifference=0] [--problems all]
//                 [--seeds 0-9] [--trials 100] [--jobs 2] [--csv out.csv]
//                 [--optuna results_quality.csv] [--goal auto] [--botorch ../shared/bench/baselines.md]
//
// Runs are independent, so --jobs runs several at once on threads; CPU time is measured
// per run with the thread's own clock, so it does not depend on --jobs.
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "bench/suite.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/tuner.h"

using namespace caviar;

namespace {

const std::vector<int> kBudgets = {10, 25, 50, 100};

// BoTorch's medians and seconds per 100-trial run as the anchors recorded them: the table
// under the "BoTorch" heading of ../shared/bench/baselines.md, rows "| problem | seeds |
// @10 | @25 | @50 | @100 | seconds |". BoTorch does not install here (not in Debian), so
// it cannot run beside caviar; these are the anchors' figures (16 cores, 2-3 seeds).
struct BoTorchRow {
  double median[4];
  double seconds;
};
std::map<std::string, BoTorchRow> read_botorch(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read " + file);
  std::map<std::string, BoTorchRow> out;
  bool in_section = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) in_section = line.find("BoTorch") != std::string::npos;
    if (!in_section || line.rfind("| ", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream row(line.substr(1));
    for (std::string cell; std::getline(row, cell, '|');) {
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
    }
    if (cells.size() < 7) continue;
    try {
      std::size_t used = 0;
      std::stoi(cells[1], &used);  // seeds: a header or a rule is no row
      if (used != cells[1].size()) continue;
      BoTorchRow r{};
      for (int k = 0; k < 4; ++k) r.median[k] = std::stod(cells[2 + k]);
      r.seconds = std::stod(cells[6]);
      out[cells[0]] = r;
    } catch (const std::exception&) {
    }
  }
  if (out.empty()) throw std::runtime_error(file + ": no BoTorch table found");
  return out;
}

struct Run {
  std::string problem, sampler;
  int seed = 0;
  std::vector<double> regret;  // at each budget
  double cpu_seconds = 0;
};

std::vector<int> parse_seeds(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    auto dash = part.find('-');
    if (dash == std::string::npos) {
      out.push_back(std::stoi(part));
    } else {
      for (int s = std::stoi(part.substr(0, dash)); s <= std::stoi(part.substr(dash + 1)); ++s)
        out.push_back(s);
    }
  }
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) out.push_back(part);
  return out;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// A sampler with its settings after colons, as in gp:indifference=0:acquisition=ei (a value
// is a JSON number or true/false where it parses as one, else a string).
SamplerOptions sampler_spec(const std::string& spec, std::uint64_t seed) {
  std::vector<std::string> parts;
  std::stringstream in(spec);
  for (std::string part; std::getline(in, part, ':');) parts.push_back(part);
  SamplerOptions o{parts.empty() ? spec : parts[0], seed, json::object()};
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto eq = parts[i].find('=');
    if (eq == std::string::npos) throw std::invalid_argument("sampler setting without '=': " + parts[i]);
    std::string value = parts[i].substr(eq + 1);
    json v = json::parse(value, nullptr, false);
    o.settings[parts[i].substr(0, eq)] = v.is_discarded() || v.is_string() ? json(value) : v;
  }
  return o;
}

Run run_one(const suite::Problem& problem, const std::string& sampler, int seed, int trials) {
  StudyOptions o;
  o.name = problem.name;
  o.direction = Direction::Minimize;
  o.space = problem.space;
  o.sampler = sampler_spec(sampler, static_cast<std::uint64_t>(seed));
  o.budget = trials;
  double start = thread_cpu_seconds();
  Study study(open_storage("memory"), o);
  optimize(study, [&](Trial& t) { return problem.f(t.params()); });
  Run r{problem.name, sampler, seed, {}, thread_cpu_seconds() - start};
  std::vector<TrialRecord> history = study.trials();
  std::sort(history.begin(), history.end(),
            [](const auto& a, const auto& b) { return a.number < b.number; });
  double best = INFINITY;
  std::size_t next = 0;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (history[i].value) best = std::min(best, *history[i].value);
    while (next < kBudgets.size() && static_cast<int>(i + 1) == kBudgets[next]) {
      r.regret.push_back(best - problem.fstar);
      ++next;
    }
  }
  while (r.regret.size() < kBudgets.size()) r.regret.push_back(best - problem.fstar);
  return r;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double mean(const std::vector<double>& v) {
  return v.empty() ? NAN : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

std::string num(double x) {
  if (std::isnan(x)) return "–";
  if (x == 0) return "0";
  double a = std::fabs(x);
  if (a >= 1e4 || a < 1e-3) return fmt::format("{:.3g}", x);
  return fmt::format("{:.4g}", x);
}

// Optuna rows from run_optuna.py's results CSV: problem,sampler,seed,n_trials,fstar,
// best@10..100,regret@10..100,wall_s,best_params.
std::vector<Run> read_optuna(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<Run> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    for (int k = 0; k < 14 && std::getline(ss, cell, ','); ++k) f.push_back(cell);
    if (f.size() < 14) continue;
    Run r{f[0], "optuna:" + f[1], std::stoi(f[2]), {}, std::stod(f[13])};
    for (int k = 0; k < 4; ++k) r.regret.push_back(std::stod(f[9 + k]));
    out.push_back(r);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Search quality of caviar's samplers on the public suite");
  std::string samplers = "random,sobol", problems = "all", seeds = "0-9", csv, optuna, goal,
              botorch_file;
  int trials = 100, jobs = 1;
  app.add_option("--samplers", samplers, "Comma-separated sampler names");
  app.add_option("--problems", problems, "Comma-separated problem names, or all");
  app.add_option("--seeds", seeds, "Seeds, e.g. 0-9 or 1,4,7");
  app.add_option("--trials", trials, "Trials per run (budgets 10, 25, 50, 100 are reported)");
  app.add_option("--jobs", jobs, "Runs at once (threads)");
  app.add_option("--csv", csv, "Write one row per run to this CSV");
  app.add_option("--optuna", optuna, "Join Optuna's rows from run_optuna.py's results CSV");
  app.add_option("--goal", goal, "Check this sampler against Optuna's best (and BoTorch's, with --botorch)");
  app.add_option("--botorch", botorch_file,
                 "Show BoTorch's recorded figures from the anchors' baselines.md (not run here)");
  CLI11_PARSE(app, argc, argv);
  std::map<std::string, BoTorchRow> botorch;
  try {
    if (!botorch_file.empty()) botorch = read_botorch(botorch_file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_quality: --botorch: %s\n", e.what());
    return 2;
  }
  const bool with_bo = !botorch.empty();
  auto bo_median = [&](const std::string& problem, std::size_t k) {
    auto it = botorch.find(problem);
    return it == botorch.end() ? static_cast<double>(NAN) : it->second.median[k];
  };
  auto bo_seconds = [&](const std::string& problem) {
    auto it = botorch.find(problem);
    return it == botorch.end() ? static_cast<double>(NAN) : it->second.seconds;
  };

  std::vector<suite::Problem> chosen;
  std::vector<std::string> wanted_problems = split(problems);
  for (auto& p : suite::problems())
    if (problems == "all" || std::count(wanted_problems.begin(), wanted_problems.end(), p.name))
      chosen.push_back(p);
  if (chosen.empty()) {
    std::fprintf(stderr, "bench_quality: no problem matches '%s'\n", problems.c_str());
    return 2;
  }
  std::vector<std::string> names = split(samplers);
  std::vector<int> seed_list = parse_seeds(seeds);
  for (const auto& n : names) make_sampler(sampler_spec(n, 0));  // checks names and settings

  struct Job {
    const suite::Problem* problem;
    std::string sampler;
    int seed;
  };
  std::vector<Job> todo;
  for (const auto& p : chosen)
    for (const auto& s : names)
      for (int seed : seed_list) todo.push_back({&p, s, seed});

  std::vector<Run> runs(todo.size());
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex print;
  auto worker = [&] {
    for (std::size_t i; (i = next++) < todo.size();) {
      runs[i] = run_one(*todo[i].problem, todo[i].sampler, todo[i].seed, trials);
      std::lock_guard lock(print);
      std::fprintf(stderr, "[%zu/%zu] %-12s %-8s seed %d regret@%d %s (%.2f s CPU)\n", ++done,
                   todo.size(), runs[i].problem.c_str(), runs[i].sampler.c_str(), runs[i].seed,
                   trials, num(runs[i].regret.back()).c_str(), runs[i].cpu_seconds);
    }
  };
  std::vector<std::thread> pool;
  for (int k = 0; k < std::max(1, jobs); ++k) pool.emplace_back(worker);
  for (auto& t : pool) t.join();

  if (!csv.empty()) {
    std::ofstream out(csv);
    out << "problem,sampler,seed,n_trials";
    for (int b : kBudgets) out << ",regret@" << b;
    out << ",cpu_s\n";
    for (const auto& r : runs) {
      out << r.problem << ',' << r.sampler << ',' << r.seed << ',' << trials;
      for (double x : r.regret) out << ',' << fmt::format("{:.17g}", x);
      out << ',' << fmt::format("{:.4f}", r.cpu_seconds) << '\n';
    }
  }

  std::vector<std::string> columns = names;
  if (!optuna.empty()) {
    std::set<std::string> seen;
    std::set<int> wanted(seed_list.begin(), seed_list.end());
    for (auto& r : read_optuna(optuna)) {
      if (!wanted.count(r.seed)) continue;
      if (seen.insert(r.sampler).second) columns.push_back(r.sampler);
      runs.push_back(r);
    }
  }
  // regret[column][problem][budget index] -> values over seeds
  std::map<std::string, std::map<std::string, std::vector<std::vector<double>>>> by;
  std::map<std::string, std::map<std::string, std::vector<double>>> cpu;
  for (const auto& r : runs) {
    auto& v = by[r.sampler][r.problem];
    v.resize(kBudgets.size());
    for (std::size_t k = 0; k < kBudgets.size(); ++k) v[k].push_back(r.regret[k]);
    cpu[r.sampler][r.problem].push_back(r.cpu_seconds);
  }
  auto stat = [&](const std::string& s, const std::string& p, std::size_t k, bool use_median) {
    auto it = by[s].find(p);
    if (it == by[s].end() || it->second.size() <= k) return static_cast<double>(NAN);
    return use_median ? median(it->second[k]) : mean(it->second[k]);
  };
  for (bool use_median : {true, false}) {
    std::printf("\n### %s regret over seeds %s, %d trials\n\n", use_median ? "Median" : "Mean",
                seeds.c_str(), trials);
    std::printf("| problem | trials |");
    for (const auto& c : columns) std::printf(" %s |", c.c_str());
    if (use_median && with_bo) std::printf(" botorch (recorded) |");
    std::printf(" best |\n|---|---:|");
    for (std::size_t c = 0; c < columns.size() + (use_median && with_bo ? 1 : 0); ++c) std::printf("---:|");
    std::printf("---|\n");
    for (const auto& p : chosen) {
      for (std::size_t k = 0; k < kBudgets.size(); ++k) {
        if (kBudgets[k] > trials) continue;
        std::printf("| %s | %d |", p.name.c_str(), kBudgets[k]);
        std::string best;
        double best_value = INFINITY;
        for (const auto& c : columns) {
          double x = stat(c, p.name, k, use_median);
          if (x < best_value) best_value = x, best = c;
          std::printf(" %s |", num(x).c_str());
        }
        if (use_median && with_bo) std::printf(" %s |", num(bo_median(p.name, k)).c_str());
        std::printf(" %s |\n", best.c_str());
      }
    }
  }

  std::printf("\n### Average rank of mean regret across %zu problems (1 = best)\n\n| trials |",
              chosen.size());
  for (const auto& c : columns) std::printf(" %s |", c.c_str());
  std::printf("\n|---:|");
  for (std::size_t c = 0; c < columns.size(); ++c) std::printf("---:|");
  std::printf("\n");
  for (std::size_t k = 0; k < kBudgets.size(); ++k) {
    if (kBudgets[k] > trials) continue;
    std::vector<double> rank_sum(columns.size(), 0);
    for (const auto& p : chosen) {
      for (std::size_t a = 0; a < columns.size(); ++a) {
        double x = stat(columns[a], p.name, k, false);
        double rank = 1;
        for (std::size_t b = 0; b < columns.size(); ++b) {
          double y = stat(columns[b], p.name, k, false);
          if (b != a) rank += y < x ? 1.0 : (y == x ? 0.5 : 0.0);
        }
        rank_sum[a] += rank;
      }
    }
    std::printf("| %d |", kBudgets[k]);
    for (double r : rank_sum) std::printf(" %.2f |", r / static_cast<double>(chosen.size()));
    std::printf("\n");
  }

  std::printf("\n### CPU seconds per %d-trial run (median over seeds; Optuna: wall time)\n\n"
              "| problem |", trials);
  for (const auto& c : columns) std::printf(" %s |", c.c_str());
  if (with_bo) std::printf(" botorch (recorded) |");
  std::printf("\n|---|");
  for (std::size_t c = 0; c < columns.size() + (with_bo ? 1 : 0); ++c) std::printf("---:|");
  std::printf("\n");
  for (const auto& p : chosen) {
    std::printf("| %s |", p.name.c_str());
    for (const auto& c : columns) std::printf(" %.3f |", median(cpu[c][p.name]));
    if (with_bo) std::printf(" %.0f |", bo_seconds(p.name));
    std::printf("\n");
  }

  if (!goal.empty()) {
    std::printf("\n### Goals for `%s`\n\n| problem | vs Optuna's best @50 | @100 |%s\n|---|---|---|%s\n",
                goal.c_str(), with_bo ? " vs BoTorch @50 (recorded) | CPU share of BoTorch's |" : "",
                with_bo ? "---|---:|" : "");
    int wins50 = 0, wins100 = 0, wins_bo = 0;
    for (const auto& p : chosen) {
      std::string cell[2];
      for (int j = 0; j < 2; ++j) {
        std::size_t k = j == 0 ? 2 : 3;
        double mine = stat(goal, p.name, k, true);
        std::string best_name;
        double best_value = INFINITY;
        for (const auto& c : columns) {
          // Optuna's unscrambled QMC starts at the box centre, the optimum of ackley5 and
          // rastrigin4 (baselines.md leaves it out), so it is not a fair "best".
          if (c.rfind("optuna:", 0) != 0 || c == "optuna:qmc_noscr") continue;
          double x = stat(c, p.name, k, true);
          if (x < best_value) best_value = x, best_name = c.substr(7);
        }
        bool win = !best_name.empty() && mine < best_value;  // no Optuna rows: no win
        (j == 0 ? wins50 : wins100) += win;
        cell[j] = fmt::format("{} {} vs {} ({})", win ? "**yes**" : "no", num(mine),
                              num(best_value), best_name);
      }
      std::printf("| %s | %s | %s |", p.name.c_str(), cell[0].c_str(), cell[1].c_str());
      if (with_bo) {
        double mine = stat(goal, p.name, 2, true), bo = bo_median(p.name, 2);
        wins_bo += mine < bo;
        std::printf(" %s %s vs %s | %.2f%% |", mine < bo ? "**yes**" : "no", num(mine).c_str(),
                    num(bo).c_str(), 100 * median(cpu[goal][p.name]) / bo_seconds(p.name));
      }
      std::printf("\n");
    }
    std::printf("\nBelow Optuna's best: %d of %zu at 50 trials, %d of %zu at 100.", wins50, chosen.size(),
                wins100, chosen.size());
    if (with_bo) std::printf(" Below BoTorch's recorded medians at 50: %d of %zu.", wins_bo, chosen.size());
    std::printf("\n");
  }
  return 0;
}
