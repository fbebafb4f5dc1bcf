#include "common.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

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
  OpenedStudy out;
  std::string url = where.storage, name = where.study;
  if (!where.config.empty()) {
    out.config = load_config(where.config);
    if (url.empty()) url = out.config->storage;
    if (name.empty()) name = out.config->study.name;
  }
  if (url.empty()) url = "sqlite:///caviar.db";
  if (name.empty() && where.config.empty())
    throw UsageError("study", "say which study: give its config file, or --study NAME (with --storage URL)");
  out.storage = open_storage(url, OpenMode::Existing);
  auto record = out.storage->find_study(name);
  if (!record) {
    std::vector<std::string> names;
    for (const auto& s : out.storage->studies()) names.push_back(s.name);
    throw UsageError("study '" + name + "'",
                     names.empty() ? fmt::format("not found in {} (it holds no studies yet)", redacted_url(url))
                                   : fmt::format("not found in {}; it holds: {}", redacted_url(url),
                                                 fmt::join(names, ", ")));
  }
  out.record = *record;
  return out;
}

}  // namespace caviar::cli
