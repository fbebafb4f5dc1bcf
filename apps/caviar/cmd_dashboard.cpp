// caviar dashboard: serve live pages over a study store (caviar/dashboard.h).
//
//   caviar dashboard                                  studies in ./caviar.db, on 127.0.0.1:8080
//   caviar dashboard study.yaml --port 9000
//   caviar dashboard --storage postgresql:///studies --host 0.0.0.0   (prints a token)
#include <pthread.h>
#include <signal.h>

#include <cstdio>

#include <fmt/core.h>

#include "caviar/dashboard.h"
#include "caviar/error.h"
#include "caviar/storage.h"
#include "command.h"
#include "common.h"

namespace caviar::cli {
namespace {

struct Args {
  StudyLocation where;
  std::string host = "127.0.0.1";
  int port = 8080;
  bool read_only = false;
};

CommandRegistrar dashboard_cmd(36, [](CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("dashboard", "Serve live pages of the studies in a storage (read only)");
  cmd->footer(
      "Open the URL it prints. The pages show every study, each study's trials as they run\n"
      "(best so far, learning curves, a trial table, importance, pairs with the zoom boxes,\n"
      "PBT lineage) and each trial (metrics, stderr, logs); they update by themselves.\n"
      "It only reads the storage, but for the controls a babysat model's page gives (caviar\n"
      "babysit; --read-only refuses them). On 127.0.0.1 (the default) anyone on this machine may\n"
      "open it; on any other address every request needs the token it prints.\n"
      "Ctrl-C stops it. See docs/dashboard.md.");
  add_location_options(cmd, a->where);
  cmd->add_option("--host", a->host, "The address to listen on (other than 127.0.0.1: a token is needed)")
      ->capture_default_str();
  cmd->add_option("--port", a->port, "The port to listen on (0: any free port)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_flag("--read-only", a->read_only, "Refuse a babysat model's controls too: never write to the storage");
  cmd->callback([a] {
    std::optional<Config> config;
    if (!a->where.config.empty()) config = load_config(a->where.config);
    const std::string url = storage_url(a->where.storage, config ? &*config : nullptr);
    auto storage = open_storage(url, OpenMode::ReadOnly);
    std::optional<std::int64_t> study;
    std::string name = a->where.study.empty() && config ? config->study.name : a->where.study;
    if (!name.empty()) {
      auto found = storage->find_study(name);
      if (!found) throw UsageError("study '" + name + "'", "not in " + redacted_url(url));
      study = found->id;
    }
    // Ctrl-C and kill end the wait below; the server's threads leave the signals to it.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, sig);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    DashboardOptions options;
    options.host = a->host;
    options.port = a->port;
    if (config) options.metrics[config->study.name] = config->metric;
    // A babysat model's controls from its page are the one thing written (docs/babysit.md).
    if (!a->read_only) options.open_writer = [url] { return open_storage(url, OpenMode::Existing); };
    Dashboard dashboard(storage, options);
    dashboard.start();
    fmt::print("caviar dashboard: {} in {}\n", dashboard.url(study), redacted_url(url));
    fmt::print("({}; Ctrl-C stops it)\n", a->read_only ? "reads only" : "reads only, but for a babysat model's controls");
    std::fflush(stdout);
    int received = 0;
    sigwait(&stop_signals, &received);
    dashboard.stop();
  });
});

}  // namespace
}  // namespace caviar::cli
