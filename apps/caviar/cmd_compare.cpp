// caviar compare OLD NEW: does the old best configuration hold on the new study's data,
// and did the parameters' importance change (include/caviar/compare.h)? Exit 0: it holds
// (within --tolerance); 10: the new study found a better one; 1: nothing to compare yet.
#include <fmt/core.h>

#include "caviar/compare.h"
#include "caviar/error.h"
#include "caviar/export.h"
#include "command.h"
#include "common.h"

namespace caviar::cli {
namespace {

struct Args {
  std::string old_study, new_study, storage;
  double tolerance = 0;
  std::string format = "table";
};

ComparedStudy read(const std::string& word, const std::string& storage) {
  return compared(open_existing_study(location_of(word, storage)).view);
}

std::string value_text(const json& v) { return v.is_number() ? fmt::format("{:.6g}", v.get<double>()) : "-"; }

void compare(const Args& a) {
  const ComparedStudy old_study = read(a.old_study, a.storage), new_study = read(a.new_study, a.storage);
  CompareOptions options;
  options.tolerance = a.tolerance;
  json c = compare_studies(old_study, new_study, options);
  const std::string verdict = c["verdict"];
  // The configuration to use from now on: the new best when it is better, else the old.
  const json& winner = verdict == "better" ? c["new"]["best"] : c["old"]["best"];
  c["deploy"] = winner.is_object() ? winner["params"] : json(nullptr);
  exit_code() = verdict == "holds" ? 0 : verdict == "better" ? 10 : 1;
  if (a.format == "json") {
    fmt::print("{}\n", c.dump(2));
    return;
  }
  if (a.format == "yaml") {
    if (c["deploy"].is_null()) throw UsageError("compare", "no complete trial to deploy yet");
    for (const auto& [name, v] : c["deploy"].items()) fmt::print("{}: {}\n", yaml_key(name), yaml_scalar(v));
    return;
  }
  auto best_text = [](const json& b) {
    return b.is_object() ? fmt::format("#{} {}", b["number"].get<int>(), value_text(b["value"])) : std::string("-");
  };
  std::vector<std::vector<std::string>> rows = {
      {"", "old: " + c["old"]["study"].get<std::string>(), "new: " + c["new"]["study"].get<std::string>()},
      {"trials", std::to_string(c["old"]["trials"].get<int>()), std::to_string(c["new"]["trials"].get<int>())},
      {"best", best_text(c["old"]["best"]), best_text(c["new"]["best"])},
      {"old best", "", best_text(c["new"]["old_best_here"])}};
  fmt::print("{}", aligned_table(rows));
  if (c["new"]["old_best_here"].is_null() && c["old"]["best"].is_object())
    fmt::print("(the old best was not run in the new study: compared with its value in the old one)\n");
  if (verdict == "unknown")
    fmt::print("verdict: nothing to compare yet (a study without a complete trial)\n");
  else
    fmt::print("verdict: {}: the new best is {} than the old best {} (tolerance {})\n",
               verdict == "better" ? "a better configuration" : "the old configuration holds",
               c["gain"].get<double>() >= 0 ? fmt::format("{:.6g} better", c["gain"].get<double>())
                                            : fmt::format("{:.6g} worse", -c["gain"].get<double>()),
               c["baseline_from"] == "new" ? "on the new data" : "on the old data", a.tolerance);
  std::vector<std::vector<std::string>> imp = {{"importance", "old", "new"}};
  auto share = [](const json& row, const char* s, const char* r) {
    return row[s].is_null() ? std::string("-") : fmt::format("{:.3f} ({})", row[s].get<double>(), row[r].get<int>());
  };
  for (const json& row : c["importance"])
    imp.push_back({row["name"], share(row, "old_share", "old_rank"), share(row, "new_share", "new_rank")});
  fmt::print("\n{}", aligned_table(imp));
  if (!c["importance_note"].get<std::string>().empty()) fmt::print("({})\n", c["importance_note"].get<std::string>());
  if (c["deploy"].is_object()) {
    fmt::print("\nto deploy:\n");
    for (const auto& [name, v] : c["deploy"].items()) fmt::print("  {}: {}\n", yaml_key(name), yaml_scalar(v));
  }
}

CommandRegistrar registrar(37, [](CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("compare", "Does the old best configuration hold in a newer study?");
  cmd->footer(
      "Compares two studies of one problem (say, before and after the data changed): the old\n"
      "best's value on the new data (the new study's run of the same values) beside the new\n"
      "best, and the parameters' importance (fANOVA share and rank) in each.\n"
      "Exit status: 0 the old configuration holds (the new best is better by at most\n"
      "--tolerance), 10 the new study found a better one, 1 nothing to compare yet.\n"
      "--format yaml prints only the configuration to deploy (for a deploy step).");
  cmd->add_option("old", a->old_study, "The old study: its config file, or its name (with --storage)")->required();
  cmd->add_option("new", a->new_study, "The new study: its config file, or its name (with --storage)")->required();
  cmd->add_option("--storage", a->storage, "Storage URL, for studies given by name");
  cmd->add_option("--tolerance", a->tolerance, "How much better the new best may be while the old still holds")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--format", a->format, "Output format")->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();
  cmd->callback([a] { compare(*a); });
});

}  // namespace
}  // namespace caviar::cli
