// Babysitting one model: the controls, the run as stored, the suggestions and the next
// segment. See include/caviar/babysit.h.
#include "caviar/babysit.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include <fmt/core.h>

#include "base/format.h"
#include "caviar/attributes.h"
#include "caviar/error.h"
#include "caviar/pbt.h"

namespace caviar {
namespace {

constexpr const char* kActions[] = {"set", "rollback", "pause", "resume", "stop"};

std::optional<double> number_at(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

std::optional<int> lineage_trial(const json& lineage, const char* key) {
  auto it = lineage.find(key);
  if (it == lineage.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int>();
}

// A failure caviar caused (the babysitter was stopped or died): the segment runs again.
bool caviar_failed(const TrialRecord& t) { return t.state == TrialState::Failed && !t.counted(); }

// The steps of one complete segment.
void add_points(const TrialRecord& t, std::vector<BabysitPoint>& out) {
  const json& lineage = *babysit_lineage_of(t);
  const std::int64_t start = lineage_int(lineage, "step"), stop = lineage_int(lineage, "stop");
  std::map<std::int64_t, json> extra;  // step -> {train_loss, ...}
  if (auto e = t.system_attrs.find(attr::kEpochs); e != t.system_attrs.end() && e->is_array())
    for (const json& row : *e)
      if (row.is_object() && row.contains("epoch") && row["epoch"].is_number_integer())
        extra[row["epoch"].get<std::int64_t>()] = row;
  if (auto m = t.system_attrs.find(attr::kMetrics); m != t.system_attrs.end() && m->is_object())
    for (const auto& [step, row] : m->items()) {
      try {
        if (row.is_object()) extra[std::stoll(step)].update(row);
      } catch (const std::exception&) {
      }
    }
  const std::string ended = t.finished ? detail::format_time(*t.finished, true) : "";
  for (std::int64_t s = start + 1; s <= stop; ++s) {
    BabysitPoint p;
    p.step = s;
    p.trial = t.number;
    p.time = ended;
    if (auto it = t.intermediate.find(s); it != t.intermediate.end() && std::isfinite(it->second)) p.value = it->second;
    if (auto it = extra.find(s); it != extra.end()) {
      p.train_loss = number_at(it->second, "train_loss");
      p.val_loss = number_at(it->second, "val_loss");
      p.val_acc = number_at(it->second, "val_acc");
    }
    if (s == stop) p.test_acc = segment_test_acc(t);
    if (p.value || p.train_loss || p.val_loss || p.val_acc) out.push_back(p);
  }
}

// The learning-rate parameter: options.lr, or the first float with a usual name.
const Parameter* lr_parameter(const SearchSpace& space, const BabysitOptions& options) {
  if (!options.lr.empty()) return space.find(options.lr);
  for (const char* name : {"lr", "learning_rate", "alpha", "eta"})
    if (const Parameter* p = space.find(name); p && p->type == ParamType::Float) return p;
  return nullptr;
}

// A value in a suggestion's words: 4 significant digits.
std::string value_text(double v) { return fmt::format("{:.4g}", v); }

// A nudged float rounded to 3 significant digits (0.0167, not 0.016666666666666666), kept
// inside its range; ints and stepped values are on their grid already.
double three_digits(const Parameter& p, double x) {
  if (p.type != ParamType::Float || p.step || x == 0 || !std::isfinite(x)) return x;
  const double scale = std::pow(10.0, 2 - std::floor(std::log10(std::abs(x))));
  return std::clamp(std::round(x * scale) / scale, p.low, p.high);
}

// {name: [old, new]} in user values, for the names whose values differ.
json changes_between(const SearchSpace& space, const Params& before, const Params& after) {
  json out = json::object();
  for (const auto& p : space.params()) {
    auto a = before.find(p.name), b = after.find(p.name);
    const bool had = a != before.end(), has = b != after.end();
    if (!had && !has) continue;
    if (had && has && a->second == b->second) continue;
    out[p.name] = {had ? p.external(a->second) : json(nullptr), has ? p.external(b->second) : json(nullptr)};
  }
  return out;
}

}  // namespace

// ---- Controls ----

BabysitControl make_babysit_control(const std::string& action, json params, std::optional<std::int64_t> to,
                                    const std::string& by, const std::string& note) {
  if (std::find(std::begin(kActions), std::end(kActions), action) == std::end(kActions))
    throw UsageError(action, "not a babysitting action (set, rollback, pause, resume, stop)");
  if (!params.is_object()) throw UsageError(action, "the values must be a mapping of name to value");
  if (action == "set" && params.empty()) throw UsageError("set", "set what? give name=value, e.g. lr=3e-4");
  if (action == "rollback" && (!to || *to < 0)) throw UsageError("rollback", "needs --to STEP (0 or more)");
  BabysitControl c;
  const auto now = std::chrono::system_clock::now();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  std::random_device device;
  c.id = fmt::format("{:020d}-{:08x}", static_cast<long long>(ns), device());
  c.action = action;
  c.params = std::move(params);
  c.to = to;
  c.time = detail::format_time(now, true);
  c.by = by;
  c.note = note;
  return c;
}

std::string babysit_control_key(const BabysitControl& control) {
  return std::string(attr::kBabysitControl) + control.id;
}

json babysit_control_json(const BabysitControl& c) {
  return {{"id", c.id},     {"action", c.action}, {"params", c.params}, {"to", c.to ? json(*c.to) : json(nullptr)},
          {"time", c.time}, {"by", c.by},         {"note", c.note}};
}

std::vector<BabysitControl> babysit_controls(const json& attrs) {
  std::vector<BabysitControl> out;
  if (!attrs.is_object()) return out;
  const std::string prefix = attr::kBabysitControl;
  for (auto it = attrs.begin(); it != attrs.end(); ++it) {
    if (it.key().rfind(prefix, 0) != 0) continue;
    const json& v = it.value();
    if (!v.is_object() || !v.contains("action") || !v["action"].is_string()) continue;
    BabysitControl c;
    c.id = it.key().substr(prefix.size());
    c.action = v["action"].get<std::string>();
    if (std::find(std::begin(kActions), std::end(kActions), c.action) == std::end(kActions)) continue;
    c.params = v.value("params", json::object());
    if (!c.params.is_object()) continue;
    if (v.contains("to") && v["to"].is_number_integer()) c.to = v["to"].get<std::int64_t>();
    if (c.action == "rollback" && !c.to) continue;
    c.time = v.value("time", "");
    c.by = v.value("by", "");
    c.note = v.value("note", "");
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::optional<std::string> babysit_paused_since(const std::vector<BabysitControl>& controls) {
  std::optional<std::string> since;
  for (const auto& c : controls) {
    if (c.action == "pause") since = c.time;
    else if (c.action == "resume") since.reset();
  }
  return since;
}

const BabysitControl* babysit_stop_after(const std::vector<BabysitControl>& controls, const std::string& started) {
  for (const auto& c : controls)
    if (c.action == "stop" && c.id > started) return &c;
  return nullptr;
}

Params babysit_values(const SearchSpace& space, const json& params, const std::vector<std::string>& fixed) {
  Params out;
  for (const auto& [name, value] : params.items()) {
    const Parameter* p = space.find(name);
    if (!p) throw UsageError(name, "not a parameter of the study");
    if (std::find(fixed.begin(), fixed.end(), name) != fixed.end())
      throw UsageError(name, "cannot change during training: a checkpoint fits one network and optimizer");
    out[name] = p->internal(value);
  }
  return out;
}

// ---- The run ----

std::optional<double> segment_test_acc(const TrialRecord& t) {
  if (auto v = number_at(t.system_attrs, attr::kTestAcc)) return v;
  const auto m = t.last_metrics();
  for (const char* key : {"test_acc", "test_accuracy"})
    if (auto it = m.find(key); it != m.end() && std::isfinite(it->second)) return it->second;
  return std::nullopt;
}

const json* babysit_lineage_of(const TrialRecord& trial) {
  auto it = trial.system_attrs.find(attr::kBabysit);
  return it != trial.system_attrs.end() && it->is_object() ? &*it : nullptr;
}

BabysitRun babysit_run(const std::vector<TrialRecord>& history) {
  BabysitRun run;
  std::map<int, const TrialRecord*> by_number;
  for (const auto& t : history)
    if (babysit_lineage_of(t)) by_number[t.number] = &t;
  for (const auto& [number, t] : by_number) {
    run.segments.push_back(t);
    if (!caviar_failed(*t)) run.last = t;
  }
  // The head: the last complete segment on the branch of the last segment that counts.
  for (const TrialRecord* t = run.last; t;) {
    if (t->state == TrialState::Complete) {
      run.head = t;
      break;
    }
    auto restore = lineage_trial(*babysit_lineage_of(*t), "restore_trial");
    auto it = restore ? by_number.find(*restore) : by_number.end();
    t = it == by_number.end() ? nullptr : it->second;
  }
  for (const TrialRecord* t = run.head; t;) {
    run.path.push_back(t);
    auto restore = lineage_trial(*babysit_lineage_of(*t), "restore_trial");
    auto it = restore ? by_number.find(*restore) : by_number.end();
    t = it == by_number.end() || it->second->state != TrialState::Complete ? nullptr : it->second;
  }
  std::reverse(run.path.begin(), run.path.end());
  for (const TrialRecord* t : run.path) add_points(*t, run.curve);
  return run;
}

const TrialRecord* babysit_checkpoint_at(const BabysitRun& run, std::int64_t step) {
  if (step == 0) return nullptr;
  std::string steps;
  for (const TrialRecord* t : run.path) {
    const std::int64_t stop = lineage_int(*babysit_lineage_of(*t), "stop");
    if (stop == step) return t;
    steps += fmt::format(", {}", stop);
  }
  throw UsageError(fmt::format("rollback --to {}", step),
                   fmt::format("the model's current branch has checkpoints at steps 0{}", steps));
}

void babysit_check(const SearchSpace& space, const BabysitRun& run, const BabysitControl& control,
                   const std::vector<std::string>& fixed) {
  babysit_values(space, control.params, fixed);
  if (control.action == "rollback") babysit_checkpoint_at(run, *control.to);
}

// ---- Suggestions ----

std::optional<BabysitSuggestion> babysit_suggest(const SearchSpace& space, Direction direction,
                                                 const BabysitOptions& options, const BabysitRun& run,
                                                 const std::string& metric) {
  const Parameter* lr = lr_parameter(space, options);
  const TrialRecord* last = run.last;
  if (!last) return std::nullopt;
  const Params& current = last->params;
  auto lower_lr = [&](BabysitSuggestion s, const std::string& why) -> std::optional<BabysitSuggestion> {
    if (!lr || !current.count(lr->name)) return std::nullopt;
    const double from = current.at(lr->name), to = three_digits(*lr, lr->scaled(from, 1.0 / 3.0));
    if (!(to < from)) return std::nullopt;  // already at its lowest
    s.params[lr->name] = lr->external(to);
    s.words = fmt::format("{}: lower {} from {} to {}{}", why, lr->name, value_text(from), value_text(to),
                          s.to ? fmt::format(" and go back to step {}", *s.to) : "");
    return s;
  };
  if (last->state == TrialState::Failed) {
    BabysitSuggestion s{"failed", json::object(), run.head ? lineage_int(*babysit_lineage_of(*run.head), "stop") : 0, ""};
    return lower_lr(s, fmt::format("segment #{} failed ({})", last->number, last->reason_line()));
  }
  if (last->state != TrialState::Complete || run.curve.empty()) return std::nullopt;

  // The steps trained since the last change on this branch.
  std::int64_t changed_at = 0;
  for (const TrialRecord* t : run.path) {
    const json& l = *babysit_lineage_of(*t);
    const std::string origin = l.value("origin", "");
    if (origin != "continue") changed_at = lineage_int(l, "step");
  }
  const auto& curve = run.curve;
  const std::int64_t since = curve.back().step - changed_at;
  if (since < options.patience) return std::nullopt;
  const std::size_t n = curve.size();
  auto good = [&](const BabysitPoint& p) { return direction == Direction::Maximize ? *p.value : -*p.value; };

  // Diverging: the training loss (else the metric, when it is a loss) rose twice.
  std::vector<double> loss;
  for (const auto& p : curve)
    loss.push_back(p.train_loss ? *p.train_loss : p.value && direction == Direction::Minimize ? *p.value : NAN);
  if (n >= 3 && std::isfinite(loss[n - 1]) && std::isfinite(loss[n - 2]) && std::isfinite(loss[n - 3]) &&
      loss[n - 1] > loss[n - 2] && loss[n - 2] > loss[n - 3]) {
    double lowest = INFINITY;
    for (double l : loss)
      if (std::isfinite(l)) lowest = std::min(lowest, l);
    if (loss[n - 1] > 1.25 * lowest) {
      const BabysitPoint* best = nullptr;
      for (const auto& p : curve)
        if (p.value && (!best || good(p) > good(*best))) best = &p;
      BabysitSuggestion s{"diverging", json::object(), std::nullopt, ""};
      // Back to the best step's checkpoint, if a segment ended there.
      if (best)
        for (const TrialRecord* t : run.path)
          if (lineage_int(*babysit_lineage_of(*t), "stop") == best->step && t != last) s.to = best->step;
      if (auto out = lower_lr(s, fmt::format("the training loss rises ({:.4g} -> {:.4g} -> {:.4g} over steps {}-{})",
                                            loss[n - 3], loss[n - 2], loss[n - 1], curve[n - 3].step, curve[n - 1].step)))
        return out;
    }
  }

  // Has the metric improved in the last `patience` steps?
  const std::size_t window = static_cast<std::size_t>(std::min<std::int64_t>(options.patience, since));
  std::optional<double> before, recent;
  std::int64_t best_step = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!curve[i].value) continue;
    const double g = good(curve[i]);
    auto& slot = i + window < n ? before : recent;
    if (!slot || g > *slot) {
      slot = g;
      if (&slot == &before) best_step = curve[i].step;
    }
  }
  if (!before || !recent) return std::nullopt;
  const bool improved = *recent > *before + 1e-3 * std::max(std::abs(*before), 1e-12);
  if (improved) return std::nullopt;

  // Overfitting: validation loss up, training loss down, over the window.
  const auto& a = curve[n - 1 - window];
  const auto& b = curve[n - 1];
  if (a.val_loss && b.val_loss && a.train_loss && b.train_loss && *b.val_loss > *a.val_loss &&
      *b.train_loss < *a.train_loss) {
    for (const char* name : {"weight_decay", "l2", "dropout"}) {
      const Parameter* p = space.find(name);
      if (!p || p->type == ParamType::Choice || !current.count(name)) continue;
      const double from = current.at(name);
      const double to = three_digits(*p, std::string(name) == "dropout" ? std::clamp(from + 0.1, p->low, p->high)
                                                                      : p->scaled(from, 3.0));
      if (!(to > from)) continue;
      BabysitSuggestion s{"overfitting", {{name, p->external(to)}}, std::nullopt, ""};
      s.words = fmt::format("the validation loss rises ({:.4g} -> {:.4g}) while the training loss falls "
                            "({:.4g} -> {:.4g}): more regularisation, {} from {} to {}",
                            *a.val_loss, *b.val_loss, *a.train_loss, *b.train_loss, name, value_text(from),
                            value_text(to));
      return s;
    }
  }
  const double shown = direction == Direction::Maximize ? *before : -*before;
  // Restart: the branch began at step 0 with a learning rate at least 8 times the one it
  // has now (lowered twice or more), and half the steps are still to come. The first
  // steps trained with a rate far too high; a model trained from the start with the rate
  // that works does better than one that carries them (issue 31's measurement,
  // docs/babysit.md), so start over with it rather than lower it again.
  const TrialRecord* root = run.path.front();
  const json& root_lineage = *babysit_lineage_of(*root);
  if (lr && lineage_int(root_lineage, "step") == 0 && root->params.count(lr->name) && current.count(lr->name) &&
      root->params.at(lr->name) >= 8 * current.at(lr->name) && 2 * curve.back().step <= options.max_steps) {
    BabysitSuggestion s{"restart", {{lr->name, lr->external(current.at(lr->name))}}, 0, ""};
    s.words = fmt::format("{} has not improved for {} steps, and its first steps ran at {} {}, {:.3g} times the {} "
                          "it has now: start over from step 0 with {} {}",
                          metric, window, lr->name, value_text(root->params.at(lr->name)),
                          root->params.at(lr->name) / current.at(lr->name), value_text(current.at(lr->name)),
                          lr->name, value_text(current.at(lr->name)));
    return s;
  }
  return lower_lr(BabysitSuggestion{"plateau", json::object(), std::nullopt, ""},
                  fmt::format("{} has not improved for {} steps (best {:.4g} at step {})", metric, window, shown,
                              best_step));
}

// ---- The next segment ----

BabysitDecision babysit_next(const SearchSpace& space, Direction direction, const BabysitOptions& options,
                             const std::vector<TrialRecord>& history, const std::vector<BabysitControl>& controls,
                             const std::string& started, const Params& first, const std::string& origin,
                             const std::string& metric, const std::vector<std::string>& fixed) {
  using Kind = BabysitDecision::Kind;
  BabysitDecision out;
  const BabysitRun run = babysit_run(history);
  std::map<int, const TrialRecord*> by_number;
  int branches = 0;
  std::set<std::string> applied;
  for (const TrialRecord* t : run.segments) {
    by_number[t->number] = t;
    const json& l = *babysit_lineage_of(*t);
    branches = std::max<int>(branches, static_cast<int>(lineage_int(l, "branch")) + 1);
    if (auto c = l.find("controls"); c != l.end() && c->is_array())
      for (const json& id : *c)
        if (id.is_string()) applied.insert(id.get<std::string>());
  }
  auto checkpoint_of = [&](int number) {
    auto it = by_number.find(number);
    std::string dir = it == by_number.end() ? "" : it->second->system_attrs.value(attr::kCheckpointDir, "");
    return dir.empty() ? fmt::format("(trial #{} has no checkpoint folder)", number) : dir;
  };

  if (!run.segments.empty()) {
    const TrialRecord* latest = run.segments.back();
    if (latest->state == TrialState::Running || latest->state == TrialState::Waiting) {
      out.kind = Kind::Busy;
      out.message = fmt::format("segment #{} of this model is running (another babysitter, or one that died less "
                                "than a minute ago: caviar fails it as stale then)", latest->number);
      return out;
    }
    if (caviar_failed(*latest)) {  // the same segment again: same values, same checkpoint
      out.params = latest->params;
      out.lineage = *babysit_lineage_of(*latest);
      out.lineage["rerun_of"] = latest->number;
      if (auto r = lineage_trial(out.lineage, "restore_trial")) out.restore_source = checkpoint_of(*r);
      return out;
    }
  }

  // The controls: a stop given since we started, the pause in force, and the sets and
  // rollbacks not yet applied, in order.
  if (const BabysitControl* stop = babysit_stop_after(controls, started)) {
    out.kind = Kind::Stopped;
    out.message = fmt::format("stopped by `babysit stop` ({}, {})", stop->time, stop->by);
    return out;
  }
  if (babysit_paused_since(controls)) {
    out.kind = Kind::Paused;
    out.message = kBabysitPaused;
    return out;
  }
  std::vector<const BabysitControl*> pending;
  for (const auto& c : controls)
    if ((c.action == "set" || c.action == "rollback") && !applied.count(c.id)) pending.push_back(&c);

  const TrialRecord* last = run.last;
  const TrialRecord* restore = run.head;
  Params params = last ? last->params : first;
  std::string how = last ? "continue" : "start";
  std::string note = last ? "" : origin;
  std::optional<int> branch;
  json ids = json::array();
  json rejected = json::array();
  for (const BabysitControl* c : pending) {
    ids.push_back(c->id);
    try {
      const Params values = babysit_values(space, c->params, fixed);
      if (c->action == "rollback") {
        const TrialRecord* at = babysit_checkpoint_at(run, *c->to);
        // Back to that checkpoint with the values it was trained with (the branch's
        // first values for step 0), then the ones given.
        restore = at;
        params = at ? at->params : run.path.empty() ? params : run.path.front()->params;
        branch = branches;
        how = "rollback";
      } else if (how != "rollback") {
        how = c->by == "suggestion" ? "suggestion" : "set";
      }
      for (const auto& [name, value] : values) params[name] = value;
      note = c->note;  // the last control's words (an accepted suggestion's), or none
    } catch (const UsageError& e) {
      rejected.push_back({{"id", c->id}, {"why", e.what()}});  // handled: it will not apply later either
    }
  }
  if (pending.empty() && last && options.auto_apply) {
    if (auto s = babysit_suggest(space, direction, options, run, metric)) {
      for (const auto& [name, value] : babysit_values(space, s->params, fixed)) params[name] = value;
      note = s->words;
      how = "auto";
      if (s->to) {  // back to that step's checkpoint (step 0: from scratch)
        restore = babysit_checkpoint_at(run, *s->to);
        branch = branches;
      }
    }
  }
  if (last && how == "continue" && last->state != TrialState::Complete) {
    out.kind = Kind::Failed;
    out.message = fmt::format("segment #{} failed: {}. Change something first (`caviar babysit set` or `rollback`), "
                              "then start again{}",
                              last->number, last->reason_line(), options.auto_apply ? "" : " (or use --auto)");
    return out;
  }
  const std::int64_t step = restore ? lineage_int(*babysit_lineage_of(*restore), "stop") : 0;
  if (step >= options.max_steps) {
    out.kind = Kind::Done;
    out.message = fmt::format("trained to step {} (--epochs {}); raise --epochs to train on", step, options.max_steps);
    return out;
  }
  // The steps trained in all: every segment but the ones caviar failed (their reruns count).
  std::int64_t trained = 0;
  for (const TrialRecord* t : run.segments)
    if (!caviar_failed(*t))
      trained += lineage_int(*babysit_lineage_of(*t), "stop") - lineage_int(*babysit_lineage_of(*t), "step");
  if (options.budget > 0 && trained >= options.budget) {
    out.kind = Kind::Done;
    out.message = fmt::format("trained {} steps in all, the budget (--budget {}); the model stands at step {}", trained,
                              options.budget, step);
    return out;
  }
  std::int64_t stop = std::min(step + options.interval, options.max_steps);
  if (options.budget > 0) stop = std::min(stop, step + options.budget - trained);
  const Params before = last ? last->params : first;
  out.params = params;
  out.lineage = {{"segment", static_cast<int>(run.segments.size())},
                 {"step", step},
                 {"stop", stop},
                 {"branch", branch ? *branch : last ? lineage_int(*babysit_lineage_of(*last), "branch") : 0},
                 {"parent_trial", last ? json(last->number) : json(nullptr)},
                 {"restore_trial", restore ? json(restore->number) : json(nullptr)},
                 {"changes", last ? changes_between(space, before, params) : json::object()},
                 {"origin", how},
                 {"controls", ids},
                 {"rejected", rejected},
                 {"note", note},
                 {"rerun_of", nullptr}};
  if (restore) out.restore_source = checkpoint_of(restore->number);
  return out;
}

}  // namespace caviar
