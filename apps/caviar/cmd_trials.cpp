// caviar trials / best / export: read a study's trials.
#include <fstream>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/error.h"
#include "caviar/export.h"
#include "caviar/pbt.h"
#include "caviar/study.h"
#include "command.h"
#include "common.h"

namespace caviar::cli {
namespace {

void print_trials(const std::vector<TrialRecord>& trials, const std::string& format, std::FILE* out) {
  if (format == "json") {
    json rows = json::array();
    for (const auto& t : trials) rows.push_back(trial_to_json(t));
    fmt::print(out, "{}\n", rows.dump(2));
  } else if (format == "csv") {
    fmt::print(out, "{}", trials_to_csv(trials));
  } else {
    fmt::print(out, "{}", trials_to_table(trials));
  }
}

struct Args {
  StudyLocation where;
  std::string format = "table";
  std::string state;
  std::string out;
  bool lineage = false;
};

CommandRegistrar trials_cmd(30, [](CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("trials", "List a study's trials");
  add_location_options(cmd, a->where);
  add_format_option(cmd, a->format);
  cmd->add_option("--state", a->state, "Only trials in this state")
      ->check(CLI::IsMember({"complete", "pruned", "failed", "running", "waiting"}));
  cmd->add_flag("--lineage", a->lineage,
                "PBT: every member's chain of segments, with whom each copied and what changed; a babysat "
                "model: its segments as a tree of branches, with every intervention");
  cmd->callback([a] {
    auto s = open_existing_study(a->where);
    auto trials = s.view.trials();
    if (!a->state.empty()) {
      TrialState want = trial_state_from_string(a->state);
      std::erase_if(trials, [&](const TrialRecord& t) { return t.state != want; });
    }
    if (!a->lineage) {
      print_trials(trials, a->format, stdout);
    } else {
      const json babysat = babysit_tree(trials, s.view.record().system_attrs, s.view.direction());
      const json pbt = pbt_lineage(trials);
      if (a->format == "json") {
        fmt::print("{}\n", json{{"pbt", pbt}, {"babysit", babysat}}.dump(2));
      } else if (a->format == "csv") {
        throw UsageError("--lineage", "prints a table or JSON (--format table|json)");
      } else {
        if (!pbt.empty() || babysat.is_null()) fmt::print("{}", pbt_lineage_table(trials));
        if (!babysat.is_null()) fmt::print("{}babysat model:\n{}", pbt.empty() ? "" : "\n", babysit_tree_table(babysat));
      }
    }
  });
});

CommandRegistrar best_cmd(31, [](CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("best", "Show a study's best complete trial");
  add_location_options(cmd, a->where);
  add_format_option(cmd, a->format);
  cmd->callback([a] {
    auto s = open_existing_study(a->where);
    const std::optional<TrialRecord> best = s.view.best();
    if (!best) throw UsageError("study '" + s.view.record().name + "'", "no trial has completed yet");
    if (a->format == "json") {
      fmt::print("{}\n", trial_to_json(*best).dump(2));
    } else if (a->format == "csv") {
      fmt::print("{}", trials_to_csv({*best}));
    } else {
      fmt::print("best trial #{} of study '{}': value = {:.10g}\n", best->number, s.view.record().name, *best->value);
      const json& attrs = best->system_attrs;
      if (attrs.contains(attr::kTestAcc) && attrs[attr::kTestAcc].is_number())
        fmt::print("  (test accuracy {:.4f}, measured after training; never used to choose)\n",
                   attrs[attr::kTestAcc].get<double>());
      json params = trial_to_json(*best)["params"];
      for (const auto& [name, v] : params.items())
        fmt::print("  {:<16} {}\n", name, v.is_string() ? v.get<std::string>() : v.dump());
    }
  });
});

CommandRegistrar export_cmd(32, [](CLI::App& app) {
  auto a = std::make_shared<Args>();
  a->format = "json";
  auto* cmd = app.add_subcommand("export", "Write all of a study's trials (with attributes) as JSON or CSV");
  add_location_options(cmd, a->where);
  cmd->add_option("--format", a->format, "json or csv")->check(CLI::IsMember({"csv", "json"}))->capture_default_str();
  cmd->add_option("--out,-o", a->out, "Write to this file instead of standard output");
  cmd->callback([a] {
    auto s = open_existing_study(a->where);
    auto trials = s.view.trials();
    std::FILE* out = stdout;
    if (!a->out.empty()) {
      out = std::fopen(a->out.c_str(), "w");
      if (!out) throw UsageError(a->out, "cannot write this file");
    }
    if (a->format == "json") {
      json doc = {{"study", s.view.record().name}, {"direction", to_string(s.view.record().direction)},
                  {"system_attrs", s.view.record().system_attrs}, {"trials", json::array()}};
      for (const auto& t : trials) doc["trials"].push_back(trial_to_json(t));
      fmt::print(out, "{}\n", doc.dump(2));
    } else {
      print_trials(trials, "csv", out);
    }
    if (out != stdout) std::fclose(out);
  });
});

}  // namespace
}  // namespace caviar::cli
