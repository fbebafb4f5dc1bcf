// Helpers of the tests that run the `caviar` command line (support/cli.h runs it): a
// config written into a fresh temporary folder, what the database then holds, the trial
// processes it started. Real subprocesses, real signals, real SQLite files.
#pragma once

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "caviar/config.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "support/cli.h"
#include "support/files.h"
#include "support/postgres.h"
#include "support/processes.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using caviar::testing::CaviarProcess;
using caviar::testing::CliResult;
using caviar::testing::poll_until;
using caviar::testing::run_caviar;
using caviar::testing::TempDir;
using caviar::testing::process_gone;
using caviar::testing::read_file;
using caviar::testing::write_file;

using SteadyClock = std::chrono::steady_clock;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A config: `command` is a YAML flow list, `extra` more top-level lines.
std::string config_text(const std::string& study, const std::string& command, int budget,
                        const std::string& extra = "",
                        const std::string& parameters = "  x: {type: float, low: 0, high: 1}\n") {
  return "study: " + study + "\n"
         "storage: sqlite:///study.db\n"
         "direction: minimize\n"
         "metric: value\n"
         "objective:\n"
         "  command: " + command + "\n"
         "parameters:\n" + parameters +
         "budget: {trials: " + std::to_string(budget) + "}\n" + extra;
}

fs::path write_config(const fs::path& dir, const std::string& text, const std::string& name = "cfg.yaml") {
  write_file(dir / name, text);
  return dir / name;
}

json trials_json(const fs::path& dir, const fs::path& cfg) {
  CliResult r = run_caviar(dir, {"trials", cfg.string(), "--format", "json"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  try {
    return json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "trials --format json is not JSON: " << e.what() << "\n" << r.out;
    return json::array();
  }
}

std::map<std::string, int> count_states(const json& trials) {
  std::map<std::string, int> out;
  for (const auto& t : trials) ++out[t["state"].get<std::string>()];
  return out;
}

// Waits until every pid is gone; returns those still alive after `limit` (and kills them).
std::vector<pid_t> survivors(const std::vector<pid_t>& pids, std::chrono::milliseconds limit) {
  auto until = SteadyClock::now() + limit;
  std::vector<pid_t> alive;
  do {
    alive.clear();
    for (pid_t p : pids)
      if (!process_gone(p)) alive.push_back(p);
    if (alive.empty()) return alive;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  } while (SteadyClock::now() < until);
  for (pid_t p : alive) kill(p, SIGKILL);
  return alive;
}

// The pids written by trials into <trial folder>/<file>, for every trial folder under root.
std::vector<pid_t> trial_pids(const fs::path& root, const std::string& file) {
  std::vector<pid_t> pids;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return pids;
  for (const auto& entry : fs::directory_iterator(root)) {
    std::string text = read_file(entry.path() / file);
    if (!text.empty() && text.back() == '\n') pids.push_back(static_cast<pid_t>(std::stol(text)));
  }
  return pids;
}

int count_files(const fs::path& root, const std::string& file) {
  int n = 0;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return 0;
  for (const auto& entry : fs::directory_iterator(root))
    if (fs::exists(entry.path() / file)) ++n;
  return n;
}

}  // namespace
