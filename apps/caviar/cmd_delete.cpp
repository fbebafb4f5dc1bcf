// caviar delete CONFIG | --storage URL --study NAME --yes: delete a study and its trials.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include <fmt/core.h>

#include "caviar/error.h"
#include "command.h"
#include "common.h"

namespace caviar::cli {
namespace {

struct Args {
  StudyLocation where;
  bool yes = false;
  bool force = false;
};

CommandRegistrar registrar(36, [](CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("delete", "Delete a study and everything stored with it");
  cmd->footer(
      "Deletes the study's trials, parameters, values, reports and attributes from the storage,\n"
      "in one transaction. Asks on a terminal; elsewhere it needs --yes. Refuses a study with\n"
      "running trials (another caviar may be running it) unless --force. Trial folders\n"
      "(caviar-runs/<study>/) are left as they are.");
  add_location_options(cmd, a->where);
  cmd->add_flag("--yes,-y", a->yes, "Do not ask");
  cmd->add_flag("--force", a->force, "Delete it even while trials run");
  cmd->callback([a] {
    auto s = open_existing_study(a->where);
    const StudyRecord& study = s.view.record();
    const TrialCounts c = s.view.counts();
    const std::string where = fmt::format("study '{}'", study.name);
    if (c.running > 0 && !a->force)
      throw UsageError(where, fmt::format("{} of its trials are running (is a `caviar tune` running it?); stop "
                                          "it first, or add --force",
                                          c.running));
    const std::string what =
        fmt::format("study '{}' and its {} trials ({} complete, {} pruned, {} failed, {} running, {} waiting)",
                    study.name, c.total(), c.complete, c.pruned, c.failed, c.running, c.waiting);
    if (!a->yes) {
      if (!isatty(STDIN_FILENO))
        throw UsageError(where, "not deleted: add --yes to delete " + what);
      fmt::print(stderr, "Delete {}? This cannot be undone. [y/N] ", what);
      std::fflush(stderr);
      std::string answer;
      std::getline(std::cin, answer);
      if (answer != "y" && answer != "Y" && answer != "yes")
        throw UsageError(where, "not deleted (the answer was not 'y')");
    }
    s.view.storage().delete_study(study.id);
    fmt::print("deleted {}\n", what);
  });
});

}  // namespace
}  // namespace caviar::cli
