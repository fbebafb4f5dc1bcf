// Helpers shared by the subcommands: finding a study, printing trials.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "caviar/config.h"
#include "caviar/dashboard.h"
#include "caviar/study_view.h"

namespace caviar::cli {

// Where a study is: a config file, or --storage URL --study NAME (which win over the file).
struct StudyLocation {
  std::string config;
  std::string storage;
  std::string study;
};

void add_location_options(CLI::App* cmd, StudyLocation& where);

// A study named by one word: a config file when `word` is one, else a study's name (in
// `storage`, or the default storage).
StudyLocation location_of(const std::string& word, const std::string& storage);

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

// A YAML scalar that reads back as `v` (a string such as "1e-3" stays quoted; a float in
// its shortest round-trip form), and a mapping key that reads back as `name`.
std::string yaml_scalar(const json& v);
std::string yaml_key(const std::string& name);

// The dashboard beside a study (caviar tune/babysit --dashboard): it reads the study
// through a storage of its own, opened for reading (the in-process one, for a memory
// store). Port `port`, or any free one when that one is taken: the study does not wait.
std::unique_ptr<Dashboard> start_dashboard(const Config& config, const std::shared_ptr<Storage>& storage, int port);

// While it lives: Ctrl-C, SIGTERM and SIGHUP are caught (a handler, process-wide, whichever
// thread the kernel picks, records the signal) and a watcher thread calls `first` at the
// first one ("stopping the running trials ...") and `again` at the second ("not waiting
// for the storage ..."). Once destroyed, a signal ends caviar as it would any program.
class StopOnSignals {
 public:
  StopOnSignals(std::function<void()> first, std::function<void()> again);
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  std::atomic<bool> finished_{false};
  std::thread watcher_;
};

}  // namespace caviar::cli
