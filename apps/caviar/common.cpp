#include "common.h"

#include <cstdlib>

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

std::string storage_url(const std::string& flag, const Config* config) {
  if (!flag.empty()) return flag;
  if (config && config->raw.is_object() && config->raw.contains("storage")) return config->storage;
  if (const char* env = std::getenv("CAVIAR_STORAGE"); env && *env) return env;
  return config ? config->storage : "sqlite:///caviar.db";
}

OpenedStudy open_existing_study(const StudyLocation& where) {
  std::optional<Config> config;
  std::string name = where.study;
  if (!where.config.empty()) {
    config = load_config(where.config);
    if (name.empty()) name = config->study.name;
  }
  const std::string url = storage_url(where.storage, config ? &*config : nullptr);
  if (name.empty() && where.config.empty())
    throw UsageError("study", "say which study: give its config file, or --study NAME (with --storage URL)");
  return OpenedStudy{StudyView::open(url, name), std::move(config)};
}

}  // namespace caviar::cli
