// caviar babysit CONFIG: train one model a segment at a time, watched and steered
// (include/caviar/babysit.h, docs/babysit.md); and `caviar babysit set|rollback|pause|
// resume|stop|suggest|accept|status STUDY`, from another terminal.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/babysit.h"
#include "caviar/config.h"
#include "caviar/dashboard.h"
#include "caviar/error.h"
#include "caviar/executor.h"
#include "caviar/export.h"
#include "caviar/tuner.h"
#include "command.h"
#include "common.h"

namespace caviar::cli {
namespace {

// ---- Reading the values given on the command line ----

// "lr=3e-4 optimizer=adam" -> {"lr": 0.0003, "optimizer": "adam"}: a value that reads as a
// JSON number, true/false or null is one; anything else is a string.
json parse_assignments(const std::vector<std::string>& words, const std::string& where) {
  json out = json::object();
  for (const auto& w : words) {
    const auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(where, fmt::format("'{}' is not name=value (e.g. lr=3e-4)", w));
    const std::string name = w.substr(0, eq), text = w.substr(eq + 1);
    json value = json::parse(text, nullptr, false);
    if (value.is_discarded() || value.is_object() || value.is_array() || value.is_string()) value = text;
    out[name] = value;
  }
  return out;
}

// A user value as a person reads it: floats to 4 significant digits.
std::string shown(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return fmt::format("{:.4g}", value.get<double>());
  return value.dump();
}

std::string assignments_text(const json& params) {
  std::string out;
  for (const auto& [name, value] : params.items()) out += fmt::format("{}{}={}", out.empty() ? "" : " ", name, shown(value));
  return out;
}

// ---- The terminal view ----

// The last `width` values as a line of block characters, lowest ▁ to highest █.
std::string sparkline(const std::vector<double>& values, std::size_t width = 48) {
  static const char* blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  const std::size_t from = values.size() > width ? values.size() - width : 0;
  double lo = INFINITY, hi = -INFINITY;
  for (std::size_t i = from; i < values.size(); ++i) lo = std::min(lo, values[i]), hi = std::max(hi, values[i]);
  std::string out;
  for (std::size_t i = from; i < values.size(); ++i) {
    const double f = hi > lo ? (values[i] - lo) / (hi - lo) : 0.5;
    out += blocks[std::clamp(static_cast<int>(f * 7.999), 0, 7)];
  }
  return out;
}

// The current branch's curves: the metric, the training loss, the test accuracy.
void print_curves(std::FILE* out, const BabysitRun& run, const std::string& metric, Direction direction) {
  struct Series {
    std::string name;
    std::vector<double> values;
    std::int64_t last_step = 0;
  };
  Series m{metric, {}, 0}, train{"train_loss", {}, 0}, test{"test_acc", {}, 0};
  std::optional<double> best;
  std::int64_t best_step = 0;
  for (const BabysitPoint& p : run.curve) {
    if (p.value) {
      m.values.push_back(*p.value);
      if (!best || better(direction, *p.value, *best)) best = p.value, best_step = p.step;
    }
    if (p.train_loss) train.values.push_back(*p.train_loss);
    if (p.test_acc) test.values.push_back(*p.test_acc);
  }
  for (const Series* s : {&m, &train, &test}) {
    if (s->values.empty()) continue;
    std::string tail = fmt::format("{:.4g}", s->values.back());
    if (s == &m && best) tail += fmt::format("  (best {:.4g} at step {})", *best, best_step);
    fmt::print(out, "  {:<11} {}  {}\n", s->name, sparkline(s->values), tail);
  }
}

// One finished segment, then the curves.
void print_segment(const TrialRecord& t, const BabysitRun& run, const std::string& metric, Direction direction,
                   std::int64_t max_steps) {
  const json& l = *babysit_lineage_of(t);
  std::string line = fmt::format("step {}/{}  #{} {}", l.value("stop", 0), max_steps, t.number, to_string(t.state));
  if (t.value) line += fmt::format("  {}={:.6g}", metric, *t.value);
  if (auto it = t.system_attrs.find(attr::kTestAcc); it != t.system_attrs.end() && it->is_number())
    line += fmt::format("  test_acc={:.4f}", it->get<double>());
  const std::string origin = l.value("origin", "");
  if (origin != "continue") {
    line += fmt::format("  [{}", origin);
    const json changes = l.value("changes", json::object());
    for (const auto& [name, pair] : changes.items())
      line += fmt::format(" {} {} -> {}", name, shown(pair[0]), shown(pair[1]));
    if (origin == "rollback") line += fmt::format(" from step {}", l.value("step", 0));
    line += "]";
  }
  if (t.state == TrialState::Failed) line += "  " + t.reason_line();
  fmt::print(stderr, "{}\n", line);
  if (const std::string note = l.value("note", ""); !note.empty() && origin != "continue")
    fmt::print(stderr, "  ({})\n", note);
  for (const json& r : l.value("rejected", json::array()))
    fmt::print(stderr, "  control {} was not applied: {}\n", r.value("id", ""), r.value("why", ""));
  print_curves(stderr, run, metric, direction);
}

// The segment with the best test accuracy (else value): when, and the values in force.
void print_best_day(const json& tree) {
  if (!tree.is_object() || !tree["best_day"].is_object()) return;
  const json& b = tree["best_day"];
  fmt::print("best day: trial #{} at step {}{}, ended {} UTC: {}\n", b["number"].get<int>(), b["stop"].dump(),
             b["test_acc"].is_number() ? fmt::format(", test accuracy {:.4f}", b["test_acc"].get<double>()) : "",
             b["ended"].is_string() ? b["ended"].get<std::string>().substr(0, 19) : "-", assignments_text(b["params"]));
}

// ---- caviar babysit CONFIG ----

struct RunArgs {
  std::string config, study, storage;
  std::vector<std::string> set;
  std::optional<long long> epochs, interval, budget;
  bool auto_apply = false;
  bool quiet = false;
  bool dashboard = false;
  int dashboard_port = 8080;
  std::string lr;
};

// The babysitting settings: the flags, else the config's `babysit:` mapping, else the
// defaults (the epochs of the built-in trainer's args).
BabysitOptions babysit_options(const RunArgs& a, const Config& config) {
  BabysitOptions o;
  const json section = config.raw.value("babysit", json::object());
  if (!section.is_object()) throw ConfigError("babysit", "must be a mapping (epochs, interval, budget, auto, patience, lr)");
  for (const auto& [key, value] : section.items())
    if (key != "epochs" && key != "interval" && key != "budget" && key != "auto" && key != "patience" && key != "lr")
      throw ConfigError("babysit." + key, "unknown key (epochs, interval, budget, auto, patience, lr)");
  auto whole = [&](const char* key) -> std::optional<long long> {
    if (!section.contains(key)) return std::nullopt;
    if (!section[key].is_number_integer() || section[key].get<long long>() < 1)
      throw ConfigError(std::string("babysit.") + key, "must be a whole number, 1 or more");
    return section[key].get<long long>();
  };
  std::optional<long long> epochs = a.epochs ? a.epochs : whole("epochs");
  if (!epochs && config.builtin.is_object()) {
    const json args = config.builtin.value("args", json::object());
    if (args.contains("epochs") && args["epochs"].is_number_integer()) epochs = args["epochs"].get<long long>();
  }
  if (!epochs) throw UsageError("babysit", "how long to train? give --epochs N (or babysit: {epochs: N} in the config)");
  o.max_steps = *epochs;
  o.interval = a.interval ? *a.interval : whole("interval").value_or(1);
  o.budget = a.budget ? *a.budget : whole("budget").value_or(0);
  if (auto p = whole("patience")) o.patience = static_cast<int>(*p);
  o.auto_apply = a.auto_apply || section.value("auto", false);
  o.lr = !a.lr.empty() ? a.lr : section.value("lr", std::string());
  if (!o.lr.empty() && !config.study.space.find(o.lr))
    throw ConfigError("babysit.lr", fmt::format("'{}' is not a parameter of the study", o.lr));
  return o;
}

void run_babysit(const RunArgs& a) {
  Config config = load_config(a.config);
  apply_overrides(config, {a.study, storage_url(a.storage, &config), std::nullopt, std::nullopt, std::nullopt});
  config.study.budget.reset();  // the model trains to its epochs, not to the study's budget
  const BabysitOptions options = babysit_options(a, config);
  const std::vector<std::string> fixed = fixed_during_training(config);
  const json given = parse_assignments(a.set, "--set");
  babysit_values(config.study.space, given, {});  // names and values, checked before anything is stored

  auto executor = make_executor(config);
  check_trial_root(config);
  auto storage = open_storage(config.storage);
  Study study(storage, config.study);
  claim_trial_root(config);
  const std::string& metric = config.metric;
  const Direction direction = config.study.direction;

  // A model already babysat in the study continues; the values given are a `set`.
  BabysitSetup setup;
  setup.options = options;
  setup.metric = metric;
  setup.fixed = fixed;
  std::vector<TrialRecord> history = study.trials();
  const BabysitRun existing = babysit_run(history);
  if (!existing.segments.empty()) {
    // The same command line again (after a crash, the next day) changes nothing; values
    // that differ from the model's are a `set`.
    json changed = json::object();
    const Params& now = existing.last ? existing.last->params : existing.segments.back()->params;
    for (const auto& [name, value] : babysit_values(config.study.space, given, {}))
      if (!now.count(name) || now.at(name) != value) changed[name] = given[name];
    if (!changed.empty()) {
      babysit_values(config.study.space, changed, fixed);
      const BabysitControl c = make_babysit_control("set", changed);
      storage->set_study_attr(study.record().id, babysit_control_key(c), babysit_control_json(c));
      fmt::print(stderr, "caviar: --set on a model that exists: set {} from the next checkpoint\n",
                 assignments_text(changed));
    }
    const std::int64_t at = existing.head ? babysit_lineage_of(*existing.head)->value("stop", 0) : 0;
    fmt::print(stderr, "caviar: babysitting study '{}': continuing the model from step {} (trial #{})\n",
               config.study.name, at, existing.head ? existing.head->number : existing.segments.back()->number);
  } else {
    if (auto best = study.best()) {
      setup.first = best->params;
      setup.origin = fmt::format("the best trial, #{}", best->number);
    } else {
      auto sampler = make_sampler(config.study.sampler);
      SampleContext context{config.study.space, history, static_cast<int>(history.size()), direction, {}};
      auto params = sampler->suggest(context);
      if (!params) throw UsageError("babysit", "the sampler has no values to start from; give them with --set");
      setup.first = std::move(*params);
      setup.origin = fmt::format("the {} sampler's first suggestion", config.study.sampler.name);
    }
    const Params values = babysit_values(config.study.space, given, {});
    for (const auto& [name, value] : values) setup.first[name] = value;
    if (!given.empty()) setup.origin += ", with " + assignments_text(given);
    fmt::print(stderr, "caviar: babysitting study '{}': a new model from {}, {} steps, a checkpoint every {}\n",
               config.study.name, setup.origin, options.max_steps, options.interval);
  }
  if (options.auto_apply) fmt::print(stderr, "caviar: --auto: caviar's suggestions are applied as they come\n");
  fmt::print(stderr, "caviar: steer it from another terminal: caviar babysit set|rollback|pause|resume|stop|status {}\n",
             a.config);

  std::optional<BabysitDecision> ended;
  setup.on_decision = [&](const BabysitDecision& d) {
    if (d.kind == BabysitDecision::Kind::Paused) fmt::print(stderr, "caviar: {}\n", d.message);
    else ended = d;
  };
  std::unique_ptr<Dashboard> dashboard;
  if (a.dashboard) {
    dashboard = start_dashboard(config, storage, a.dashboard_port);
    fmt::print(stderr, "caviar: dashboard of study '{}': {}\n", config.study.name, dashboard->url(study.record().id));
  }

  TuneOptions tune;
  tune.parallel = 1;
  tune.trial_root = config.trial_root;
  tune.source = make_babysit_source(setup);
  if (!a.quiet)
    tune.on_progress = [&](const TuneProgress& p) {
      if (p.finished.empty()) return;
      const std::vector<TrialRecord> now = study.trials();
      const BabysitRun run = babysit_run(now);
      for (const TrialRecord& f : p.finished)
        for (const TrialRecord* t : run.segments)
          if (t->number == f.number) print_segment(*t, run, metric, direction, options.max_steps);
      if (!options.auto_apply)
        if (auto s = babysit_suggest(config.study.space, direction, options, run, metric))
          fmt::print(stderr, "  caviar suggests: {}\n  (accept: caviar babysit accept {})\n", s->words, a.config);
    };
  Tuner tuner(study, *executor, tune);
  TuneSummary summary;
  {
    StopOnSignals signals([&] { study.stop(); }, [&] { study.storage().stop_waiting(); });
    summary = tuner.run();
  }
  const std::vector<TrialRecord> trials = study.trials();
  const BabysitRun run = babysit_run(trials);  // points into `trials`
  const json tree = babysit_tree(trials, storage->find_study(config.study.name)->system_attrs, direction);
  if (run.head) {
    fmt::print("model of study '{}': step {}, trial #{}, {} = {:.6g}\n", config.study.name,
               babysit_lineage_of(*run.head)->value("stop", 0), run.head->number, metric,
               run.head->value.value_or(NAN));
    fmt::print("  its checkpoint: {}\n", run.head->system_attrs.value(attr::kCheckpointDir, std::string("-")));
  }
  print_best_day(tree);
  if (summary.interrupted || study.stopping()) {
    fmt::print(stderr, "caviar: stopped; `caviar babysit {}` continues from the last checkpoint\n", a.config);
    exit_code() = 130;
    return;
  }
  if (!ended) return;
  switch (ended->kind) {
    case BabysitDecision::Kind::Busy: throw UsageError("babysit", ended->message);
    case BabysitDecision::Kind::Failed:
      fmt::print(stderr, "caviar: {}\n", ended->message);
      exit_code() = 1;
      return;
    default: fmt::print(stderr, "caviar: {}\n", ended->message);
  }
}

// ---- caviar babysit set|rollback|pause|resume|stop|suggest|accept|status STUDY ----

struct ControlArgs {
  std::string study;  // a config file, or a study's name (with --storage)
  std::string storage;
  std::vector<std::string> values;
  std::optional<long long> to;
  std::string format = "table";
};

struct Opened {
  OpenedStudy study;
  std::vector<TrialRecord> trials;
  SearchSpace space;
  std::string metric;
  std::vector<std::string> fixed;
  BabysitOptions options;
};

Opened open_babysat(const ControlArgs& a) {
  OpenedStudy opened = open_existing_study(location_of(a.study, a.storage));
  std::vector<TrialRecord> trials = opened.view.trials();
  SearchSpace space = opened.view.space(trials);
  Opened out{std::move(opened), std::move(trials), std::move(space), "value", {}, {}};
  if (out.study.config) {
    out.metric = out.study.config->metric;
    out.fixed = fixed_during_training(*out.study.config);
    const json section = out.study.config->raw.value("babysit", json::object());
    if (section.is_object()) out.options.lr = section.value("lr", std::string());
  }
  if (babysit_run(out.trials).segments.empty())
    throw UsageError("study '" + out.study.view.name() + "'",
                     "no model is babysat in it yet; start one with `caviar babysit CONFIG`");
  return out;
}

void store(const Opened& o, const BabysitControl& c) {
  o.study.view.storage().set_study_attr(o.study.view.record().id, babysit_control_key(c), babysit_control_json(c));
  const BabysitRun run = babysit_run(o.trials);
  const TrialRecord* latest = run.segments.back();
  std::string when = "when `caviar babysit` next starts";
  if (latest->state == TrialState::Running)
    when = fmt::format("at the end of the running segment #{} (step {})", latest->number,
                       babysit_lineage_of(*latest)->value("stop", 0));
  std::string what = c.action;
  if (c.action == "rollback") what += fmt::format(" to step {}", *c.to);
  if (!c.params.empty()) what += " " + assignments_text(c.params);
  fmt::print("stored: {} (study '{}'); it applies {}\n", what, o.study.view.name(), when);
}

void control(const std::string& action, const ControlArgs& a) {
  const Opened o = open_babysat(a);
  const BabysitControl c = make_babysit_control(action, parse_assignments(a.values, action), a.to);
  babysit_check(o.space, babysit_run(o.trials), c, o.fixed);
  store(o, c);
}

void print_suggestion(const ControlArgs& a, bool accept) {
  const Opened o = open_babysat(a);
  const BabysitRun run = babysit_run(o.trials);
  const auto s = babysit_suggest(o.space, o.study.view.direction(), o.options, run, o.metric);
  if (!s) {
    fmt::print("no suggestion: the curve gives no reason to change anything yet\n");
    return;
  }
  fmt::print("caviar suggests: {}\n", s->words);
  if (accept) store(o, make_babysit_control(s->to ? "rollback" : "set", s->params, s->to, "suggestion", s->words));
  else fmt::print("accept it: caviar babysit accept {}\n", a.study);
}

void status(const ControlArgs& a) {
  const Opened o = open_babysat(a);
  const json tree = babysit_tree(o.trials, o.study.view.record().system_attrs, o.study.view.direction());
  if (a.format == "json") {
    fmt::print("{}\n", tree.dump(2));
    return;
  }
  fmt::print("{}", babysit_tree_table(tree));
  const BabysitRun run = babysit_run(o.trials);
  fmt::print("\ncurves of the current branch (to step {}):\n", run.curve.empty() ? 0 : run.curve.back().step);
  print_curves(stdout, run, o.metric, o.study.view.direction());
  for (const json& c : tree["controls"])
    if (c["waiting"].get<bool>())
      fmt::print("waiting: {}{} {} (given {})\n", c["action"].get<std::string>(),
                 c["to"].is_null() ? "" : fmt::format(" to step {}", c["to"].dump()), assignments_text(c["params"]),
                 c["time"].get<std::string>());
  if (tree["paused_since"].is_string())
    fmt::print("paused since {} (caviar babysit resume {})\n", tree["paused_since"].get<std::string>(), a.study);
  print_best_day(tree);
  if (auto s = babysit_suggest(o.space, o.study.view.direction(), o.options, run, o.metric))
    fmt::print("caviar suggests: {} (caviar babysit accept {})\n", s->words, a.study);
}

CommandRegistrar registrar(12, [](CLI::App& app) {
  auto r = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("babysit", "Train one model a segment at a time, watched and steered by hand");
  cmd->footer(
      "Trains one model (the built-in trainer, or a command that follows the checkpoint protocol,\n"
      "docs/protocol.md) from the values given, else the study's best trial, else the sampler's\n"
      "first suggestion, with a checkpoint every --interval steps. From another terminal:\n"
      "  caviar babysit set CONFIG lr=3e-4           new values from the next checkpoint on\n"
      "  caviar babysit rollback CONFIG --to 5 [lr=1e-4]   continue from step 5's checkpoint\n"
      "  caviar babysit pause|resume|stop CONFIG\n"
      "  caviar babysit suggest|accept CONFIG        caviar's reading of the curve\n"
      "  caviar babysit status CONFIG                the tree of segments, the curves, the best day\n"
      "Run again, it continues from the last checkpoint (raise --epochs to train on).");
  cmd->add_option("config", r->config, "The study's config file (YAML)")->check(CLI::ExistingFile);
  cmd->add_option("--set", r->set, "Values to start with (or to set on a model that exists), name=value ...");
  cmd->add_option("--epochs", r->epochs, "Train up to this step (default: babysit.epochs, or the trainer's epochs)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--interval", r->interval, "Steps per segment: a checkpoint, and a chance to steer, after each")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--budget", r->budget,
                  "Stop once the model has trained this many steps in all (every branch: the steps a rollback "
                  "leaves behind count too)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--auto", r->auto_apply, "Apply caviar's suggestions as they come");
  cmd->add_option("--lr-param", r->lr, "The learning-rate parameter (default: lr, learning_rate, alpha or eta)");
  cmd->add_option("--study", r->study, "Study name (overrides the config's)");
  cmd->add_option("--storage", r->storage, "Storage URL (overrides the config's)");
  cmd->add_flag("--quiet,-q", r->quiet, "No progress output");
  cmd->add_flag("--dashboard", r->dashboard, "Serve the study's live pages while it runs and print their URL");
  cmd->add_option("--dashboard-port", r->dashboard_port, "The dashboard's port on 127.0.0.1 (taken: any free port)")
      ->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->callback([cmd, r] {
    if (!cmd->get_subcommands().empty()) return;
    if (r->config.empty()) throw UsageError("babysit", "give the study's config file: caviar babysit CONFIG");
    run_babysit(*r);
  });

  auto add = [&](const std::string& name, const std::string& help, bool values, bool to) {
    auto a = std::make_shared<ControlArgs>();
    auto* sub = cmd->add_subcommand(name, help);
    sub->add_option("study", a->study, "The study: its config file, or its name (with --storage)")->required();
    sub->add_option("--storage", a->storage, "Storage URL (with a study name)");
    if (values) sub->add_option("values", a->values, "name=value ...")->required(name == "set");
    if (to) sub->add_option("--to", a->to, "The step whose checkpoint to continue (0: from scratch)")->required()
                ->check(CLI::NonNegativeNumber);
    return std::make_pair(sub, a);
  };
  for (const char* action : {"set", "rollback", "pause", "resume", "stop"}) {
    const std::string name = action;
    const char* help = name == "set"        ? "New values, from the model's next checkpoint on"
                       : name == "rollback" ? "Continue from an earlier checkpoint (a new branch), with new values"
                       : name == "pause"    ? "Pause after the running segment"
                       : name == "resume"   ? "Resume a paused model"
                                            : "Stop the running babysitter after its segment";
    auto [sub, a] = add(name, help, name == "set" || name == "rollback", name == "rollback");
    sub->callback([name, a] { control(name, *a); });
  }
  {
    auto [sub, a] = add("suggest", "What caviar reads in the curve and would change", false, false);
    sub->callback([a] { print_suggestion(*a, false); });
  }
  {
    auto [sub, a] = add("accept", "Apply caviar's suggestion at the next checkpoint", false, false);
    sub->callback([a] { print_suggestion(*a, true); });
  }
  {
    auto [sub, a] = add("status", "The model's segments as a tree, its curves and its best day", false, false);
    add_format_option(sub, a->format);
    sub->callback([a] { status(*a); });
  }
});

}  // namespace
}  // namespace caviar::cli
