// The executor a config asks for.
#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/executor.h"

namespace caviar {

std::unique_ptr<Executor> make_executor(const Config& config) {
  if (config.command) return make_command_executor(*config.command, config.study.space);
  std::string name = config.builtin.value("builtin", std::string());
  throw ConfigError("objective.builtin", fmt::format("unknown builtin objective '{}'", name));
}

}  // namespace caviar
