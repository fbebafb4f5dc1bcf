#pragma once

#include <memory>
#include <string>
#include <vector>

#include "caviar/executor.h"
#include "caviar/pbt.h"

namespace caviar {

// The builtin objective `mlp` (see mlp_executor.cpp). Throws ConfigError for trainer
// options or parameter names the trainer does not know, and (with `pbt`) for a PBT that
// may change the network's shape or optimizer mid-training.
std::unique_ptr<Executor> make_mlp_executor(const json& args, const std::string& metric,
                                            const SearchSpace& space,
                                            const PbtOptions* pbt = nullptr);

// What a checkpoint of the trainer fixes: layers, units, optimizer.
std::vector<std::string> mlp_fixed_during_training();

}  // namespace caviar
