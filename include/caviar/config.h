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
//   resources: {gpus: [0, 1, 2, 3], gpus_per_trial: 1}                   # optional
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

// What a config (and the command line's overrides) may ask for; each is checked before
// anything is stored or started (docs/config.md#limits).
inline constexpr std::size_t kMaxConfigBytes = std::size_t{1} << 20;  // the file, 1 MiB
inline constexpr std::size_t kMaxConfigValues = 100'000;  // YAML nodes, aliases counted each use
inline constexpr int kMaxConfigDepth = 64;                // nested mappings and lists
inline constexpr int kMaxParallel = 1024;                 // budget.parallel, --parallel
inline constexpr int kMaxTrials = 1'000'000;              // budget.trials, --trials
inline constexpr std::chrono::hours kMaxDuration{24 * 366};  // any duration: one year
inline constexpr std::size_t kMaxNameLength = 512;        // a study's name (Optuna's column)
inline constexpr int kMaxGpus = 1024;                     // resources.gpus, --gpus

// The devices that running trials share (resources: in the config, --gpus): each running
// trial has gpus_per_trial of them to itself, so at most size / gpus_per_trial trials run
// at once. A command trial sees its own as CUDA_VISIBLE_DEVICES and CAVIAR_GPU ("2,3").
struct Resources {
  std::vector<std::string> gpus;  // device ids as CUDA_VISIBLE_DEVICES takes them: 0, GPU-<uuid>
  int gpus_per_trial = 1;
  int slots() const { return static_cast<int>(gpus.size()) / gpus_per_trial; }  // 0: no devices
};

// "0,1,2,3" (as --gpus takes it, or CUDA_VISIBLE_DEVICES lists them) or "none": the
// device ids, checked. Throws ConfigError at `where`.
std::vector<std::string> parse_gpu_list(const std::string& text, const std::string& where);

struct Config {
  std::filesystem::path file;   // where it was read from ("" if from text)
  std::filesystem::path base_dir;  // relative paths resolve against this (the file's folder)
  std::string storage = "sqlite:///caviar.db";
  StudyOptions study;
  std::optional<CommandObjective> command;
  json builtin;                 // objective: {builtin: name, args: {...}}; null if none
  std::string metric;           // the optimised value's name (a command's: also command->metric)
  int parallel = 1;             // with gpus and no budget.parallel: their slots
  bool parallel_given = false;  // budget.parallel in the file
  Resources resources;
  std::optional<std::chrono::milliseconds> time_limit;
  std::optional<PbtOptions> pbt;  // scheduler: {name: pbt, ...}; see pbt.h
  std::filesystem::path trial_root;  // trial folders: <trial_root>/<number>/
  bool trial_dir_given = false;      // trial_dir: in the file; else default_trial_root()
  json raw;                     // the whole config as JSON
};

// The command line's overrides of a config (--study, --storage, --trials, --parallel,
// --gpus), checked like the file's own values; the trial folders follow the study they
// name, and trials at a time follow --gpus unless --parallel or budget.parallel is given.
struct ConfigOverrides {
  std::string study, storage;
  std::optional<long long> trials, parallel;
  std::optional<std::string> gpus;  // parse_gpu_list's text
};
void apply_overrides(Config& config, const ConfigOverrides& overrides);

// The config's `parameters:` mapping as a list of [name, definition] pairs, in the order
// written (a mapping's order is the space's), checked: the search space. Also for a space
// given another way (the Python module's `space={...}`). Throws ConfigError at
// `<where>.<name>.<key>`.
SearchSpace space_from_parameters(const json& pairs, const std::string& where = "parameters");
// The config's `sampler:` mapping ({name: tpe, seed: 1, ...}), checked: make_sampler judges
// the name and the sampler's own keys. Throws ConfigError at `sampler.<key>`.
SamplerOptions sampler_options_from_json(const json& sampler);

// Reads and checks a config file. Throws ConfigError with the path of the bad key.
Config load_config(const std::filesystem::path& file);
// The same from YAML text; relative paths resolve against `base_dir`.
Config parse_config(const std::string& yaml, const std::filesystem::path& base_dir,
                    const std::string& source = "config");

// "90" or 90 (seconds), "500ms", "30s", "20m", "1.5h", "2d", at most kMaxDuration.
// Throws ConfigError.
std::chrono::milliseconds parse_duration(const json& value, const std::string& where);

// A storage URL with relative SQLite paths made relative to `base_dir`.
std::string resolve_storage_url(const std::string& url, const std::filesystem::path& base_dir);

// A study's name as a study may have it: not empty, at most kMaxNameLength bytes, no
// control characters. Throws ConfigError at `where`.
void check_study_name(const std::string& name, const std::string& where);

// The trial folders of a study when the config names none:
//   <base_dir>/caviar-runs/<the name, made safe>-<8 hex digits>
// The safe name keeps letters, digits, '.', '_' and '-' (at most 64, never starting with
// '.'); the digits hash the real name and the storage (its path, or its URL without the
// password), so that two studies never share a folder and none lands outside caviar-runs.
std::filesystem::path default_trial_root(const std::filesystem::path& base_dir,
                                         const std::string& storage, const std::string& study);

// Makes sure no other study uses the config's trial folders: <trial_root>/.caviar-study
// names the study that owns them. check_trial_root() only reads (call it before anything
// is stored; throws ConfigError at "trial_dir" for a folder that another study owns);
// claim_trial_root() writes the file once the study is open.
void check_trial_root(const Config& config);
void claim_trial_root(const Config& config);

// Names that a command may use as {placeholders} besides the parameters.
const std::vector<std::string>& builtin_placeholders();

}  // namespace caviar
