// The builtin objective `mlp`: the built-in trainer (include/caviar/nn.h), in-process.
//
//   objective: {builtin: mlp, args: {dataset: fashion-mnist, epochs: 5, train_subset: 10000}}
//   metric: val_loss            # or val_acc (with direction: maximize), train_loss
//
// The trial's parameters and `args` together make the TrainConfig (parameters win). Every
// epoch is reported at step = epoch; the trial's value is the metric after the last epoch,
// its test accuracy and loss are stored as system attributes caviar:test_acc and
// caviar:test_loss, and every epoch's train_loss, val_loss and val_acc as caviar:epochs.
// As a PBT segment (TrialContext::stop_at set) it restores TrialContext::restore_from,
// trains epochs start_at+1 .. stop_at and saves to TrialContext::checkpoint_dir.
#include <algorithm>
#include <cmath>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "caviar/attributes.h"
#include "caviar/error.h"
#include "caviar/executor.h"
#include "caviar/nn.h"
#include "run/mlp_executor.h"

namespace caviar {
namespace {

double metric_of(const nn::EpochReport& r, const std::string& metric) {
  if (metric == "val_loss") return r.val_loss;
  if (metric == "val_acc") return r.val_acc;
  return r.train_loss;
}

class MlpExecutor final : public Executor {
 public:
  MlpExecutor(json args, std::string metric) : args_(std::move(args)), metric_(std::move(metric)) {}

  TrialOutcome run(Trial& trial, const TrialContext& ctx) override {
    TrialOutcome out;
    nn::TrainConfig config;
    try {
      json merged = args_;
      merged.update(trial.params_json());
      config = nn::config_from_json(merged);
      // A scheduler's segment (PBT): continue from the checkpoint up to stop_at, saving.
      if (ctx.stop_at) config.epochs = static_cast<int>(*ctx.stop_at);
      if (!ctx.checkpoint_dir.empty()) config.checkpoint_dir = ctx.checkpoint_dir.string();
      if (!ctx.restore_from.empty()) config.restore_from = ctx.restore_from.string();
    } catch (const Error& e) {
      out.reason = std::string("bad trainer settings: ") + e.what();
      return out;
    }
    std::optional<double> last;
    json curve = json::array();
    bool stopped = false;
    nn::TrainResult result;
    try {
      result = nn::train(config, [&](const nn::EpochReport& r) {
        last = metric_of(r, metric_);
        curve.push_back({{"epoch", r.epoch}, {"train_loss", r.train_loss}, {"val_loss", r.val_loss},
                         {"val_acc", r.val_acc}, {"lr", r.learning_rate}});
        if (ctx.report) ctx.report(r.epoch, *last);
        if (ctx.should_stop && ctx.should_stop()) {
          stopped = true;
          return false;
        }
        return true;
      });
    } catch (const std::exception& e) {
      out.reason = std::string("the trainer failed: ") + e.what();
      return out;
    }
    out.value = last;
    out.attrs[attr::kSeconds] = result.seconds;
    out.attrs[attr::kEpochs] = curve;
    if (result.diverged) {
      out.reason = fmt::format("diverged in epoch {}: {}", result.diverged_epoch, result.diverged_reason);
      out.value.reset();
      return out;
    }
    if (stopped) {
      out.state = TrialState::Pruned;
      out.reason = "stopped";
      return out;
    }
    if (!last || !std::isfinite(*last)) {
      out.reason = fmt::format("the metric '{}' is not finite", metric_);
      out.value.reset();
      return out;
    }
    out.attrs[attr::kTestAcc] = result.test_acc;
    out.attrs[attr::kTestLoss] = result.test_loss;
    out.state = TrialState::Complete;
    return out;
  }

 private:
  json args_;
  std::string metric_;
};

}  // namespace

std::vector<std::string> mlp_fixed_during_training() { return {"layers", "units", "optimizer"}; }

std::unique_ptr<Executor> make_mlp_executor(const json& args, const std::string& metric,
                                            const SearchSpace& space, const PbtOptions* pbt) {
  if (metric != "val_loss" && metric != "val_acc" && metric != "train_loss")
    throw ConfigError("metric", fmt::format("the mlp objective reports val_loss, val_acc and "
                                            "train_loss, not '{}'", metric));
  if (!args.is_object()) throw ConfigError("objective.args", "must be a mapping of trainer options");
  // Check every name and value now, with each parameter at its lowest value.
  json probe = args;
  for (const auto& p : space.params()) probe[p.name] = p.external(p.from_unit(0.0));
  try {
    nn::config_from_json(probe);
  } catch (const Error& e) {
    throw ConfigError("objective.args", e.what());
  }
  if (pbt) {
    // A checkpoint fits one network shape and one optimizer: PBT may copy them, not change them.
    const std::vector<std::string> fixed = mlp_fixed_during_training();
    std::vector<std::string> may;
    for (const auto& p : space.params())
      if (std::find(fixed.begin(), fixed.end(), p.name) == fixed.end()) may.push_back(p.name);
    for (const auto& name : pbt->explore)
      if (std::find(fixed.begin(), fixed.end(), name) != fixed.end())
        throw ConfigError("scheduler.explore", fmt::format("PBT cannot change '{}' of the mlp objective during "
                                                           "training (a checkpoint fits one network and optimizer)", name));
    if (pbt->explore.empty() && may.size() < space.size())
      throw ConfigError("scheduler.explore",
                        fmt::format("missing: the mlp objective cannot change layers, units or optimizer during "
                                    "training; list what PBT may change, e.g. explore: [{}]", fmt::join(may, ", ")));
  }
  return std::make_unique<MlpExecutor>(args, metric);
}

}  // namespace caviar
