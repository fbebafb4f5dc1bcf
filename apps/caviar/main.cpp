// caviar: the command line. Each subcommand is a file of its own (see command.h).
#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "caviar/error.h"
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

namespace {

// Edit distance with transpositions (optimal string alignment), for "did you mean":
// "tnue" is one step from "tune".
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

// "" if `word` names a subcommand; otherwise the error to print, with the nearest names.
std::string unknown_command(const CLI::App& app, const std::string& word) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == word) return "";
    names.push_back(sub->get_name());
  }
  std::vector<std::pair<std::size_t, std::string>> near;
  for (const auto& n : names) {
    const std::size_t d = edit_distance(word, n);
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
    // Argument errors read like every other error: caviar: where: why (exit 2).
    std::string where = "caviar";
    for (const CLI::App* sub : app.get_subcommands())
      where = "caviar " + sub->get_name();
    if (argc > 1 && argv[1][0] != '-') where = std::string("caviar ") + argv[1];
    std::string why = e.what();
    if (dynamic_cast<const CLI::RequiredError*>(&e) && why.find("subcommand") != std::string::npos) {
      std::vector<std::string> names;
      for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        names.push_back(sub->get_name());
      why = fmt::format("a command is required: {}", fmt::join(names, ", "));
    }
    if (where == "caviar") fmt::print(stderr, "caviar: {} (see `caviar --help`)\n", why);
    else fmt::print(stderr, "caviar: {}: {} (see `{} --help`)\n", where, why, where);
    return 2;
  } catch (const caviar::Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "caviar: {}\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "caviar: error: {}\n", e.what());
    return 2;  // 1 means that trials failed (docs/cli.md)
  }
  return caviar::cli::exit_code();
}
