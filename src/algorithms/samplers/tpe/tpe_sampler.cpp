// The tree-structured Parzen estimator (TPE) sampler; see make_tpe_sampler in sampler.h.
//
// Bergstra, Bardenet, Bengio & Kégl (2011), "Algorithms for Hyper-Parameter Optimization":
// split the finished trials into the best gamma share (good) and the rest (bad), model
// each with a Parzen estimator, l(x) and g(x), draw candidates from l and keep the one
// that maximises l(x) / g(x) (which maximises expected improvement under the model).
//
// In caviar all of it happens in the scale-transformed unit cube, so log and logit
// parameters are modelled on their own scale. Per suggestion (nothing is cached, so the
// result depends only on the seed, the trial number and the history):
//
//  1. Observations: complete trials with a value, pruned trials, and (constant liar)
//     running trials. Failed and waiting trials are ignored. Ranking, best first:
//     complete trials by value; then pruned trials, the ones that reported at a later
//     step first, then by their last reported value; then pruned trials that never
//     reported; then running trials (Optuna's order). So a pruned trial is "good" only
//     while there are too few complete ones. Maximisation flips the sign of the values.
//  2. Until `startup` trials have finished (complete or pruned), the trial takes point
//     `trial_number` of the seed's scrambled Sobol sequence (or the random sampler's).
//  3. Groups: parameters that are active in exactly the same trials form a group
//     (conditional parameters fall into the groups of their conditions' branches). With
//     `multivariate`, each group gets one joint model; otherwise every parameter is its
//     own group. A group's model sees only the trials where the group is active, and its
//     split is made among them: good = the best ceil(gamma * n) of its n finished trials
//     (at most good_max), bad = the others plus the running ones. A group no finished
//     trial has yet is drawn uniformly.
//  4. Weights: good trials by rank, CMA-ES's recombination weights ln(k + 1/2) - ln(r)
//     for rank r of k (with rank_weights; measured on the suite, they make l lean
//     towards the best trials and gain over equal weights); bad trials by age: the
//     newest 25 weigh 1 and older ones ramp linearly down towards 1/n (Optuna's
//     default_weights); the prior weighs prior_weight.
//  5. Kernel widths: see parzen_estimator.h (the neighbour rule per coordinate by
//     default, also inside the joint model).
//  6. `candidates` points are drawn from l (discrete coordinates snapped to their value's
//     cell) and the one with the largest log l - log g is kept.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_set>

#include "caviar/sampler.h"
#include "base/random.h"
#include "algorithms/samplers/tpe/parzen_estimator.h"
#include "algorithms/samplers/tpe/tpe_sampler.h"
#include "algorithms/samplers/factories.h"
#include "caviar/error.h"

namespace caviar {
namespace {

using detail::ParzenDim;
using detail::ParzenEstimator;
using detail::TpeObservation;

// Optuna's default_weights: n weights, oldest first; the newest 25 weigh 1 and the older
// ones ramp linearly from 1/n up to 1.
void recency_weights(std::size_t n, std::vector<double>& w) {
  w.assign(n, 1.0);
  if (n <= 25) return;
  const std::size_t ramp = n - 25;
  const double first = 1.0 / static_cast<double>(n);
  for (std::size_t i = 0; i < ramp; ++i)
    w[i] = ramp == 1 ? first
                     : first + (1.0 - first) * static_cast<double>(i) /
                                   static_cast<double>(ramp - 1);
}

class TpeSampler final : public Sampler {
 public:
  TpeSampler(std::uint64_t seed, const TpeOptions& options)
      : seed_(seed),
        options_(options),
        startup_(options.startup_sobol ? make_sobol_sampler(seed) : make_random_sampler(seed)) {}

  std::string name() const override { return "tpe"; }

  std::optional<Params> suggest(const SampleContext& c) override {
    const auto& params = c.space.params();
    const std::size_t d = params.size();
    if (d == 0) return c.space.from_unit({}, c.fixed);

    // Space parameters in name order, to walk each trial's (name-ordered) map in step.
    std::vector<std::size_t> by_name(d);
    std::iota(by_name.begin(), by_name.end(), std::size_t{0});
    std::sort(by_name.begin(), by_name.end(),
              [&](std::size_t a, std::size_t b) { return params[a].name < params[b].name; });

    // 1. Observations: their rank keys, unit coordinates and active masks (row-major).
    std::vector<TpeObservation> obs;
    std::vector<double> coords;
    std::vector<unsigned char> active;
    obs.reserve(c.history.size());
    coords.reserve(c.history.size() * d);
    active.reserve(c.history.size() * d);
    int finished = 0;
    for (const TrialRecord& t : c.history) {
      if (t.number == c.trial_number) continue;
      const auto o = detail::tpe_observation(t, c.direction, options_.constant_liar);
      if (!o) continue;
      const std::size_t row = obs.size();
      coords.resize((row + 1) * d, 0.0);
      active.resize((row + 1) * d, 0);
      bool any = false;
      auto it = t.params.begin();
      for (std::size_t s = 0; s < d && it != t.params.end();) {
        const Parameter& p = params[by_name[s]];
        const int cmp = it->first.compare(p.name);
        if (cmp < 0) {
          ++it;
        } else if (cmp > 0) {
          ++s;
        } else {
          const double v = it->second;
          if (std::isfinite(v)) {
            const std::size_t j = by_name[s];
            coords[row * d + j] = coordinate(p, v);
            active[row * d + j] = 1;
            any = true;
          }
          ++it, ++s;
        }
      }
      if (!any) {
        coords.resize(row * d);
        active.resize(row * d);
        continue;
      }
      obs.push_back(*o);
      if (o->tier < 3) ++finished;
    }

    // 2. Startup: quasi-random points until enough trials have finished.
    if (finished < options_.startup) return startup_->suggest(c);

    std::vector<std::uint32_t> ranked(obs.size());
    std::iota(ranked.begin(), ranked.end(), 0u);
    std::stable_sort(ranked.begin(), ranked.end(), [&](std::uint32_t a, std::uint32_t b) {
      return detail::tpe_ranks_before(obs[a], obs[b]);
    });

    // 3. Groups, and a model per group.
    detail::Rng rng(seed_, static_cast<std::uint64_t>(c.trial_number));
    std::vector<double> u(d, 0.5);
    Work w;
    for (const auto& group : groups(params, active, obs.size()))
      sample_group(c, group, obs, ranked, coords, active, rng, w, u);
    return c.space.from_unit(u, c.fixed);
  }

 private:
  // Scratch space of one suggestion.
  struct Work {
    std::vector<std::uint32_t> good, bad;  // good in rank order, bad oldest first
    std::vector<unsigned char> is_good;
    std::vector<double> good_points, bad_points, good_weights, bad_weights;
    std::vector<ParzenDim> dims;
    std::vector<double> candidates, cell_lo, cell_hi, log_l, log_g;
  };

  static double coordinate(const Parameter& p, double v) {
    if (p.type == ParamType::Choice)
      return std::clamp(std::round(v), 0.0, static_cast<double>(p.choices.size()) - 1);
    return p.to_unit(v);
  }

  // Parameters grouped by the set of observations in which they are active (params()
  // order within and between groups); every parameter alone when univariate.
  std::vector<std::vector<std::size_t>> groups(const std::vector<Parameter>& params,
                                               const std::vector<unsigned char>& active,
                                               std::size_t n) const {
    const std::size_t d = params.size();
    std::vector<std::vector<std::size_t>> out;
    if (!options_.multivariate) {
      for (std::size_t j = 0; j < d; ++j) out.push_back({j});
      return out;
    }
    if (std::all_of(active.begin(), active.end(), [](unsigned char a) { return a != 0; })) {
      out.emplace_back(d);
      std::iota(out.back().begin(), out.back().end(), std::size_t{0});
      return out;
    }
    // Distinct activity patterns of the observations, then each parameter's membership
    // in them: equal memberships mean the same observations.
    std::vector<std::string> patterns;
    std::unordered_set<std::string> seen;
    for (std::size_t o = 0; o < n; ++o) {
      std::string pattern(reinterpret_cast<const char*>(&active[o * d]), d);
      if (seen.insert(pattern).second) patterns.push_back(std::move(pattern));
    }
    if (patterns.size() > 4096) {  // pathological: every parameter on its own
      for (std::size_t j = 0; j < d; ++j) out.push_back({j});
      return out;
    }
    std::vector<std::string> keys;
    for (std::size_t j = 0; j < d; ++j) {
      std::string key(patterns.size(), '0');
      for (std::size_t s = 0; s < patterns.size(); ++s)
        if (patterns[s][j]) key[s] = '1';
      auto at = std::find(keys.begin(), keys.end(), key);
      if (at == keys.end()) {
        keys.push_back(key);
        out.push_back({j});
      } else {
        out[static_cast<std::size_t>(at - keys.begin())].push_back(j);
      }
    }
    return out;
  }

  void sample_group(const SampleContext& c, const std::vector<std::size_t>& group,
                    const std::vector<TpeObservation>& obs,
                    const std::vector<std::uint32_t>& ranked,
                    const std::vector<double>& coords, const std::vector<unsigned char>& active,
                    detail::Rng& rng, Work& w, std::vector<double>& u) const {
    const auto& params = c.space.params();
    const std::size_t d = params.size(), gd = group.size();
    const std::size_t first = group.front();

    // The group's observations in rank order; the best share of the finished ones is good.
    std::size_t n = 0;
    for (std::uint32_t o : ranked)
      if (active[o * d + first] && obs[o].tier < 3) ++n;
    if (n == 0) {
      for (std::size_t j : group) u[j] = rng.uniform();
      return;
    }
    const std::size_t n_good = detail::tpe_good_count(n, options_.gamma, options_.good_max);
    w.good.clear();
    w.bad.clear();
    for (std::uint32_t o : ranked) {
      if (w.good.size() == n_good) break;
      if (active[o * d + first]) w.good.push_back(o);
    }
    // The rest of the group's observations are bad, oldest first.
    w.is_good.assign(obs.size(), 0);
    for (std::uint32_t o : w.good) w.is_good[o] = 1;
    for (std::uint32_t o = 0; o < obs.size(); ++o)
      if (active[o * d + first] && !w.is_good[o]) w.bad.push_back(o);
    // Good trials weigh by rank (CMA-ES's recombination weights, ln(k + 1/2) - ln(r) for
    // rank r = 1..k), so l(x) leans towards the best; bad ones by age, oldest first.
    w.good_weights.assign(w.good.size(), 1.0);
    if (options_.rank_weights) {
      const double top = std::log(static_cast<double>(w.good.size()) + 0.5);
      for (std::size_t r = 0; r < w.good.size(); ++r)
        w.good_weights[r] = top - std::log(static_cast<double>(r + 1));
    }
    if (w.good.size() > 25) {  // only when good_max > 25: the recency ramp as for bad
      std::vector<std::size_t> age(w.good.size());
      std::iota(age.begin(), age.end(), std::size_t{0});
      std::sort(age.begin(), age.end(),
                [&](std::size_t a, std::size_t b) { return w.good[a] < w.good[b]; });
      recency_weights(w.good.size(), w.bad_weights);
      for (std::size_t k = 0; k < age.size(); ++k) w.good_weights[age[k]] *= w.bad_weights[k];
    }
    recency_weights(w.bad.size(), w.bad_weights);
    auto gather = [&](const std::vector<std::uint32_t>& rows, std::vector<double>& points) {
      points.resize(rows.size() * gd);
      for (std::size_t r = 0; r < rows.size(); ++r)
        for (std::size_t k = 0; k < gd; ++k) points[r * gd + k] = coords[rows[r] * d + group[k]];
    };
    gather(w.good, w.good_points);
    gather(w.bad, w.bad_points);

    w.dims.resize(gd);
    bool discrete = false;
    for (std::size_t k = 0; k < gd; ++k) {
      const Parameter& p = params[group[k]];
      if (p.type == ParamType::Choice) {
        w.dims[k] = {ParzenDim::Kind::Categorical, static_cast<int>(p.choices.size())};
      } else if (p.step) {
        w.dims[k] = {ParzenDim::Kind::Discrete, 0};
        discrete = true;
      } else {
        w.dims[k] = {ParzenDim::Kind::Continuous, 0};
      }
    }
    detail::ParzenOptions po;
    po.prior_weight = options_.prior_weight;
    po.bandwidth = options_.bandwidth == "neighbour" ? detail::Bandwidth::Neighbour
                                                     : detail::Bandwidth::Scott;
    const ParzenEstimator l(w.dims, w.good_points, w.good_weights, po);
    const ParzenEstimator g(w.dims, w.bad_points, w.bad_weights, po);

    // Candidates from l; discrete coordinates go to their value's cell.
    const std::size_t m = static_cast<std::size_t>(options_.candidates);
    w.candidates.resize(m * gd);
    if (discrete) {
      w.cell_lo.assign(m * gd, 0.0);
      w.cell_hi.assign(m * gd, 1.0);
    }
    for (std::size_t i = 0; i < m; ++i) {
      double* x = &w.candidates[i * gd];
      l.sample(rng, x);
      if (!discrete) continue;
      for (std::size_t k = 0; k < gd; ++k) {
        if (w.dims[k].kind != ParzenDim::Kind::Discrete) continue;
        const Parameter& p = params[group[k]];
        const double v = p.from_unit(x[k]), half = *p.step / 2;
        x[k] = p.to_unit(v);
        w.cell_lo[i * gd + k] = p.to_unit(v - half);
        w.cell_hi[i * gd + k] = p.to_unit(v + half);
      }
    }
    w.log_l.resize(m);
    w.log_g.resize(m);
    const double* lo = discrete ? w.cell_lo.data() : nullptr;
    const double* hi = discrete ? w.cell_hi.data() : nullptr;
    l.log_pdf(w.candidates.data(), m, lo, hi, w.log_l.data());
    g.log_pdf(w.candidates.data(), m, lo, hi, w.log_g.data());
    std::size_t best = 0;
    double best_score = -HUGE_VAL;
    for (std::size_t i = 0; i < m; ++i) {
      const double score = w.log_l[i] - w.log_g[i];
      if (score > best_score) best_score = score, best = i;
    }
    for (std::size_t k = 0; k < gd; ++k) {
      const Parameter& p = params[group[k]];
      const double x = w.candidates[best * gd + k];
      u[group[k]] =
          p.type == ParamType::Choice ? (x + 0.5) / static_cast<double>(p.choices.size()) : x;
    }
  }

  std::uint64_t seed_;
  TpeOptions options_;
  std::unique_ptr<Sampler> startup_;
};

}  // namespace

namespace detail {

std::optional<TpeObservation> tpe_observation(const TrialRecord& t, Direction direction,
                                              bool constant_liar) {
  const double sign = direction == Direction::Maximize ? -1.0 : 1.0;
  auto minimise = [&](double v) { return std::isnan(v) ? HUGE_VAL : sign * v; };
  switch (t.state) {
    case TrialState::Complete:
      if (!t.value) return std::nullopt;
      return TpeObservation{0, 0.0, minimise(*t.value)};
    case TrialState::Pruned:
      if (t.intermediate.empty()) return TpeObservation{2, 0.0, 0.0};
      return TpeObservation{1, -static_cast<double>(t.intermediate.rbegin()->first),
                            minimise(t.intermediate.rbegin()->second)};
    case TrialState::Running:
      if (!constant_liar) return std::nullopt;
      return TpeObservation{3, 0.0, 0.0};
    default:
      return std::nullopt;  // failed, waiting
  }
}

std::size_t tpe_good_count(std::size_t finished, double gamma, int good_max) {
  // The small margin keeps ceil(0.1 * 30) at 3 despite rounding (0.1 * 30 > 3 in doubles).
  const double n = std::ceil(gamma * static_cast<double>(finished) - 1e-9);
  return std::clamp<std::size_t>(static_cast<std::size_t>(std::max(n, 1.0)), 1,
                                 static_cast<std::size_t>(std::max(good_max, 1)));
}

TpeSplit tpe_split(const std::vector<TrialRecord>& history, Direction direction,
                   const TpeOptions& options) {
  std::vector<std::pair<TpeObservation, int>> obs;
  std::size_t finished = 0;
  for (const auto& t : history) {
    if (auto o = tpe_observation(t, direction, options.constant_liar)) {
      obs.emplace_back(*o, t.number);
      finished += o->tier < 3;
    }
  }
  std::stable_sort(obs.begin(), obs.end(), [](const auto& a, const auto& b) {
    return tpe_ranks_before(a.first, b.first);
  });
  TpeSplit split;
  const std::size_t n_good =
      finished == 0 ? 0 : tpe_good_count(finished, options.gamma, options.good_max);
  for (const auto& [o, number] : obs)
    (split.good.size() < n_good ? split.good : split.bad).push_back(number);
  return split;
}

}  // namespace detail

std::unique_ptr<Sampler> make_tpe_sampler(std::uint64_t seed, const TpeOptions& options) {
  return std::make_unique<TpeSampler>(seed, options);
}

namespace detail {

std::unique_ptr<Sampler> tpe_sampler_from(std::uint64_t seed, Settings& settings) {
  TpeOptions t;
  t.multivariate = settings.flag("multivariate", t.multivariate);
  t.startup = settings.integer("startup", t.startup, 0, 1'000'000);
  t.startup_sobol = settings.word("startup_sampler", "sobol", {"sobol", "random"}) == "sobol";
  t.candidates = settings.integer("candidates", t.candidates, 1, 100'000);
  t.gamma = settings.number("gamma", t.gamma, 0, 1);
  if (t.gamma == 0) throw ConfigError("sampler.gamma", "must be in (0, 1], got 0");
  t.good_max = settings.integer("good_max", t.good_max, 1, 1'000'000);
  t.constant_liar = settings.flag("constant_liar", t.constant_liar);
  t.prior_weight = settings.number("prior_weight", t.prior_weight, 0, 1e6);
  if (t.prior_weight == 0)
    throw ConfigError("sampler.prior_weight", "must be in (0, 1e6], got 0");
  t.bandwidth = settings.word("bandwidth", t.bandwidth, {"scott", "neighbour"});
  t.rank_weights = settings.flag("rank_weights", t.rank_weights);
  return make_tpe_sampler(seed, t);
}

}  // namespace detail
}  // namespace caviar
