// Makes a large study for the dashboard's scale benchmark (bench/dashboard_scale.py):
// N trials over the built-in trainer's seven parameters, written through caviar's own
// SQLite store as `caviar tune` writes them, each with a learning curve of 10 reports;
// about 80 % complete, 15 % pruned (after 1 to 3 reports) and 5 % failed with a reason.
//
//   bench_dashboard_study --out big.db [--trials 100000] [--seed 1]
//
// Prints one line: the trials written and the seconds it took.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include <fmt/core.h>

#include "caviar/study.h"

using namespace caviar;

int main(int argc, char** argv) {
  std::string out;
  int trials = 100000;
  unsigned seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
    else if (!std::strcmp(argv[i], "--trials")) trials = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seed")) seed = static_cast<unsigned>(std::atoi(argv[i + 1]));
  }
  if (out.empty() || trials < 1) {
    fmt::print(stderr, "usage: bench_dashboard_study --out FILE.db [--trials N] [--seed S]\n");
    return 2;
  }
  StudyOptions options;
  options.name = "big";
  options.direction = Direction::Maximize;
  options.space = SearchSpace::from_config_json(json::parse(R"({
      "alpha":   {"type": "float", "low": 1e-4, "high": 0.1, "scale": "log"},
      "beta":    {"type": "float", "low": 0.8, "high": 0.999, "scale": "reverse_log"},
      "units":   {"type": "int", "low": 32, "high": 512, "scale": "log"},
      "layers":  {"type": "int", "low": 1, "high": 3},
      "batch":   {"type": "choice", "values": [32, 64, 128, 256]},
      "decay":   {"type": "float", "low": 1e-3, "high": 1, "scale": "log"},
      "optimizer": {"type": "choice", "values": ["momentum", "adam"]}})"));
  options.sampler.name = "random";
  options.sampler.seed = seed;
  Study study(open_storage("sqlite:///" + out), options);
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const auto start = std::chrono::steady_clock::now();
  for (int n = 0; n < trials; ++n) {
    auto t = study.ask(false);
    if (!t) break;
    const double a = std::log10(t->params().at("alpha")) + 2.5;
    const double final_acc = 0.9 - 0.02 * a * a - 0.05 * u(random);
    const double r = u(random);
    const int steps = r < 0.8 ? 10 : r < 0.95 ? 1 + static_cast<int>(random() % 3) : 2;
    for (int s = 1; s <= steps; ++s)
      study.storage().report(t->id(), s, final_acc - 0.3 * std::exp(-0.4 * s) + 0.01 * u(random));
    if (r < 0.8) study.tell(*t, final_acc);
    else if (r < 0.95) study.tell_pruned(*t);
    else study.tell_failed(*t, "exit code 1: CUDA out of memory (trial " + std::to_string(n) + ")");
    if ((n + 1) % 10000 == 0) fmt::print(stderr, "{} trials\n", n + 1);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("{} trials written to {} in {:.1f} s\n", study.counts().total(), out, seconds);
}
