// The study config file (YAML), as documented in docs/config.md:
//
//   study: fashion-mlp
//   storage: sqlite:///caviar.db        # relative paths are relative to this file
//   direction: minimize
//   metric: val_loss
//   objective:
//     command: [python3, train.py, --lr, "{lr}"]
//     timeout: 20m
//   parameters:
//     lr: {type: float, low: 1e-5, high: 1, scale: log}
//   sampler: {name: random, seed: 0}
//   budget:  {trials: 100, parallel: 4, time: 1h}
//   scheduler: {name: pbt, population: 16, interval: 2, max_steps: 20}   # optional
//
// Unknown keys are errors with the path and a suggestion. Loading never touches storage.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "caviar/pbt.h"
#include "caviar/study.h"

namespace caviar {

// A trial that runs a command (any language); see docs/protocol.md.
struct CommandObjective {
  std::vector<std::string> argv;              // with {name} placeholders
  std::chrono::milliseconds timeout{0};       // 0: none
  std::chrono::milliseconds grace{5000};      // between SIGTERM and SIGKILL
  std::map<std::string, std::string> env;     // extra environment variables
  std::filesystem::path workdir;              // where it runs; default: the config's folder
  std::string metric;                         // the value that is optimised
  std::string step_key = "epoch";             // the key that numbers intermediate reports
};

struct Config {
  std::filesystem::path file;   // where it was read from ("" if from text)
  std::string storage = "sqlite:///caviar.db";
  StudyOptions study;
  std::optional<CommandObjective> command;
  json builtin;                 // objective: {builtin: name, args: {...}}; null if none
  std::string metric;           // the optimised value (for builtins; commands: command->metric)
  int parallel = 1;
  std::optional<std::chrono::milliseconds> time_limit;
  std::optional<PbtOptions> pbt;  // scheduler: {name: pbt, ...}; see pbt.h
  std::filesystem::path trial_root;  // trial folders: <trial_root>/<number>/
  json raw;                     // the whole config as JSON
};

// Reads and checks a config file. Throws ConfigError with the path of the bad key.
Config load_config(const std::filesystem::path& file);
// The same from YAML text; relative paths resolve against `base_dir`.
Config parse_config(const std::string& yaml, const std::filesystem::path& base_dir,
                    const std::string& source = "config");

// "90" or 90 (seconds), "500ms", "30s", "20m", "1.5h", "2d". Throws ConfigError.
std::chrono::milliseconds parse_duration(const json& value, const std::string& where);

// A storage URL with relative SQLite paths made relative to `base_dir`.
std::string resolve_storage_url(const std::string& url, const std::filesystem::path& base_dir);

// Names that a command may use as {placeholders} besides the parameters.
const std::vector<std::string>& builtin_placeholders();

}  // namespace caviar
