#pragma once

#include <memory>
#include <string>

#include "caviar/executor.h"

namespace caviar {

// The builtin objective `mlp` (see mlp_executor.cpp). Throws ConfigError for trainer
// options or parameter names the trainer does not know.
std::unique_ptr<Executor> make_mlp_executor(const json& args, const std::string& metric,
                                            const SearchSpace& space);

}  // namespace caviar
