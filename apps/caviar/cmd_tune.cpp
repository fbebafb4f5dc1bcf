// caviar tune CONFIG: run a study to its budget, N trials at a time, with live progress.
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/compare.h"
#include "caviar/config.h"
#include "caviar/dashboard.h"
#include "caviar/error.h"
#include "caviar/executor.h"
#include "caviar/export.h"
#include "caviar/retune.h"
#include "caviar/tuner.h"
#include "command.h"
#include "common.h"

namespace caviar::cli {
namespace {

std::string clock_text(double seconds) {
  long s = std::lround(seconds);
  return s >= 3600 ? fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60)
                   : fmt::format("{:02d}:{:02d}", s / 60, s % 60);
}

// The columns of the terminal on stderr (TIOCGWINSZ), or $COLUMNS, or 80; asked on each
// redraw, so a resized window gets lines of its new width.
int terminal_columns() {
  struct winsize ws {};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* c = std::getenv("COLUMNS")) {
    char* end = nullptr;
    long n = std::strtol(c, &end, 10);
    if (*end == '\0' && n > 0 && n < 100000) return static_cast<int>(n);
  }
  return 80;
}

// `line` cut to at most `columns` characters (UTF-8 code points), with "..." if cut.
std::string fit_to_width(const std::string& line, int columns) {
  columns = std::max(columns, 4);
  std::size_t chars = 0;
  for (unsigned char c : line) chars += (c & 0xC0) != 0x80;
  if (chars <= static_cast<std::size_t>(columns)) return line;
  std::string out;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const bool starts = (static_cast<unsigned char>(line[i]) & 0xC0) != 0x80;
    if (starts && kept == static_cast<std::size_t>(columns - 3)) break;
    kept += starts;
    out += line[i];
  }
  return out + "...";
}

// Live progress: one refreshed line on a terminal, one line per finished trial otherwise.
class ProgressPrinter {
 public:
  ProgressPrinter(std::string metric) : metric_(std::move(metric)), tty_(isatty(STDERR_FILENO)) {}

  void operator()(const TuneProgress& p) {
    const TrialCounts& c = p.counts;
    int done = c.complete + c.pruned + c.failed;
    std::string total = p.budget ? fmt::format("/{}", p.budget) : "";
    std::string best = p.best && p.best->value
                           ? fmt::format("best #{} {}={:.6g}", p.best->number, metric_, *p.best->value)
                           : "no best yet";
    if (!tty_) {  // a log: one line per finished trial
      for (const TrialRecord& t : p.finished) {
        std::string reason = t.reason_line();
        fmt::print(stderr, "[{} done{}, {}] trial {} {}{}  {}{}\n", done, total, best, t.number,
                   to_string(t.state), t.value ? fmt::format(" {}={:.6g}", metric_, *t.value) : "",
                   params_text(t), reason.empty() ? "" : "  (" + reason + ")");
      }
      return;
    }
    std::string line = fmt::format("{} done{} | {} running | {} failed", done, total, c.running, c.failed);
    if (c.pruned) line += fmt::format(" | {} pruned", c.pruned);
    line += " | " + best;
    if (p.best && p.best->value) line += " [" + params_text(*p.best) + "]";
    line += " | " + clock_text(p.elapsed_seconds);
    if (p.remaining_seconds) line += ", ~" + clock_text(*p.remaining_seconds) + " left";
    line = fit_to_width(line, terminal_columns() - 1);  // the last column would wrap on some terminals
    fmt::print(stderr, "\r\033[K{}", line);
    std::fflush(stderr);
    drawn_ = true;
  }

  void finish() {
    if (tty_ && drawn_) fmt::print(stderr, "\n");
  }

 private:
  std::string metric_;
  bool tty_;
  bool drawn_ = false;
};

struct TuneArgs {
  std::string config;
  std::string study, storage;
  std::optional<long long> trials, parallel;
  std::optional<std::string> gpus;
  long long seed = -1;
  bool quiet = false;
  bool allow_space_change = false;
  bool keep_going = false;    // no early stop on repeated failures
  bool rerun_failed = false;  // run the study's failed trials again first
  bool dashboard = false;     // serve the live pages beside the study
  int dashboard_port = 8080;
  std::string from;           // retune: the old study
  int best = 5;               // retune: its best configurations to run first
  double tolerance = 0;       // retune: how much better the new best may be while the old holds
};

// After a re-tuning: the old best on the new data beside the new best (compare_studies).
// Returns the exit code: 0 the old configuration holds, 10 a better one was found.
int retune_verdict(const StudyView& old, const Study& study, double tolerance) {
  CompareOptions options;
  options.tolerance = tolerance;
  const json c = compare_studies(compared(old), compared(study.view()), options);
  const std::string verdict = c["verdict"];
  if (verdict == "unknown") return 1;
  fmt::print("verdict: {} (the new best is {:.6g} {} than the old best on the new data; tolerance {}; "
             "caviar compare {} {} for the whole table)\n",
             verdict == "better" ? "a better configuration was found" : "the old configuration holds",
             std::abs(c["gain"].get<double>()), c["gain"].get<double>() >= 0 ? "better" : "worse", tolerance,
             old.name(), study.record().name);
  return verdict == "better" ? 10 : 0;
}

void tune(const TuneArgs& a) {
  // Everything is checked before anything is stored or started.
  Config config = load_config(a.config);
  apply_overrides(config, {a.study, storage_url(a.storage, &config), a.trials, a.parallel, a.gpus});
  if (a.seed >= 0) config.study.sampler.seed = static_cast<std::uint64_t>(a.seed);
  config.study.allow_space_change = a.allow_space_change;

  auto executor = make_executor(config);  // checks the program exists before touching storage
  check_trial_root(config);               // no other study's trial folders
  std::optional<StudyView> old;           // caviar retune --from OLD: checked before anything is stored
  if (!a.from.empty()) {
    old = StudyView::open(config.storage, a.from);
    check_retune(*old, config.study, a.best);
    config.study.sampler.prior = retune_prior(*old, config.study.space);
  }
  auto storage = open_storage(config.storage);
  Study study(storage, config.study);     // refuses a changed space unless allowed
  if (old) {
    const std::vector<json> first = start_retune(study, *old, a.best);
    if (first.empty())
      fmt::print(stderr, "caviar: continuing the re-tuning of study '{}' as '{}'\n", a.from, config.study.name);
    else
      fmt::print(stderr, "caviar: re-tuning study '{}' as '{}': its {} best configuration{} run first\n", a.from,
                 config.study.name, first.size(), first.size() == 1 ? "" : "s");
  }
  claim_trial_root(config);
  if (a.rerun_failed) {
    const auto again = storage->rerun_failed(study.record().id, study.space());
    fmt::print(stderr, "caviar: {} failed trial{} of study '{}' will run again{}\n", again.size(),
               again.size() == 1 ? "" : "s", config.study.name,
               again.empty() ? "" : fmt::format(" as #{}-#{}", again.front().number, again.back().number));
  }

  std::unique_ptr<Dashboard> dashboard;
  if (a.dashboard) {
    dashboard = start_dashboard(config, storage, a.dashboard_port);
    fmt::print(stderr, "caviar: dashboard of study '{}': {}\n", config.study.name,
               dashboard->url(study.record().id));
  }

  TuneOptions options;
  options.parallel = config.parallel;
  options.resources = config.resources;
  if (const int slots = config.resources.slots(); slots > 0 && config.parallel > slots)
    fmt::print(stderr, "caviar: {} trials at a time, not {}: {} devices, {} per trial\n", slots,
               config.parallel, config.resources.gpus.size(), config.resources.gpus_per_trial);
  options.time_limit = config.time_limit;
  options.trial_root = config.trial_root;
  if (!a.keep_going) options.stop_after_same_failures = 5;
  if (config.pbt) options.source = make_pbt_source(study, *config.pbt);
  std::string metric = config.metric;
  ProgressPrinter printer(metric);
  if (!a.quiet) options.on_progress = [&](const TuneProgress& p) { printer(p); };
  Tuner tuner(study, *executor, options);

  // Ctrl-C, SIGTERM, SIGHUP: stop the running trials; again: stop waiting for the storage.
  std::optional<StopOnSignals> signals;
  signals.emplace([&] { tuner.stop(); }, [&] { study.storage().stop_waiting(); });
  // Once the tuner is done, a signal ends caviar as it would any program.
  auto stop_watching = [&] {
    signals.reset();
    printer.finish();
  };
  TuneSummary summary;
  try {
    summary = tuner.run();
  } catch (...) {
    stop_watching();
    throw;
  }
  stop_watching();

  TrialCounts c = study.counts();
  fmt::print("study '{}' in {}: {} complete, {} pruned, {} failed{} ({} trials run here in {})\n",
             config.study.name, redacted_url(config.storage), c.complete, c.pruned, c.failed,
             c.running ? fmt::format(", {} running elsewhere", c.running) : "", summary.started,
             clock_text(summary.elapsed_seconds));
  if (summary.best) {
    fmt::print("best trial #{}: {} = {:.6g}", summary.best->number, metric, *summary.best->value);
    const json& attrs = summary.best->system_attrs;
    auto number = [&](const char* key) {
      auto it = attrs.find(key);
      return it != attrs.end() && it->is_number() ? it->get<double>() : std::nan("");
    };
    if (attrs.contains(attr::kTestAcc))
      fmt::print(" (test accuracy {:.4f}, test loss {:.4f})", number(attr::kTestAcc),
                 number(attr::kTestLoss));
    fmt::print("\n");
    if (const auto pbt = attrs.find(attr::kPbt); pbt != attrs.end() && pbt->is_object())
      fmt::print("  PBT member {}, steps {}-{}; its checkpoint: {} (lineage: caviar trials --lineage)\n",
                 pbt->value("member", 0), pbt->value("step", 0) + 1, pbt->value("stop", 0),
                 attrs.value(attr::kCheckpointDir, std::string("-")));
    json params = trial_to_json(*summary.best)["params"];
    for (const auto& p : config.study.space.params())
      if (params.contains(p.name)) fmt::print("  {:<16} {}\n", p.name, params[p.name].is_string() ? params[p.name].get<std::string>() : params[p.name].dump());
  } else {
    fmt::print("no trial has completed yet\n");
  }
  fmt::print("trial logs: {}/\n", config.trial_root.string());
  if (summary.stopped_early) {
    const EarlyStop& e = *summary.stopped_early;
    const std::string dir = e.first.system_attrs.value(attr::kTrialDir, std::string());
    std::fflush(stdout);
    fmt::print(stderr,
               "caviar: {}: stopped early: the first {} trials all failed the same way, so the rest of the "
               "budget was not spent:\n  {}\n{}"
               "  Fix the command or the config, then run the failed trials again with `caviar tune {} "
               "--rerun-failed` (or start over: `caviar delete`); --keep-going runs the budget regardless.\n",
               a.config, e.trials, e.reason,
               dir.empty() ? "" : fmt::format("  trial #{}'s log: {}\n", e.first.number,
                                              (std::filesystem::path(dir) / "stderr.log").string()),
               a.config);
    exit_code() = c.complete ? 0 : 1;
    return;
  }
  if (summary.interrupted) exit_code() = 130;
  else if (summary.best == std::nullopt && c.failed > 0) exit_code() = 1;
  else if (old) exit_code() = retune_verdict(*old, study, a.tolerance);
}

CommandRegistrar registrar(10, [](CLI::App& app) {
  auto args = std::make_shared<TuneArgs>();
  auto* cmd = app.add_subcommand("tune", "Run a study: sample, run trials N at a time, keep the best");
  cmd->footer(
      "Run a study to its budget. budget.trials counts the study's finished trials, so a\n"
      "restarted run does only what is missing. Several `caviar tune` processes may share\n"
      "one study. Ctrl-C stops the running trials and keeps everything finished.");
  cmd->add_option("config", args->config, "The study's config file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--study", args->study, "Study name (overrides the config's)");
  cmd->add_option("--storage", args->storage, "Storage URL (overrides the config's), e.g. sqlite:///caviar.db");
  cmd->add_option("--trials", args->trials, "The study's total trial budget (overrides budget.trials)")->check(CLI::PositiveNumber);
  cmd->add_option("--parallel", args->parallel, "Trials at a time (overrides budget.parallel)")->check(CLI::PositiveNumber);
  cmd->add_option("--gpus", args->gpus,
                  "Devices the trials share, e.g. 0,1,2,3 (overrides resources.gpus; none: no devices): each "
                  "running trial gets its own as CUDA_VISIBLE_DEVICES and CAVIAR_GPU, and trials at a time "
                  "are at most the devices free");
  cmd->add_option("--seed", args->seed, "Sampler seed (overrides sampler.seed)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--quiet,-q", args->quiet, "No progress output");
  cmd->add_flag("--allow-space-change", args->allow_space_change,
                "Continue the study although its parameters changed (the old space is kept in the "
                "study's caviar:space_changes attribute)");
  cmd->add_flag("--rerun-failed", args->rerun_failed,
                "First run the study's failed trials again, with the same parameters; the failed ones "
                "stay stored, uncounted (caviar:rerun_as)");
  cmd->add_flag("--keep-going", args->keep_going,
                "Do not stop early when the first 5 trials all fail the same way");
  cmd->add_flag("--dashboard", args->dashboard,
                "Serve the study's live pages while it runs (caviar dashboard) and print their URL");
  cmd->add_option("--dashboard-port", args->dashboard_port,
                  "The dashboard's port on 127.0.0.1 (taken: any free port)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->callback([args] { tune(*args); });
});

CommandRegistrar retune_registrar(11, [](CLI::App& app) {
  auto args = std::make_shared<TuneArgs>();
  auto* cmd = app.add_subcommand("retune", "Tune again on new data, the old study's best configurations first");
  cmd->footer(
      "A new study (the config's, or --study NEW) linked to the old one (--from OLD, in the same\n"
      "storage): the old study's --best K configurations run first on the new data (the config's\n"
      "command or arguments point at it), then the sampler goes on as `caviar tune` would. At the\n"
      "end, the verdict: exit 0 when the old best still holds (the new best better by at most\n"
      "--tolerance), 10 when a better configuration was found (caviar compare OLD NEW --format\n"
      "yaml prints it). Run again, it continues. Not yet: a sampler warm-started from the old\n"
      "study (docs/cli.md).");
  cmd->add_option("config", args->config, "The new study's config file (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--from", args->from, "The old study's name (in the same storage)")->required();
  cmd->add_option("--best", args->best, "How many of the old study's best configurations run first")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--tolerance", args->tolerance, "How much better the new best may be while the old still holds")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--study", args->study, "The new study's name (overrides the config's)");
  cmd->add_option("--storage", args->storage, "Storage URL (overrides the config's)");
  cmd->add_option("--trials", args->trials, "The new study's total trial budget (overrides budget.trials)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--parallel", args->parallel, "Trials at a time (overrides budget.parallel)")->check(CLI::PositiveNumber);
  cmd->add_flag("--quiet,-q", args->quiet, "No progress output");
  cmd->add_flag("--keep-going", args->keep_going, "Do not stop early when the first 5 trials all fail the same way");
  cmd->callback([args] { tune(*args); });
});

}  // namespace
}  // namespace caviar::cli
