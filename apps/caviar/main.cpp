// caviar: the command line. Each subcommand is a file of its own (see command.h).
#include <algorithm>
#include <cstdio>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "base/format.h"
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

// "" if `word` names a subcommand; otherwise the error to print, with the nearest names.
std::string unknown_command(const CLI::App& app, const std::string& word) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == word) return "";
    names.push_back(sub->get_name());
  }
  std::vector<std::pair<std::size_t, std::string>> near;
  for (const auto& n : names) {
    const std::size_t d = caviar::detail::edit_distance(word, n);
    if (d <= (n.size() >= 5 ? 2u : 1u) || (word.size() >= 3 && n.rfind(word, 0) == 0))
      near.emplace_back(d, n);
  }
  std::sort(near.begin(), near.end());
  std::string out = fmt::format("'{}' is not a caviar command", word);
  if (!near.empty()) {
    out += "; did you mean '" + near[0].second + "'";
    for (std::size_t i = 1; i < near.size() && i < 3; ++i) out += " or '" + near[i].second + "'";
    out += "?";
  }
  out += fmt::format(" (the commands: {})", fmt::join(names, ", "));
  return out;
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
  if (argc > 1 && argv[1][0] != '-') {
    if (std::string why = caviar::cli::unknown_command(app, argv[1]); !why.empty()) {
      fmt::print(stderr, "caviar: {}\n", why);
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // Argument errors read like every other error, on one line: "caviar: tune: --trials:
    // ... (see caviar tune --help)" (exit 2).
    std::string where;
    for (const CLI::App* sub : app.get_subcommands()) where = sub->get_name();
    if (argc > 1 && argv[1][0] != '-') where = argv[1];
    std::string why = e.what();
    for (char& c : why)
      if (c == '\n' || c == '\r') c = ' ';
    while (!why.empty() && why.back() == ' ') why.pop_back();
    if (dynamic_cast<const CLI::RequiredError*>(&e) && why.find("subcommand") != std::string::npos) {
      std::vector<std::string> names;
      for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        names.push_back(sub->get_name());
      why = fmt::format("a command is required: {}", fmt::join(names, ", "));
      where.clear();
    }
    if (where.empty()) fmt::print(stderr, "{}", scrubbed(fmt::format("caviar: {} (see caviar --help)\n", why)));
    else fmt::print(stderr, "{}", scrubbed(fmt::format("caviar: {}: {} (see caviar {} --help)\n", where, why, where)));
    return 2;
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
