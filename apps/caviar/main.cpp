// caviar: the command line. Each subcommand is a file of its own (see command.h).
#include <algorithm>
#include <cstdio>
#include <new>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/storage.h"
#include "command.h"

namespace caviar::cli {
namespace {
std::vector<std::pair<int, CommandSetup>>& registry() {
  static std::vector<std::pair<int, CommandSetup>> commands;
  return commands;
}
}  // namespace

CommandRegistrar::CommandRegistrar(int order, CommandSetup setup) {
  registry().emplace_back(order, std::move(setup));
}

int& exit_code() {
  static int code = 0;
  return code;
}
}  // namespace caviar::cli

int main(int argc, char** argv) {
  CLI::App app{"caviar: a hyperparameter tuner. Tune any command, or C++ in-process.",
               "caviar"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "caviar 0.1.0");
  auto& commands = caviar::cli::registry();
  std::stable_sort(commands.begin(), commands.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, setup] : commands) setup(app);
  // Whatever a message quotes of the command line (a URL given where a name was wanted,
  // say), a password in it does not show.
  auto scrubbed = [&](std::string message) {
    for (int i = 1; i < argc; ++i) message = caviar::without_secrets_of(argv[i], message);
    return caviar::without_noted_secrets(message);
  };
  // CLI11's errors in caviar's form, on one line: "caviar: tune: --trials: ... (see caviar
  // tune --help)".
  app.failure_message([&](const CLI::App* failed, const CLI::Error& e) {
    const auto used = failed->get_subcommands();
    const std::string command = used.empty() ? "" : used.back()->get_name();
    std::string why = e.what();
    for (char& c : why)
      if (c == '\n' || c == '\r') c = ' ';
    while (!why.empty() && why.back() == ' ') why.pop_back();
    return scrubbed(fmt::format("caviar: {}: {} (see caviar {}--help)\n", command.empty() ? "arguments" : command,
                                why, command.empty() ? "" : command + " "));
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const caviar::Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "caviar: {}\n", scrubbed(e.what()));
    return 2;
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    fmt::print(stderr, "caviar: memory: the system has no more memory for this\n");
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "caviar: error: {}\n", scrubbed(e.what()));
    return 2;  // 1 means that trials failed (docs/cli.md)
  }
  return caviar::cli::exit_code();
}
