// The executor a config asks for.
#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/executor.h"
#include "run/mlp_executor.h"

namespace caviar {

std::unique_ptr<Executor> make_executor(const Config& config) {
  if (config.command) return make_command_executor(*config.command, config.study.space);
  std::string name = config.builtin.value("builtin", std::string());
  if (name == "mlp")
    return make_mlp_executor(config.builtin.value("args", json::object()), config.metric,
                             config.study.space, config.pbt ? &*config.pbt : nullptr);
  throw ConfigError("objective.builtin", fmt::format("unknown builtin objective '{}'; available: mlp", name));
}

std::vector<std::string> fixed_during_training(const Config& config) {
  if (config.command || config.builtin.value("builtin", std::string()) != "mlp") return {};
  return mlp_fixed_during_training();
}

}  // namespace caviar
