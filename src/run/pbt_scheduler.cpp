// Population Based Training (Jaderberg et al. 2017): the decision (exploit, explore), the
// scheduler that turns the stored history into the next segment trial, the lineage view,
// and the Tuner's set-up and checks around a segment. See include/caviar/pbt.h.
#include "caviar/pbt.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/export.h"
#include "caviar/study.h"
#include "core/format.h"
#include "core/random.h"
#include "run/pbt_scheduler.h"

namespace caviar {
namespace {

namespace fs = std::filesystem;

constexpr const char* kLineageAttr = "caviar:pbt";

// ---- Options ----

constexpr int kMaxPopulation = 10'000;

std::int64_t whole_number(const json& v, const std::string& where, std::int64_t min) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < min || v.get<std::int64_t>() > 1'000'000'000)
    throw ConfigError(where, fmt::format("must be a whole number >= {}, got {}", min, v.dump()));
  return v.get<std::int64_t>();
}

double number(const json& v, const std::string& where) {
  if (!v.is_number() || !std::isfinite(v.get<double>()))
    throw ConfigError(where, "must be a number, got " + v.dump());
  return v.get<double>();
}

// ---- Lineage attributes ----

const json* lineage_of(const TrialRecord& t) {
  auto it = t.system_attrs.find(kLineageAttr);
  return it != t.system_attrs.end() && it->is_object() && it->contains("member") ? &*it : nullptr;
}

std::int64_t attr_int(const json& j, const char* key, std::int64_t fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

json number_or_null(const std::optional<int>& v) { return v ? json(*v) : json(nullptr); }

std::uint64_t decision_seed(std::uint64_t seed, int member, std::int64_t segment) {
  return detail::mix64(detail::mix64(seed, static_cast<std::uint64_t>(member)),
                       static_cast<std::uint64_t>(segment));
}

// ---- Explore ----

// x times f on the parameter's scale, clamped, on its grid.
double perturb(const Parameter& p, double x, double f) {
  double y = x;
  switch (p.scale) {
    case Scale::Linear:
    case Scale::Log: y = x * f; break;
    case Scale::ReverseLog: y = 1.0 - (1.0 - x) * f; break;
    case Scale::Logit: {
      const double odds = x / (1.0 - x) * f;
      y = odds / (1.0 + odds);
      break;
    }
  }
  if (!std::isfinite(y)) y = x;
  const double grid = p.step.value_or(p.type == ParamType::Int ? 1.0 : 0.0);
  if (grid > 0) {
    const double last = std::round((p.high - p.low) / grid);
    const double from = std::round((x - p.low) / grid);
    double k = std::clamp(std::round((y - p.low) / grid), 0.0, last);
    if (k == from && y != x) k = std::clamp(from + (y > x ? 1.0 : -1.0), 0.0, last);
    y = k == last ? p.high : p.low + k * grid;
  }
  return std::clamp(y, p.low, p.high);
}

json user_value(const Parameter& p, const Params& params) {
  auto it = params.find(p.name);
  return it == params.end() ? json(nullptr) : p.external(it->second);
}

}  // namespace

PbtOptions pbt_options_from_json(const json& sc, const SearchSpace& space) {
  if (!sc.is_object())
    throw ConfigError("scheduler", "expected a mapping such as {name: pbt, population: 8, interval: 1, max_steps: 10}");
  static const std::vector<std::string> keys = {"name", "population", "interval", "max_steps", "quantile",
                                                "resample_probability", "factors", "explore",
                                                "keep_checkpoints"};
  for (const auto& [key, value] : sc.items()) {
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    const std::string hint = detail::closest(key, keys);
    throw ConfigError("scheduler." + key,
                      "unknown key" + (hint.empty() ? std::string() : "; did you mean '" + hint + "'?"));
  }
  if (!sc.contains("name")) throw ConfigError("scheduler.name", "missing: name the scheduler (pbt)");
  if (!sc["name"].is_string() || sc["name"].get<std::string>() != "pbt")
    throw ConfigError("scheduler.name", "must be pbt (or none), got " + sc["name"].dump());
  PbtOptions o;
  if (sc.contains("population")) {
    // A member is a trial chain the scheduler ranks at every decision: a population of
    // millions would not be trained, only looped over (a billion hung caviar).
    o.population = static_cast<int>(whole_number(sc["population"], "scheduler.population", 2));
    if (o.population > kMaxPopulation)
      throw ConfigError("scheduler.population", fmt::format("at most {}, got {}", kMaxPopulation, o.population));
  }
  if (sc.contains("interval")) o.interval = whole_number(sc["interval"], "scheduler.interval", 1);
  if (!sc.contains("max_steps"))
    throw ConfigError("scheduler.max_steps", "missing: the step (epoch) every member trains to");
  o.max_steps = whole_number(sc["max_steps"], "scheduler.max_steps", 1);
  if (o.interval > o.max_steps)
    throw ConfigError("scheduler.interval",
                      fmt::format("must be at most max_steps ({}), got {}", o.max_steps, o.interval));
  if (sc.contains("quantile")) {
    o.quantile = number(sc["quantile"], "scheduler.quantile");
    if (!(o.quantile > 0 && o.quantile <= 0.5))
      throw ConfigError("scheduler.quantile",
                        fmt::format("must be in (0, 0.5] (the bottom and top fractions may not overlap), got {}",
                                    detail::shortest(o.quantile)));
  }
  if (sc.contains("resample_probability")) {
    o.resample_probability = number(sc["resample_probability"], "scheduler.resample_probability");
    if (!(o.resample_probability >= 0 && o.resample_probability <= 1))
      throw ConfigError("scheduler.resample_probability",
                        fmt::format("must be in [0, 1], got {}", detail::shortest(o.resample_probability)));
  }
  if (sc.contains("keep_checkpoints")) {
    if (!sc["keep_checkpoints"].is_boolean())
      throw ConfigError("scheduler.keep_checkpoints", "must be true or false, got " + sc["keep_checkpoints"].dump());
    o.keep_checkpoints = sc["keep_checkpoints"].get<bool>();
  }
  if (sc.contains("factors")) {
    const json& f = sc["factors"];
    if (!f.is_array() || f.empty())
      throw ConfigError("scheduler.factors", "must be a list of positive numbers, such as [0.8, 1.2]");
    o.factors.clear();
    for (std::size_t i = 0; i < f.size(); ++i) {
      const double v = number(f[i], fmt::format("scheduler.factors[{}]", i));
      if (!(v > 0)) throw ConfigError(fmt::format("scheduler.factors[{}]", i), "must be > 0, got " + f[i].dump());
      o.factors.push_back(v);
    }
  }
  if (sc.contains("explore")) {
    const json& e = sc["explore"];
    if (!e.is_array() || e.empty())
      throw ConfigError("scheduler.explore", "must be a list of parameter names, such as [lr, momentum]");
    std::vector<std::string> names;
    for (const auto& p : space.params()) names.push_back(p.name);
    for (std::size_t i = 0; i < e.size(); ++i) {
      const std::string where = fmt::format("scheduler.explore[{}]", i);
      if (!e[i].is_string()) throw ConfigError(where, "must be a parameter name, got " + e[i].dump());
      const std::string name = e[i].get<std::string>();
      if (!space.find(name)) {
        const std::string hint = detail::closest(name, names);
        throw ConfigError(where, fmt::format("'{}' is not a parameter{}", name,
                                             hint.empty() ? "" : "; did you mean '" + hint + "'?"));
      }
      o.explore.push_back(name);
    }
  }
  return o;
}

// ---- The decision ----

int pbt_quantile_count(int n, double quantile) {
  if (n < 2) return 0;
  const int up = static_cast<int>(std::ceil(quantile * n - 1e-9));
  return std::max(0, std::min(up, n / 2));
}

PbtRank pbt_exploit(const std::vector<PbtScore>& scores, int member, double quantile,
                    Direction direction, std::uint64_t seed) {
  std::vector<PbtScore> ranked = scores;
  std::sort(ranked.begin(), ranked.end(), [&](const PbtScore& a, const PbtScore& b) {
    const bool a_nan = std::isnan(a.value), b_nan = std::isnan(b.value);
    if (a_nan != b_nan) return b_nan;
    if (!a_nan && a.value != b.value) return better(direction, a.value, b.value);
    return a.member < b.member;
  });
  auto at = std::find_if(ranked.begin(), ranked.end(), [&](const PbtScore& s) { return s.member == member; });
  if (at == ranked.end()) throw UsageError(fmt::format("pbt member {}", member), "has no score at this step");
  PbtRank out;
  out.ranked = static_cast<int>(ranked.size());
  out.rank = static_cast<int>(at - ranked.begin()) + 1;
  const int k = pbt_quantile_count(out.ranked, quantile);
  if (k > 0 && out.rank > out.ranked - k) {
    detail::Rng rng(seed);
    out.donor = ranked[rng.below(static_cast<std::uint64_t>(k))].member;
  }
  return out;
}

PbtExplored pbt_explore(const SearchSpace& space, const Params& params, const PbtOptions& options,
                        std::uint64_t seed) {
  detail::Rng rng(seed);
  const auto& all = space.params();
  std::vector<double> prior(all.size());
  Params chosen;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Parameter& p = all[i];
    // Three draws per parameter, always, so that one parameter's fate never shifts another's.
    const double coin = rng.uniform(), pick = rng.uniform();
    prior[i] = rng.uniform();
    auto it = params.find(p.name);
    if (it == params.end()) continue;
    double v = it->second;
    const bool may_change = options.explore.empty() ||
        std::find(options.explore.begin(), options.explore.end(), p.name) != options.explore.end();
    if (may_change) {
      if (coin < options.resample_probability) {
        v = p.from_unit(prior[i]);
      } else if (p.type != ParamType::Choice && !options.factors.empty()) {
        const auto n = options.factors.size();
        const double f = options.factors[std::min(n - 1, static_cast<std::size_t>(pick * static_cast<double>(n)))];
        v = perturb(p, v, f);
      }
    }
    chosen[p.name] = v;
  }
  PbtExplored out;
  out.params = space.from_unit(prior, chosen);  // conditions: new parameters from the prior
  for (const auto& p : all) {
    const auto before = params.find(p.name);
    const auto after = std::as_const(out.params).find(p.name);
    const bool had = before != params.end(), has = after != out.params.end();
    if (had != has || (had && before->second != after->second))
      out.changes[p.name] = json::array({user_value(p, params), user_value(p, out.params)});
  }
  return out;
}

// ---- The scheduler ----

PbtScheduler::PbtScheduler(PbtOptions options, SearchSpace space, Direction direction,
                           const SamplerOptions& sampler, int retry)
    : options_(std::move(options)),
      space_(std::move(space)),
      direction_(direction),
      seed_(sampler.seed),
      retry_(retry),
      sampler_(make_sampler(sampler)) {
  if (options_.population < 2) throw ConfigError("scheduler.population", "must be at least 2");
  if (options_.interval < 1 || options_.max_steps < 1)
    throw ConfigError("scheduler.interval", "interval and max_steps must be at least 1");
}

namespace {

// A member's chain of segment trials, in trial order.
using Chains = std::vector<std::vector<const TrialRecord*>>;

// The complete segment of `member` that ended at `step`, if any: its value is the member's
// score there and its checkpoint the state at that step.
const TrialRecord* ended_at(const Chains& chains, int member, std::int64_t step) {
  for (const TrialRecord* t : chains[static_cast<std::size_t>(member)])
    if (t->state == TrialState::Complete && t->value && attr_int(*lineage_of(*t), "stop") == step) return t;
  return nullptr;
}

}  // namespace

std::optional<PbtSegment> PbtScheduler::next(const std::vector<TrialRecord>& history,
                                             const Params& fixed) const {
  const int population = options_.population;
  Chains chains(static_cast<std::size_t>(population));
  std::map<int, const TrialRecord*> by_number;
  for (const auto& t : history) {
    by_number[t.number] = &t;
    const json* lineage = lineage_of(t);
    if (!lineage) continue;
    const auto member = attr_int(*lineage, "member", -1);
    if (member >= 0 && member < population) chains[static_cast<std::size_t>(member)].push_back(&t);
  }
  for (auto& chain : chains)
    std::sort(chain.begin(), chain.end(), [](auto* a, auto* b) { return a->number < b->number; });

  // The ready members: never started, a segment to continue, or one to run again.
  enum class Kind { First, Rerun, Next };
  struct Ready {
    std::int64_t start = 0;
    int member = 0;
    Kind kind = Kind::First;
    const TrialRecord* last = nullptr;
  };
  std::vector<Ready> ready;
  for (int m = 0; m < population; ++m) {
    const auto& chain = chains[static_cast<std::size_t>(m)];
    Ready r{0, m, Kind::First, nullptr};
    if (!chain.empty()) {
      const TrialRecord* last = chain.back();
      const json& lineage = *lineage_of(*last);
      r.last = last;
      switch (last->state) {
        case TrialState::Running:
        case TrialState::Waiting: continue;  // busy
        case TrialState::Complete:
          if (attr_int(lineage, "stop") >= options_.max_steps) continue;  // done
          r.kind = Kind::Next;
          r.start = attr_int(lineage, "stop");
          break;
        case TrialState::Failed:
          // Uncounted (stale, interrupted): run again. Counted: up to `retry` more attempts.
          if (last->counted() && attr_int(lineage, "attempt", 1) > retry_) continue;  // stopped
          r.kind = Kind::Rerun;
          r.start = attr_int(lineage, "step");
          break;
        case TrialState::Pruned: continue;  // PBT never prunes; a pruned member stops
      }
    }
    ready.push_back(r);
  }
  // Lowest start step first, then the lowest member number.
  std::stable_sort(ready.begin(), ready.end(), [](const Ready& a, const Ready& b) { return a.start < b.start; });

  for (const Ready& r : ready) {
    const int m = r.member;
    PbtSegment out;
    std::optional<int> restore;
    if (r.kind == Kind::First) {
      std::vector<TrialRecord> firsts;  // the sampler's history: every member's first segment
      for (const auto& chain : chains)
        for (const TrialRecord* t : chain)
          if (attr_int(*lineage_of(*t), "segment", -1) == 0) firsts.push_back(*t);
      SampleContext context{space_, firsts, m, direction_, fixed};
      auto params = sampler_->suggest(context);
      if (!params) continue;  // an exhausted grid: this member cannot start
      out.params = std::move(*params);
      out.lineage = {{"member", m},          {"segment", 0},           {"step", 0},
                     {"stop", std::min(options_.interval, options_.max_steps)},
                     {"parent_trial", nullptr}, {"restore_trial", nullptr}, {"donor_trial", nullptr},
                     {"donor_member", nullptr}, {"rank", nullptr},    {"ranked", nullptr},
                     {"changes", json::object()}, {"attempt", 1},     {"rerun_of", nullptr}};
    } else if (r.kind == Kind::Rerun) {
      // The same segment: same parameters, same checkpoint, same decision.
      out.params = r.last->params;
      out.lineage = *lineage_of(*r.last);
      if (r.last->counted()) out.lineage["attempt"] = attr_int(out.lineage, "attempt", 1) + 1;
      out.lineage["rerun_of"] = r.last->number;
      if (out.lineage["restore_trial"].is_number_integer()) restore = out.lineage["restore_trial"].get<int>();
    } else {
      const TrialRecord& last = *r.last;
      const std::int64_t step = r.start;
      const std::int64_t segment = attr_int(*lineage_of(last), "segment") + 1;
      std::vector<PbtScore> scores;
      for (int j = 0; j < population; ++j)
        if (const TrialRecord* t = ended_at(chains, j, step)) scores.push_back({j, *t->value});
      const std::uint64_t seed = decision_seed(seed_, m, segment);
      const PbtRank rank = pbt_exploit(scores, m, options_.quantile, direction_, seed);
      json changes = json::object();
      std::optional<int> donor_trial;
      if (rank.donor) {  // exploit, then explore
        const TrialRecord& donor = *ended_at(chains, *rank.donor, step);
        PbtExplored explored = pbt_explore(space_, donor.params, options_, detail::mix64(seed, 0x5eed));
        out.params = std::move(explored.params);
        changes = std::move(explored.changes);
        donor_trial = donor.number;
        restore = donor.number;
      } else {
        out.params = last.params;
        restore = last.number;
      }
      out.lineage = {{"member", m},
                     {"segment", segment},
                     {"step", step},
                     {"stop", std::min(step + options_.interval, options_.max_steps)},
                     {"parent_trial", last.number},
                     {"restore_trial", number_or_null(restore)},
                     {"donor_trial", number_or_null(donor_trial)},
                     {"donor_member", number_or_null(rank.donor)},
                     {"rank", rank.rank},
                     {"ranked", rank.ranked},
                     {"changes", changes},
                     {"attempt", 1},
                     {"rerun_of", nullptr}};
    }
    if (restore) {
      auto it = by_number.find(*restore);
      if (it != by_number.end()) out.restore_source = it->second->system_attrs.value("caviar:checkpoint_dir", "");
      if (out.restore_source.empty())
        out.restore_source = fmt::format("(trial #{} has no checkpoint folder)", *restore);
    }
    return out;
  }
  return std::nullopt;
}

std::vector<std::string> PbtScheduler::superseded_checkpoints(const std::vector<TrialRecord>& history) const {
  // Where each member stands: the stop of its latest complete segment (0: none yet), or
  // past the end if it stopped for good (its last segment failed more than `retry` times).
  const auto population = static_cast<std::size_t>(options_.population);
  std::vector<std::int64_t> stands(population, 0);
  std::vector<const TrialRecord*> latest(population, nullptr);
  for (const auto& t : history) {
    const json* lineage = lineage_of(t);
    const auto member = lineage ? attr_int(*lineage, "member", -1) : -1;
    if (member < 0 || member >= options_.population) continue;
    const auto m = static_cast<std::size_t>(member);
    if (!latest[m] || t.number > latest[m]->number) latest[m] = &t;
    if (t.state == TrialState::Complete) stands[m] = std::max(stands[m], attr_int(*lineage, "stop"));
  }
  for (std::size_t m = 0; m < population; ++m)
    if (latest[m] && latest[m]->state == TrialState::Failed && latest[m]->counted() &&
        attr_int(*lineage_of(*latest[m]), "attempt", 1) > retry_)
      stands[m] = std::numeric_limits<std::int64_t>::max();
  const std::int64_t slowest = *std::min_element(stands.begin(), stands.end());
  // The study's best trial keeps its model, wherever it stands.
  const TrialRecord* best = nullptr;
  for (const auto& t : history)
    if (lineage_of(t) && t.state == TrialState::Complete && t.value && std::isfinite(*t.value) &&
        (!best || better(direction_, *t.value, *best->value)))
      best = &t;

  std::vector<std::string> out;
  for (const auto& t : history) {
    const json* lineage = lineage_of(t);
    const std::string dir = t.system_attrs.value("caviar:checkpoint_dir", "");
    if (!lineage || dir.empty() || &t == best) continue;
    const std::int64_t stop = attr_int(*lineage, "stop");
    // A failed segment's folder is never restored; a complete one's only at its stop step.
    if (t.state == TrialState::Failed ||
        (t.state == TrialState::Complete && stop < slowest && stop < options_.max_steps))
      out.push_back(dir);
  }
  return out;
}

// ---- Lineage ----

json pbt_lineage(const std::vector<TrialRecord>& trials) {
  std::map<std::int64_t, std::vector<const TrialRecord*>> members;
  for (const auto& t : trials)
    if (const json* l = lineage_of(t)) members[attr_int(*l, "member")].push_back(&t);
  json out = json::array();
  for (auto& [member, chain] : members) {
    std::sort(chain.begin(), chain.end(), [](auto* a, auto* b) { return a->number < b->number; });
    json rows = json::array();
    for (const TrialRecord* t : chain) {
      const json& l = *lineage_of(*t);
      json params = json::object();
      for (const auto& [name, internal] : t->params) {
        const json* d = t->distribution(name);
        try {
          params[name] = d && !d->is_null() ? Parameter::from_optuna(name, *d).external(internal) : json(internal);
        } catch (const std::exception&) {
          params[name] = internal;
        }
      }
      rows.push_back({{"number", t->number},
                      {"state", to_string(t->state)},
                      {"value", t->value ? json(*t->value) : json(nullptr)},
                      {"segment", l.value("segment", json(nullptr))},
                      {"step", l.value("step", json(nullptr))},
                      {"stop", l.value("stop", json(nullptr))},
                      {"parent_trial", l.value("parent_trial", json(nullptr))},
                      {"donor_trial", l.value("donor_trial", json(nullptr))},
                      {"donor_member", l.value("donor_member", json(nullptr))},
                      {"rank", l.value("rank", json(nullptr))},
                      {"ranked", l.value("ranked", json(nullptr))},
                      {"changes", l.value("changes", json::object())},
                      {"rerun_of", l.value("rerun_of", json(nullptr))},
                      {"params", params}});
    }
    out.push_back({{"member", member}, {"trials", rows}});
  }
  return out;
}

std::string pbt_lineage_table(const std::vector<TrialRecord>& trials) {
  auto text = [](const json& v) {
    if (v.is_null()) return std::string("-");
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_float()) return fmt::format("{:.4g}", v.get<double>());
    return v.dump();
  };
  std::vector<std::vector<std::string>> rows = {{"member", "seg", "#", "steps", "state", "value", "origin"}};
  for (const json& member : pbt_lineage(trials)) {
    for (const json& t : member["trials"]) {
      std::string origin;
      if (t["parent_trial"].is_null()) {
        origin = "sampled";
      } else if (t["donor_trial"].is_null()) {
        origin = fmt::format("continued #{}", text(t["parent_trial"]));
      } else {
        origin = fmt::format("copied member {} (#{}), rank {}/{}", text(t["donor_member"]), text(t["donor_trial"]),
                             text(t["rank"]), text(t["ranked"]));
        std::string changed;
        for (const auto& [name, pair] : t["changes"].items())
          changed += fmt::format("{}{} {} -> {}", changed.empty() ? ": " : ", ", name, text(pair[0]), text(pair[1]));
        origin += changed;
      }
      if (!t["rerun_of"].is_null()) origin += fmt::format(" (rerun of #{})", text(t["rerun_of"]));
      rows.push_back({text(member["member"]), text(t["segment"]), text(t["number"]),
                      fmt::format("{}-{}", attr_int(t, "step") + 1, text(t["stop"])), text(t["state"]),
                      t["value"].is_null() ? "-" : fmt::format("{:.6g}", t["value"].get<double>()), origin});
    }
  }
  return aligned_table(rows);
}

// ---- Around a segment trial (the Tuner) ----

namespace detail {

std::string pbt_prepare(const TrialRecord& trial, TrialContext& context) {
  const json* lineage = lineage_of(trial);
  if (!lineage) return "not a PBT segment (no caviar:pbt attribute)";
  context.start_at = attr_int(*lineage, "step");
  context.stop_at = attr_int(*lineage, "stop");
  context.checkpoint_dir = trial.system_attrs.value("caviar:checkpoint_dir", "");
  if (context.checkpoint_dir.empty()) context.checkpoint_dir = fs::absolute(context.trial_dir / "checkpoint");
  std::error_code ec;
  fs::remove_all(context.checkpoint_dir, ec);
  fs::create_directories(context.checkpoint_dir, ec);
  if (ec) return fmt::format("cannot create the checkpoint folder {}: {}", context.checkpoint_dir.string(), ec.message());
  const std::string source = trial.system_attrs.value("caviar:restore_source", "");
  if (source.empty()) return "";
  const std::string from = fmt::format("trial #{}'s checkpoint {}", attr_int(*lineage, "restore_trial", -1), source);
  if (!fs::is_directory(source) || fs::is_empty(source, ec))
    return fmt::format("cannot restore {}: the folder is missing or empty", from);
  const fs::path copy = context.trial_dir / "restore";
  fs::remove_all(copy, ec);
  fs::create_directories(context.trial_dir, ec);
  fs::copy(source, copy, fs::copy_options::recursive, ec);
  if (ec) return fmt::format("cannot copy {} to {}: {}", from, copy.string(), ec.message());
  context.restore_from = fs::absolute(copy);
  return "";
}

std::string pbt_check(const std::map<std::int64_t, double>& reports, const TrialContext& context,
                      std::int64_t max_steps) {
  if (!context.stop_at) return "";
  const std::int64_t stop = *context.stop_at;
  if (reports.empty()) return "the segment reported nothing";
  const std::int64_t first = reports.begin()->first, last = reports.rbegin()->first;
  if (first <= context.start_at)
    return fmt::format("the segment reported step {}, but it continues a checkpoint from step {}: it should "
                       "restore $CAVIAR_RESTORE_FROM and report steps {}..{} (print the step key)",
                       first, context.start_at, context.start_at + 1, stop);
  if (last != stop)
    return fmt::format("the segment's last report was at step {}, not at its stop step {} ($CAVIAR_STOP_AT)",
                       last, stop);
  std::error_code ec;
  if (stop < max_steps && (!fs::is_directory(context.checkpoint_dir) || fs::is_empty(context.checkpoint_dir, ec)))
    return fmt::format("the segment left no checkpoint in $CAVIAR_CHECKPOINT_DIR ({}); the member's next "
                       "segment needs it", context.checkpoint_dir.string());
  return "";
}

void pbt_cleanup(const TrialContext& context) {
  if (context.restore_from.empty()) return;
  std::error_code ec;
  fs::remove_all(context.restore_from, ec);
}

}  // namespace detail
}  // namespace caviar
