// Population Based Training (Jaderberg et al. 2017): the options, the decision (exploit,
// explore) and the scheduler that turns the stored history into the next segment trial.
// See include/caviar/pbt.h.
#include "caviar/pbt.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include <fmt/core.h>

#include "base/format.h"
#include "base/random.h"
#include "caviar/attributes.h"
#include "caviar/error.h"
#include "algorithms/settings.h"

namespace caviar {
namespace {

namespace fs = std::filesystem;


json number_or_null(const std::optional<int>& v) { return v ? json(*v) : json(nullptr); }

std::uint64_t decision_seed(std::uint64_t seed, int member, std::int64_t segment) {
  return detail::mix64(detail::mix64(seed, static_cast<std::uint64_t>(member)),
                       static_cast<std::uint64_t>(segment));
}

// ---- Explore ----

json user_value(const Parameter& p, const Params& params) {
  auto it = params.find(p.name);
  return it == params.end() ? json(nullptr) : p.external(it->second);
}

}  // namespace

const json* pbt_lineage_of(const TrialRecord& trial) {
  auto it = trial.system_attrs.find(attr::kPbt);
  return it != trial.system_attrs.end() && it->is_object() && it->contains("member") ? &*it : nullptr;
}

std::int64_t lineage_int(const json& lineage, const char* key, std::int64_t fallback) {
  auto it = lineage.find(key);
  return it != lineage.end() && it->is_number_integer() ? it->get<std::int64_t>() : fallback;
}

PbtOptions pbt_options_from_json(const json& sc, const SearchSpace& space) {
  if (!sc.is_object())
    throw ConfigError("scheduler", "expected a mapping such as {name: pbt, population: 8, interval: 1, max_steps: 10}");
  if (!sc.contains("name")) throw ConfigError("scheduler.name", "missing: name the scheduler (pbt)");
  if (!sc["name"].is_string() || sc["name"].get<std::string>() != "pbt")
    throw ConfigError("scheduler.name", "must be pbt (or none), got " + sc["name"].dump());
  json rest = sc;
  rest.erase("name");
  detail::Settings settings(rest, "scheduler", "the pbt scheduler");
  constexpr std::int64_t kMost = std::numeric_limits<std::int64_t>::max();
  PbtOptions o;
  // A member is a trial chain the scheduler ranks at every decision: a population of
  // millions would not be trained, only looped over (a billion hung caviar).
  constexpr int kMaxPopulation = 10'000;
  o.population = settings.integer("population", o.population, 2, std::numeric_limits<int>::max());
  if (o.population > kMaxPopulation)
    throw ConfigError("scheduler.population", fmt::format("at most {}, got {}", kMaxPopulation, o.population));
  o.interval = settings.whole("interval", o.interval, 1, kMost);
  if (!settings.has("max_steps"))
    throw ConfigError("scheduler.max_steps", "missing: the step (epoch) every member trains to");
  o.max_steps = settings.whole("max_steps", o.max_steps, 1, kMost);
  if (o.interval > o.max_steps)
    throw ConfigError("scheduler.interval",
                      fmt::format("must be at most max_steps ({}), got {}", o.max_steps, o.interval));
  constexpr double kAny = std::numeric_limits<double>::max();
  o.quantile = settings.number("quantile", o.quantile, -kAny, kAny);
  if (!(o.quantile > 0 && o.quantile <= 0.5))
    throw ConfigError("scheduler.quantile",
                      fmt::format("must be in (0, 0.5] (the bottom and top fractions may not overlap), got {}",
                                  detail::shortest(o.quantile)));
  o.resample_probability = settings.number("resample_probability", o.resample_probability, 0, 1);
  o.keep_checkpoints = settings.flag("keep_checkpoints", o.keep_checkpoints);
  if (const json* f = settings.raw("factors")) {
    if (!f->is_array() || f->empty())
      throw ConfigError("scheduler.factors", "must be a list of positive numbers, such as [0.8, 1.2]");
    o.factors.clear();
    for (std::size_t i = 0; i < f->size(); ++i) {
      const std::string where = fmt::format("scheduler.factors[{}]", i);
      const json& v = (*f)[i];
      if (!v.is_number() || !std::isfinite(v.get<double>()) || !(v.get<double>() > 0))
        throw ConfigError(where, "must be a number > 0, got " + v.dump());
      o.factors.push_back(v.get<double>());
    }
  }
  if (const json* e = settings.raw("explore")) {
    if (!e->is_array() || e->empty())
      throw ConfigError("scheduler.explore", "must be a list of parameter names, such as [lr, momentum]");
    std::vector<std::string> names;
    for (const auto& p : space.params()) names.push_back(p.name);
    for (std::size_t i = 0; i < e->size(); ++i) {
      const std::string where = fmt::format("scheduler.explore[{}]", i);
      if (!(*e)[i].is_string()) throw ConfigError(where, "must be a parameter name, got " + (*e)[i].dump());
      const std::string name = (*e)[i].get<std::string>();
      if (!space.find(name)) {
        const std::string hint = detail::closest(name, names);
        throw ConfigError(where, fmt::format("'{}' is not a parameter{}", name,
                                             hint.empty() ? "" : "; did you mean '" + hint + "'?"));
      }
      o.explore.push_back(name);
    }
  }
  settings.finish();
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
        v = p.scaled(v, f);
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
    if (t->state == TrialState::Complete && t->value && lineage_int(*pbt_lineage_of(*t), "stop") == step) return t;
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
    const json* lineage = pbt_lineage_of(t);
    if (!lineage) continue;
    const auto member = lineage_int(*lineage, "member", -1);
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
      const json& lineage = *pbt_lineage_of(*last);
      r.last = last;
      switch (last->state) {
        case TrialState::Running:
        case TrialState::Waiting: continue;  // busy
        case TrialState::Complete:
          if (lineage_int(lineage, "stop") >= options_.max_steps) continue;  // done
          r.kind = Kind::Next;
          r.start = lineage_int(lineage, "stop");
          break;
        case TrialState::Failed:
          // Uncounted (stale, interrupted): run again. Counted: up to `retry` more attempts.
          if (last->counted() && lineage_int(lineage, "attempt", 1) > retry_) continue;  // stopped
          r.kind = Kind::Rerun;
          r.start = lineage_int(lineage, "step");
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
          if (lineage_int(*pbt_lineage_of(*t), "segment", -1) == 0) firsts.push_back(*t);
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
      out.lineage = *pbt_lineage_of(*r.last);
      if (r.last->counted()) out.lineage["attempt"] = lineage_int(out.lineage, "attempt", 1) + 1;
      out.lineage["rerun_of"] = r.last->number;
      if (out.lineage["restore_trial"].is_number_integer()) restore = out.lineage["restore_trial"].get<int>();
    } else {
      const TrialRecord& last = *r.last;
      const std::int64_t step = r.start;
      const std::int64_t segment = lineage_int(*pbt_lineage_of(last), "segment") + 1;
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
      if (it != by_number.end()) out.restore_source = it->second->system_attrs.value(attr::kCheckpointDir, "");
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
    const json* lineage = pbt_lineage_of(t);
    const auto member = lineage ? lineage_int(*lineage, "member", -1) : -1;
    if (member < 0 || member >= options_.population) continue;
    const auto m = static_cast<std::size_t>(member);
    if (!latest[m] || t.number > latest[m]->number) latest[m] = &t;
    if (t.state == TrialState::Complete) stands[m] = std::max(stands[m], lineage_int(*lineage, "stop"));
  }
  for (std::size_t m = 0; m < population; ++m)
    if (latest[m] && latest[m]->state == TrialState::Failed && latest[m]->counted() &&
        lineage_int(*pbt_lineage_of(*latest[m]), "attempt", 1) > retry_)
      stands[m] = std::numeric_limits<std::int64_t>::max();
  const std::int64_t slowest = *std::min_element(stands.begin(), stands.end());
  // The study's best trial keeps its model, wherever it stands.
  const TrialRecord* best = best_trial(history, direction_);

  std::vector<std::string> out;
  for (const auto& t : history) {
    const json* lineage = pbt_lineage_of(t);
    const std::string dir = t.system_attrs.value(attr::kCheckpointDir, "");
    if (!lineage || dir.empty() || &t == best) continue;
    const std::int64_t stop = lineage_int(*lineage, "stop");
    // A failed segment's folder is never restored; a complete one's only at its stop step.
    if (t.state == TrialState::Failed ||
        (t.state == TrialState::Complete && stop < slowest && stop < options_.max_steps))
      out.push_back(dir);
  }
  return out;
}

}  // namespace caviar
