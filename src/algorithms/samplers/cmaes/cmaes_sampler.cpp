// CMA-ES as a caviar sampler: the state is replayed from the history, restarts follow
// IPOP, and the parameters CMA-ES cannot handle are drawn on their own.
//
// Spaces. The float and int parameters without a `when` are the CMA-ES coordinates, in the
// scale-transformed unit cube (ints are continuous there; from_unit rounds them). A sample
// outside the cube is redrawn (up to 100 times, from the same trial's stream), then
// clipped. Choices and conditional parameters ("others") are drawn per trial from the best
// quarter of the complete trials (at most 25): a choice with probability proportional to
// 1 + its count there; a conditional float or int near one of those trials' values
// (Gaussian in the cube, width 0.2 / sqrt(count), at least 0.02), or uniformly with
// probability max(0.1, 1 / (count + 1)).
//
// Replay. Trials [0, startup) are Sobol points. Restart 0 starts at the weighted mean of
// the best half of the complete startup trials (CMA-ES's own recombination weights, as if
// the startup were a generation drawn uniformly; a random point if none is complete) with
// step size sigma0. From trial `startup` on, trial numbers are laid out in generations:
// generation g of restart r holds the next popsize(r) numbers. Trial n, in generation g at
// index k, is the sample of the state before g with z drawn from Rng(seed, (r, g, k)). A
// generation is updated once trial n lies beyond it, from its trials that are complete
// with a value (failed, pruned and running ones are left out; the points are the trials'
// stored params, so enqueued or rounded points count for what they are). The state before
// each generation is therefore a function of the history of lower-numbered trials only,
// and every worker, on any machine, computes the same one.
//
// Parallel workers: when trial n opens generation g + 1 while some of g still run, g is
// updated from its finished trials only. Once those finish, the replay for later trials
// updates g from all of them, and the generations after g change accordingly; trials
// already sampled keep their points, which enter their generation's update as they are.
//
// Cache. The replayed states are kept (the last 16 generations and every 16th one) with
// a fingerprint of each generation's trials (numbers, states, values, params). A call
// scans the history once to check the fingerprints, then replays from the first
// generation whose trials changed (usually the last one or two): cheap hashing over all
// trials plus O(d^3) work per new generation.
//
// IPOP (Auger and Hansen, CEC 2005). After each generation's update, the run restarts from
// a uniformly random point with step size max(sigma0, 0.25) and twice the population (up
// to 2^10 times the first) when the step size collapsed (sigma times the longest axis
// < 1e-8 of the cube's side), C's condition number exceeds 1e14, the restart's best value
// has not improved for 10 + ceil(30 n / popsize) generations, or the generation bests over
// that window and the last generation's values span less than 1e-12 (relative to
// max(1, |best|)).
#include "algorithms/samplers/cmaes/cmaes_sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <map>

#include "base/random.h"
#include "algorithms/samplers/cmaes/cma_es.h"
#include "algorithms/samplers/factories.h"
#include "caviar/error.h"

namespace caviar {
namespace detail {
namespace {

constexpr std::uint64_t kStreamStart = 0x9b1e5e07c3a51a01ULL;   // a restart's start point
constexpr std::uint64_t kStreamSample = 0x2c6fe96ee78b6955ULL;  // a trial's z
constexpr std::uint64_t kStreamOther = 0x51ed27093cf6a1d3ULL;   // choices, conditionals
constexpr double kTolX = 1e-8;
constexpr double kTolFun = 1e-12;
constexpr double kRestartSigma = 0.25;  // a restart starts anywhere: cover a quarter of the cube
constexpr double kMaxCondition = 1e14;
constexpr int kMaxDoublings = 10;
constexpr int kMaxRedraws = 100;
constexpr int kWindowBase = 10;  // generations: 10 + ceil(30 n / popsize)
constexpr int kKeepRecent = 16;  // phases kept: the last 16 and every 16th

std::uint64_t bits_of(double x) {
  std::uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

bool usable(const TrialRecord* t) {
  return t && t->state == TrialState::Complete && t->value && !std::isnan(*t->value);
}

double reflect(double x) {
  double t = std::fmod(std::abs(x), 2.0);
  return t > 1 ? 2 - t : t;
}

}  // namespace

// The state before one generation: CMA-ES and the restart's bookkeeping.
struct Phase {
  Phase(CmaEs es_, CmaEsGeneration gen_) : es(std::move(es_)), gen(gen_) {}
  CmaEs es;
  CmaEsGeneration gen;
  double best = std::numeric_limits<double>::infinity();  // the restart's best value
  int stalled = 0;            // generations since it improved
  std::deque<double> recent;  // the last generations' best values
};

struct CmaEsSampler::Replay {
  std::string key;  // the space and direction this replay belongs to
  std::vector<int> cma, others;
  bool started = false;
  std::uint64_t startup_fingerprint = 0;
  std::vector<std::uint64_t> fingerprints;  // of each updated generation's trials
  std::vector<CmaEsGeneration> layout;      // every generation laid out so far
  std::map<int, Phase> phases;              // the state before generation i, for some i
};

namespace {

// The history before trial n, by number (nullptr where absent).
std::vector<const TrialRecord*> by_number(const std::vector<TrialRecord>& history, int n) {
  std::vector<const TrialRecord*> out(static_cast<std::size_t>(std::max(n, 0)), nullptr);
  for (const auto& t : history)
    if (t.number >= 0 && t.number < n) out[static_cast<std::size_t>(t.number)] = &t;
  return out;
}

std::uint64_t fingerprint(const std::vector<const TrialRecord*>& trials, int first, int end) {
  std::uint64_t h = mix64(static_cast<std::uint64_t>(first), static_cast<std::uint64_t>(end));
  for (int i = first; i < end; ++i) {
    const TrialRecord* t = i < static_cast<int>(trials.size()) ? trials[i] : nullptr;
    if (!t) {
      h = mix64(h, 0x5eed);
      continue;
    }
    h = mix64(h, static_cast<std::uint64_t>(t->state) + 1);
    h = mix64(h, t->value ? bits_of(*t->value) : 0x7ff8dead);
    for (const auto& [name, v] : t->params) h = mix64(h, bits_of(v) ^ name.size());
  }
  return h;
}

}  // namespace

CmaEsSampler::CmaEsSampler(std::uint64_t seed, CmaEsSamplerOptions options, CmaEsBounds bounds)
    : seed_(seed),
      options_(options),
      bounds_(bounds),
      sobol_(make_sobol_sampler(seed)),
      replay_(std::make_unique<Replay>()) {}

CmaEsSampler::~CmaEsSampler() = default;

namespace {

struct Context {
  const SampleContext& c;
  const std::vector<const TrialRecord*>& trials;
  const std::vector<int>& cma;
  double sign;  // +1 minimising, -1 maximising
};

// The CMA-ES point of a trial (its unit coordinates), if it is complete with a value and
// has every CMA-ES parameter.
std::optional<std::pair<Eigen::VectorXd, double>> point_of(const Context& x, const TrialRecord* t) {
  if (!usable(t)) return std::nullopt;
  Eigen::VectorXd u(static_cast<Eigen::Index>(x.cma.size()));
  for (std::size_t j = 0; j < x.cma.size(); ++j) {
    const Parameter& p = x.c.space.params()[static_cast<std::size_t>(x.cma[j])];
    auto it = t->params.find(p.name);
    if (it == t->params.end()) return std::nullopt;
    u(static_cast<Eigen::Index>(j)) = p.to_unit(it->second);
  }
  return std::make_pair(std::move(u), x.sign * *t->value);
}

Eigen::VectorXd random_point(std::uint64_t seed, int restart, std::size_t d) {
  Rng rng(seed, mix64(kStreamStart, static_cast<std::uint64_t>(restart)));
  Eigen::VectorXd u(static_cast<Eigen::Index>(d));
  for (auto& v : u) v = rng.uniform();
  return u;
}

}  // namespace

// Long because it is one replay: the CMA-ES state is not stored but derived, so this walks
// the stored generations in order (start-up points, each generation's update, restarts) on
// one set of local state, then draws this trial's point; split into functions, each step
// would need all of that state passed along.
std::optional<Params> CmaEsSampler::suggest(const SampleContext& c) {
  const int n = c.trial_number;
  std::lock_guard lock(mutex_);
  auto trials = by_number(c.history, n);
  Replay& r = *replay_;
  const std::string key = c.space.to_config_json().dump() +
                          (c.direction == Direction::Minimize ? "min" : "max");
  if (r.key != key) {
    *replay_ = Replay{};
    r.key = key;
    for (std::size_t i = 0; i < c.space.size(); ++i) {
      const Parameter& p = c.space.params()[i];
      (p.type != ParamType::Choice && !p.when ? r.cma : r.others).push_back(static_cast<int>(i));
    }
  }
  if (n < options_.startup) return sobol_->suggest(c);
  const Context x{c, trials, r.cma, c.direction == Direction::Minimize ? 1.0 : -1.0};
  const std::size_t d = r.cma.size();
  std::vector<double> u(c.space.size(), 0.5);

  if (d > 0) {
    // The state before generation 0, from the startup trials (recomputed when they change).
    const std::uint64_t startup_fp = fingerprint(trials, 0, options_.startup);
    if (!r.started || startup_fp != r.startup_fingerprint) {
      // The weighted mean of the best half of the finished startup points, with CMA-ES's
      // recombination weights: as if the startup were a generation sampled uniformly.
      std::vector<std::pair<Eigen::VectorXd, double>> points;
      for (int i = 0; i < options_.startup; ++i)
        if (auto p = point_of(x, trials[static_cast<std::size_t>(i)])) points.push_back(std::move(*p));
      Eigen::VectorXd x0 = random_point(seed_, 0, d);
      if (!points.empty()) {
        std::stable_sort(points.begin(), points.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
        const auto w = CmaEsConstants::of(static_cast<int>(d), static_cast<int>(points.size()));
        x0.setZero();
        for (int i = 0; i < w.mu; ++i) x0 += w.weights(i) * points[static_cast<std::size_t>(i)].first;
      }
      const int lambda = options_.popsize > 0 ? options_.popsize
                                              : CmaEsConstants::default_lambda(static_cast<int>(d));
      Phase start(CmaEs(std::move(x0), options_.sigma0, lambda),
                  CmaEsGeneration{0, 0, options_.startup, lambda});
      r.fingerprints.clear();
      r.phases.clear();
      r.layout = {start.gen};
      r.phases.emplace(0, std::move(start));
      r.startup_fingerprint = startup_fp;
      r.started = true;
    }
    // Which updated generations still see the same trials.
    std::size_t valid = 0;
    while (valid < r.fingerprints.size()) {
      const CmaEsGeneration& g = r.layout[valid];
      const int end = g.first_trial + g.popsize;
      if (end > n || fingerprint(trials, g.first_trial, end) != r.fingerprints[valid]) break;
      ++valid;
    }
    // valid: the generations before it replay as cached; if n lies beyond them, a
    // changed generation is replayed afresh.
    const CmaEsGeneration& at = r.layout[valid];
    if (at.first_trial + at.popsize <= n && valid < r.fingerprints.size()) {
      r.fingerprints.resize(valid);
      r.layout.resize(valid + 1);
      r.phases.erase(r.phases.upper_bound(static_cast<int>(valid)), r.phases.end());
    }
    // Start from the latest kept phase at or before `valid`.
    auto it = std::prev(r.phases.upper_bound(static_cast<int>(valid)));
    int index = it->first;
    Phase phase = it->second;
    auto keep = [&](int i, const Phase& p) {
      if (!r.phases.count(i)) r.phases.emplace(i, p);
      const int old = i - kKeepRecent - 1;
      if (old > 0 && old % kKeepRecent != 0) r.phases.erase(old);
    };
    while (phase.gen.first_trial + phase.gen.popsize <= n) {
      const int first = phase.gen.first_trial, end = first + phase.gen.popsize;
      std::vector<std::pair<Eigen::VectorXd, double>> points;
      for (int i = first; i < end; ++i)
        if (auto p = point_of(x, trials[static_cast<std::size_t>(i)])) points.push_back(std::move(*p));
      Phase next = phase;
      bool restart = false;
      if (!points.empty()) {
        double gen_best = points.front().second, gen_worst = gen_best;
        for (const auto& p : points) {
          gen_best = std::min(gen_best, p.second);
          gen_worst = std::max(gen_worst, p.second);
        }
        next.es.tell(points);
        if (gen_best < next.best) {
          next.best = gen_best;
          next.stalled = 0;
        } else {
          ++next.stalled;
        }
        const int window =
            kWindowBase + static_cast<int>(std::ceil(30.0 * static_cast<double>(d) / phase.gen.popsize));
        next.recent.push_back(gen_best);
        while (static_cast<int>(next.recent.size()) > window) next.recent.pop_front();
        if (!next.es.finite()) {
          restart = true;
        } else if (options_.ipop) {
          double lo = gen_best, hi = gen_worst;
          for (double v : next.recent) lo = std::min(lo, v), hi = std::max(hi, v);
          const bool flat = static_cast<int>(next.recent.size()) == window &&
                            hi - lo < kTolFun * std::max(1.0, std::abs(next.best));
          restart = next.es.max_std() < kTolX || next.es.condition() > kMaxCondition ||
                    next.stalled >= window || flat;
        }
      }
      if (restart) {
        const int doublings = std::min(phase.gen.restart + 1, kMaxDoublings);
        const int base = r.layout.front().popsize;
        const int lambda = options_.ipop ? base << doublings : phase.gen.popsize;
        const int restart_index = phase.gen.restart + 1;
        next = Phase(CmaEs(random_point(seed_, restart_index, d), std::max(options_.sigma0, kRestartSigma), lambda),
                     CmaEsGeneration{restart_index, 0, end, lambda});
      } else {
        next.gen = CmaEsGeneration{phase.gen.restart, phase.gen.generation + 1, end, phase.gen.popsize};
      }
      // Record the generation just updated, unless it was only replayed from a kept phase.
      if (index >= static_cast<int>(r.fingerprints.size())) {
        r.fingerprints.push_back(fingerprint(trials, first, end));
        r.layout.push_back(next.gen);
      }
      ++index;
      phase = std::move(next);
      keep(index, phase);
    }
    // Trial n: index k of its generation, drawn from its own stream.
    const int k = n - phase.gen.first_trial;
    Rng rng(seed_, mix64(mix64(kStreamSample, static_cast<std::uint64_t>(phase.gen.restart)),
                         mix64(static_cast<std::uint64_t>(phase.gen.generation),
                               static_cast<std::uint64_t>(k))));
    Eigen::VectorXd z(static_cast<Eigen::Index>(d)), point;
    for (int attempt = 0; attempt < kMaxRedraws; ++attempt) {
      for (auto& v : z) v = rng.normal();
      point = phase.es.sample(z);
      if (bounds_ == CmaEsBounds::Reflect || ((point.array() >= 0).all() && (point.array() <= 1).all()))
        break;
    }
    for (std::size_t j = 0; j < d; ++j) {
      double v = point(static_cast<Eigen::Index>(j));
      u[static_cast<std::size_t>(r.cma[j])] =
          bounds_ == CmaEsBounds::Reflect ? reflect(v) : std::clamp(v, 0.0, 1.0);
    }
  }

  if (!r.others.empty()) {
    // The best complete trials so far: a quarter of them, at most 25.
    std::vector<const TrialRecord*> done;
    for (const TrialRecord* t : trials)
      if (usable(t)) done.push_back(t);
    const std::size_t top = std::min<std::size_t>(
        25, std::max<std::size_t>(1, (done.size() + 3) / 4));
    const double sign = x.sign;
    auto better = [sign](const TrialRecord* a, const TrialRecord* b) {
      return sign * *a->value < sign * *b->value ||
             (sign * *a->value == sign * *b->value && a->number < b->number);
    };
    if (done.size() > top) {
      std::nth_element(done.begin(), done.begin() + static_cast<std::ptrdiff_t>(top), done.end(), better);
      done.resize(top);
    }
    std::sort(done.begin(), done.end(), better);
    Rng rng(seed_, mix64(kStreamOther, static_cast<std::uint64_t>(n)));
    for (int i : r.others) {
      const Parameter& p = c.space.params()[static_cast<std::size_t>(i)];
      std::vector<double> values;
      for (const TrialRecord* t : done) {
        auto v = t->params.find(p.name);
        if (v != t->params.end()) values.push_back(v->second);
      }
      double& ui = u[static_cast<std::size_t>(i)];
      if (p.type == ParamType::Choice) {
        std::vector<double> weight(p.choices.size(), 1.0);
        for (double v : values) {
          auto j = static_cast<std::size_t>(v);
          if (j < weight.size()) weight[j] += 1;
        }
        double total = 0;
        for (double w : weight) total += w;
        double pick = rng.uniform() * total;
        std::size_t j = 0;
        while (j + 1 < weight.size() && pick >= weight[j]) pick -= weight[j++];
        ui = p.to_unit(static_cast<double>(j));
      } else {
        const double m = static_cast<double>(values.size());
        const double explore = rng.uniform();
        if (values.empty() || explore < std::max(0.1, 1 / (m + 1))) {
          ui = rng.uniform();
        } else {
          const double centre = p.to_unit(values[rng.below(values.size())]);
          const double width = std::clamp(0.2 / std::sqrt(m), 0.02, 0.2);
          ui = reflect(centre + width * rng.normal());
        }
      }
    }
  }
  return c.space.from_unit(u, c.fixed);
}

std::vector<CmaEsGeneration> CmaEsSampler::layout(const SampleContext& c) {
  suggest(c);
  std::lock_guard lock(mutex_);
  std::vector<CmaEsGeneration> out;
  if (c.trial_number < options_.startup) return out;
  for (const auto& g : replay_->layout) {
    if (g.first_trial > c.trial_number) break;
    out.push_back(g);
  }
  return out;
}

}  // namespace detail

std::unique_ptr<Sampler> make_cmaes_sampler(std::uint64_t seed, const CmaEsSamplerOptions& options) {
  return std::make_unique<detail::CmaEsSampler>(seed, options);
}

namespace detail {

std::unique_ptr<Sampler> cmaes_sampler_from(std::uint64_t seed, Settings& settings) {
  CmaEsSamplerOptions c;
  c.startup = settings.integer("startup", c.startup, 0, 1'000'000);
  c.sigma0 = settings.number("sigma0", c.sigma0, 0, 1);
  if (c.sigma0 == 0) throw ConfigError("sampler.sigma0", "must be in (0, 1], got 0");
  c.popsize = settings.integer("popsize", c.popsize, 0, 100'000);
  if (c.popsize == 1) throw ConfigError("sampler.popsize", "must be 0 (default) or at least 2, got 1");
  c.ipop = settings.word("restarts", c.ipop ? "ipop" : "none", {"ipop", "none"}) == "ipop";
  return make_cmaes_sampler(seed, c);
}

}  // namespace detail
}  // namespace caviar
