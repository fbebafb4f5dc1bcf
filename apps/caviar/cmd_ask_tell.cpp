// caviar ask / caviar tell: a study driven from a shell script, one trial at a time.
//
//   t=$(caviar ask study.yaml --format json)        # {"number": 3, "params": {...}}
//   ... run something ...
//   caviar tell study.yaml --trial 3 --value 0.123  # or --failed "why", or --pruned
#include <cmath>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/export.h"
#include "caviar/study.h"
#include "command.h"
#include "common.h"

namespace caviar::cli {
namespace {

struct Args {
  std::string config, storage, study, format = "json";
  int trial = -1;
  std::optional<double> value;
  std::string failed;
  bool pruned = false;
  bool allow_space_change = false;
};

Study open_for_writing(const Args& a) {
  Config config = load_config(a.config);
  apply_overrides(config, {a.study, storage_url(a.storage, &config), std::nullopt, std::nullopt});
  config.study.allow_space_change = a.allow_space_change;
  return Study(open_storage(config.storage), config.study);
}

CommandRegistrar ask_cmd(40, [](CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("ask", "Start one trial and print its number and parameters");
  cmd->footer("Starts one trial of the study (within its budget) and prints it. The trial\n"
                   "stays running until `caviar tell` finishes it; it has no heartbeat, so it is\n"
                   "never failed as stale.");
  cmd->add_option("config", a->config, "The study's config file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--storage", a->storage, "Storage URL (overrides the config's)");
  cmd->add_option("--study", a->study, "Study name (overrides the config's)");
  cmd->add_option("--format", a->format, "json, csv, or env (NAME=value lines for eval)")
      ->check(CLI::IsMember({"json", "csv", "env", "table"}))->capture_default_str();
  cmd->add_flag("--allow-space-change", a->allow_space_change,
                "Go on although the study's parameters changed (see caviar tune --help)");
  cmd->callback([a] {
    Study study = open_for_writing(*a);
    auto trial = study.ask(false);
    if (!trial) {
      fmt::print(stderr, "caviar: study '{}' has no trials left to run (budget reached)\n", study.options().name);
      exit_code() = 3;
      return;
    }
    json t = trial_to_json(trial->record());
    if (a->format == "env") {
      fmt::print("CAVIAR_TRIAL={}\n", trial->number());
      for (const auto& [name, v] : t["params"].items()) {
        std::string upper;
        for (char c : name) upper += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::toupper(c)) : '_';
        fmt::print("CAVIAR_PARAM_{}={}\n", upper, v.is_string() ? v.get<std::string>() : v.dump());
      }
    } else if (a->format == "csv") {
      fmt::print("{}", trials_to_csv({trial->record()}));
    } else if (a->format == "table") {
      fmt::print("{}", trials_to_table({trial->record()}));
    } else {
      fmt::print("{}\n", json{{"number", t["number"]}, {"state", t["state"]}, {"params", t["params"]}}.dump());
    }
  });
});

CommandRegistrar tell_cmd(41, [](CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("tell", "Finish a trial started with `caviar ask`");
  cmd->add_option("config", a->config, "The study's config file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--storage", a->storage, "Storage URL (overrides the config's)");
  cmd->add_option("--study", a->study, "Study name (overrides the config's)");
  cmd->add_option("--trial", a->trial, "The trial's number")->required();
  auto* value = cmd->add_option("--value", a->value, "The objective's value: the trial is complete");
  auto* failed = cmd->add_option("--failed", a->failed, "The trial failed, for this reason");
  auto* pruned = cmd->add_flag("--pruned", a->pruned, "The trial was stopped early");
  value->excludes(failed)->excludes(pruned);
  cmd->add_flag("--allow-space-change", a->allow_space_change,
                "Go on although the study's parameters changed (see caviar tune --help)");
  failed->excludes(pruned);
  cmd->callback([a] {
    if (!a->value && a->failed.empty() && !a->pruned)
      throw UsageError("tell", "give one of --value V, --failed REASON or --pruned");
    Study study = open_for_writing(*a);
    auto record = study.storage().trial(study.record().id, a->trial);
    if (!record) throw UsageError(fmt::format("trial {}", a->trial), "no such trial in study '" + study.options().name + "'");
    if (record->state != TrialState::Running)
      throw UsageError(fmt::format("trial {}", a->trial), fmt::format("already {}; only a running trial can be told", to_string(record->state)));
    Trial trial(*record, &study.space());
    if (a->value && !std::isfinite(*a->value))
      throw UsageError("--value", fmt::format("{} is not a finite number; use --failed to record a failure", *a->value));
    bool ok = a->value ? study.tell(trial, *a->value)
            : a->pruned ? study.tell_pruned(trial)
                        : study.tell_failed(trial, a->failed);
    if (!ok) throw UsageError(fmt::format("trial {}", a->trial), "it finished meanwhile");
  });
});

}  // namespace
}  // namespace caviar::cli
