// The command line's one extension point: each subcommand lives in its own file
// (apps/caviar/cmd_<name>.cpp) and registers itself with a static CommandRegistrar:
//
//   static caviar::cli::CommandRegistrar reg(40, [](CLI::App& app) {
//     auto* cmd = app.add_subcommand("train", "Train the built-in MLP once");
//     ... options ...
//     cmd->callback([=] { ... });   // throw caviar::Error for bad input: exit 2
//   });
//
// `order` sorts subcommands in --help. Callbacks set caviar::cli::exit_code() to return
// something other than 0.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace caviar::cli {

using CommandSetup = std::function<void(CLI::App& app)>;

struct CommandRegistrar {
  CommandRegistrar(int order, CommandSetup setup);
};

// The process's exit code once the callback returns (default 0).
int& exit_code();

}  // namespace caviar::cli
