// Tuning a C++ function in-process: no subprocess, no config file.
//
// The objective is a stand-in for a training run whose loss is smallest at
// lr = 1e-2 and momentum = 0.99; both are sampled on the scale that suits them.
#include <caviar/study.h>
#include <caviar/tuner.h>

#include <cmath>
#include <cstdio>

int main() {
  caviar::StudyOptions options;
  options.name = "quadratic";
  options.space = caviar::SearchSpace::from_config_json(caviar::json::parse(R"({
    "lr":       {"type": "float", "low": 1e-5, "high": 1,     "scale": "log"},
    "momentum": {"type": "float", "low": 0.9,  "high": 0.999, "scale": "reverse_log"},
    "layers":   {"type": "int",   "low": 1,    "high": 4}
  })"));
  options.sampler.name = "sobol";
  options.budget = 64;

  // "memory" keeps the study in this process; "sqlite:///quadratic.db" would keep it on disk.
  caviar::Study study(caviar::open_storage("memory"), options);

  caviar::optimize(study, [](caviar::Trial& trial) {
    double lr = trial.float_param("lr");
    double momentum = trial.float_param("momentum");
    auto layers = trial.int_param("layers");
    double loss = 0;
    for (int epoch = 1; epoch <= 5; ++epoch) {
      loss = std::pow(std::log10(lr) + 2, 2) + std::pow(std::log10(1 - momentum) + 2, 2) +
             0.1 * std::abs(layers - 2) + 1.0 / epoch;
      trial.report(epoch, loss);  // stored at once; throws TrialPruned if the study stops
    }
    return loss;
  }, std::nullopt, /*threads=*/2);

  auto best = study.best();
  std::printf("best of %zu trials: loss %.4f at lr=%.3g momentum=%.4f layers=%lld\n",
              study.trials().size(), *best->value, best->params.at("lr"),
              best->params.at("momentum"), static_cast<long long>(best->params.at("layers")));
  return 0;
}
