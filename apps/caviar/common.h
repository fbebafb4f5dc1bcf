// Helpers shared by the subcommands: finding a study, printing trials.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "caviar/config.h"
#include "caviar/study_view.h"

namespace caviar::cli {

// Where a study is: a config file, or --storage URL --study NAME (which win over the file).
struct StudyLocation {
  std::string config;
  std::string storage;
  std::string study;
};

void add_location_options(CLI::App* cmd, StudyLocation& where);

struct OpenedStudy {
  StudyView view;
  std::optional<Config> config;
};

// The storage URL a command uses, first found of: --storage (`flag`), the config's
// `storage:` key, $CAVIAR_STORAGE, the config's default (sqlite:///caviar.db beside the
// config file), sqlite:///caviar.db in the current folder.
std::string storage_url(const std::string& flag, const Config* config);

// Opens an existing study for reading; never creates a database or a study.
OpenedStudy open_existing_study(const StudyLocation& where);

// --format table|csv|json
void add_format_option(CLI::App* cmd, std::string& format);

}  // namespace caviar::cli
