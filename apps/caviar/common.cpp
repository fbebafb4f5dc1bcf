#include "common.h"

#include "caviar/error.h"

namespace caviar::cli {

void add_location_options(CLI::App* cmd, StudyLocation& where) {
  cmd->add_option("config", where.config, "The study's config file (YAML)");
  cmd->add_option("--storage", where.storage, "Storage URL, e.g. sqlite:///caviar.db");
  cmd->add_option("--study", where.study, "Study name");
}

void add_format_option(CLI::App* cmd, std::string& format) {
  cmd->add_option("--format", format, "Output format")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
}

OpenedStudy open_existing_study(const StudyLocation& where) {
  std::optional<Config> config;
  std::string url = where.storage, name = where.study;
  if (!where.config.empty()) {
    config = load_config(where.config);
    if (url.empty()) url = config->storage;
    if (name.empty()) name = config->study.name;
  }
  if (url.empty()) url = "sqlite:///caviar.db";
  if (name.empty() && where.config.empty())
    throw UsageError("study", "say which study: give its config file, or --study NAME (with --storage URL)");
  return OpenedStudy{StudyView::open(url, name), std::move(config)};
}

}  // namespace caviar::cli
