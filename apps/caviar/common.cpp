#include "common.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>

#include <fmt/core.h>

#include "base/format.h"
#include "caviar/dashboard.h"
#include "caviar/error.h"
#include "caviar/storage.h"

namespace caviar::cli {

void add_location_options(CLI::App* cmd, StudyLocation& where) {
  cmd->add_option("config", where.config, "The study's config file (YAML)");
  cmd->add_option("--storage", where.storage, "Storage URL, e.g. sqlite:///caviar.db");
  cmd->add_option("--study", where.study, "Study name");
}

// A word that reads back as the same string unquoted (config.cpp's scalar rules).
namespace {
bool plain_word(const std::string& s) {
  static const std::set<std::string> special = {"true", "True", "TRUE", "false", "False", "FALSE",
                                                "null", "Null", "NULL"};
  if (s.empty() || special.count(s)) return false;
  auto letter = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
  if (!letter(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return letter(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-';
  });
}

}  // namespace

// A YAML scalar that reads back as `v` ("1e-3" as a string stays quoted).
std::string yaml_scalar(const json& v) {
  if (v.is_number_float()) return detail::shortest(v.get<double>());
  if (v.is_string() && plain_word(v.get<std::string>())) return v.get<std::string>();
  return v.dump();  // integers, booleans, null, and strings as "..." (JSON escapes are YAML's)
}

std::string yaml_key(const std::string& name) { return plain_word(name) ? name : json(name).dump(); }

StudyLocation location_of(const std::string& word, const std::string& storage) {
  StudyLocation where;
  std::error_code ec;
  if (std::filesystem::is_regular_file(word, ec)) where.config = word;
  else where.study = word;
  where.storage = storage;
  return where;
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

std::unique_ptr<Dashboard> start_dashboard(const Config& config, const std::shared_ptr<Storage>& storage,
                                           int port) {
  const std::string& url = config.storage;
  DashboardOptions options;
  options.port = port;
  options.metrics[config.study.name] = config.metric;
  options.open_writer = [storage] { return storage; };  // a babysat model's controls
  auto reader = is_memory_url(url) ? storage : open_storage(url, OpenMode::ReadOnly);
  auto dashboard = std::make_unique<Dashboard>(reader, options);
  try {
    dashboard->start();
  } catch (const UsageError&) {
    options.port = 0;
    dashboard = std::make_unique<Dashboard>(reader, options);
    dashboard->start();
  }
  return dashboard;
}

namespace {
// The stop signals received: how many and the last one; set by the signal handler, lock-free.
std::atomic<int> signals_received{0};
std::atomic<int> last_signal{0};
static_assert(std::atomic<int>::is_always_lock_free);
}  // namespace

StopOnSignals::StopOnSignals(std::function<void()> first, std::function<void()> again) {
  signals_received = 0;
  struct sigaction action {};
  action.sa_handler = [](int sig) {
    last_signal = sig;
    signals_received.fetch_add(1);
  };
  sigemptyset(&action.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &action, nullptr);
  watcher_ = std::thread([this, first = std::move(first), again = std::move(again)] {
    int handled = 0;
    while (!finished_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const int received = signals_received.load();
      if (received == handled) continue;
      const char* name = sigabbrev_np(last_signal.load());
      if (handled == 0) {
        fmt::print(stderr, "\ncaviar: {} received; stopping the running trials (they are kept as "
                           "interrupted and run again next time; send it again to stop without waiting "
                           "for the storage)\n", name);
        first();
      }
      if (received >= 2 && handled < 2) {
        // The trials are stopping or stopped; what may still take long is storing them
        // (PostgreSQL is tried again for up to a minute, a locked SQLite file for ten).
        fmt::print(stderr, "\ncaviar: {} received again; not waiting for the storage (trials it has not "
                           "stored stay running there until they are failed as stale)\n", name);
        again();
      }
      handled = received;
    }
  });
}

StopOnSignals::~StopOnSignals() {
  finished_ = true;
  watcher_.join();
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) signal(sig, SIG_DFL);
}

}  // namespace caviar::cli
