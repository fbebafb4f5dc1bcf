// The TPE sampler: the Parzen estimator's densities worked by hand, the good/bad split,
// the constant liar, determinism, conditional spaces, settings, and search quality
// against random search on the suite.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <thread>

#include "bench/suite.h"
#include "caviar/error.h"
#include "caviar/sampler.h"
#include "algorithms/samplers/tpe/parzen_estimator.h"
#include "algorithms/samplers/tpe/tpe_sampler.h"
#include "support/history.h"

using namespace caviar;
using caviar::testing::complete;
using caviar::testing::median;
using detail::ParzenDim;
using detail::ParzenEstimator;

namespace {

double Phi(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

// A Gaussian N(mu, s^2) truncated to [0, 1], at x (the textbook formula).
double truncated_pdf(double x, double mu, double s) {
  double z = (x - mu) / s;
  return std::exp(-0.5 * z * z) / (s * std::sqrt(2 * std::numbers::pi)) /
         (Phi((1 - mu) / s) - Phi(-mu / s));
}

TrialRecord with_state(int number, TrialState state, std::map<std::int64_t, double> reports = {}) {
  TrialRecord t;
  t.number = number;
  t.state = state;
  t.params = {{"x", 0.5}};
  t.intermediate = std::move(reports);
  return t;
}

Params suggest(Sampler& s, const SearchSpace& space, const std::vector<TrialRecord>& history,
               int number, Direction direction = Direction::Minimize) {
  const Params fixed;
  SampleContext c{space, history, number, direction, fixed};
  return *s.suggest(c);
}

// Runs `trials` sequential trials of a suite problem; returns the regret at the end.
double regret(Sampler& s, const suite::Problem& p, int trials) {
  std::vector<TrialRecord> history;
  double best = INFINITY;
  for (int i = 0; i < trials; ++i) {
    Params x = suggest(s, p.space, history, i);
    double y = p.f(x);
    best = std::min(best, y);
    history.push_back(complete(i, std::move(x), y));
  }
  return best - p.fstar;
}

SearchSpace two_floats() {
  return SearchSpace::from_config_json(json::parse(R"({
    "x": {"type": "float", "low": 0, "high": 1},
    "y": {"type": "float", "low": 0, "high": 1}})"));
}

std::vector<TrialRecord> sphere_history(int n, std::uint64_t seed) {
  // n random points of (x - 0.3)^2 + (y - 0.7)^2.
  auto random = make_random_sampler(seed);
  SearchSpace space = two_floats();
  std::vector<TrialRecord> h;
  for (int i = 0; i < n; ++i) {
    Params p = suggest(*random, space, {}, i);
    double v = std::pow(p["x"] - 0.3, 2) + std::pow(p["y"] - 0.7, 2);
    h.push_back(complete(i, p, v));
  }
  return h;
}

}  // namespace

// ---- The Parzen estimator --------------------------------------------------------------

TEST(ParzenEstimator, NeighbourBandwidthsAndDensityByHand) {
  // Centres 0.2, 0.3, 0.9 and the prior's 0.5, sorted: 0.2 0.3 0.5 0.9. Neighbour widths:
  // 0.2 -> 0.1 (outermost: inner distance), 0.3 -> max(0.1, 0.2) = 0.2, 0.9 -> 0.4
  // (outermost); the prior's is 1. The magic clip 1 / min(100, 3 + 2) = 0.2 lifts 0.1.
  const std::vector<ParzenDim> dims{{ParzenDim::Kind::Continuous, 0}};
  const std::vector<double> points{0.2, 0.3, 0.9}, weights{1, 1, 1};
  detail::ParzenOptions o;
  o.bandwidth = detail::Bandwidth::Neighbour;
  ParzenEstimator e(dims, points, weights, o);
  ASSERT_EQ(e.components(), 4u);
  const double mu[] = {0.2, 0.3, 0.9, 0.5}, sigma[] = {0.2, 0.2, 0.4, 1.0};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(e.weight(i), 0.25);  // three weights of 1 and the prior's 1
    EXPECT_DOUBLE_EQ(e.mu(i, 0), mu[i]);
    EXPECT_NEAR(e.sigma(i, 0), sigma[i], 1e-15);
  }
  for (double x : {0.1, 0.25, 0.6, 0.0, 1.0}) {
    double p = 0;
    for (int i = 0; i < 4; ++i) p += 0.25 * truncated_pdf(x, mu[i], sigma[i]);
    EXPECT_NEAR(e.log_pdf(&x), std::log(p), 1e-12) << x;
  }
  // The same numbers from an independent computation (Python's math.erfc).
  double x = 0.1;
  EXPECT_NEAR(e.log_pdf(&x), 0.13562806787801088, 1e-12);
  x = 0.6;
  EXPECT_NEAR(e.log_pdf(&x), -0.1817352323988496, 1e-12);
}

TEST(ParzenEstimator, NeighbourBandwidthsOfManyPoints) {
  // 700 distinct points (the estimator sorts 512 or more by radix): each width is the
  // larger distance to its neighbours, recomputed here from a plain sort.
  const std::vector<ParzenDim> dims{{ParzenDim::Kind::Continuous, 0}};
  detail::Rng rng(17);
  std::vector<double> points(700), weights(700, 1.0);
  for (auto& x : points) x = rng.uniform() * rng.uniform();  // crowded near 0
  detail::ParzenOptions o;
  o.bandwidth = detail::Bandwidth::Neighbour;
  ParzenEstimator e(dims, points, weights, o);
  std::vector<double> sorted = points;
  sorted.push_back(0.5);  // the prior's centre
  std::sort(sorted.begin(), sorted.end());
  const double clip = 1.0 / 100;
  for (std::size_t i = 0; i < points.size(); ++i) {
    auto at = std::lower_bound(sorted.begin(), sorted.end(), points[i]) - sorted.begin();
    double left = at == 0 ? 0 : sorted[at - 1], right = at + 1 == 701 ? 1 : sorted[at + 1];
    double h = at == 0 ? right - points[i]
               : at + 1 == 701 ? points[i] - left
                               : std::max(points[i] - left, right - points[i]);
    ASSERT_DOUBLE_EQ(e.sigma(i, 0), std::clamp(h, clip, 1.0)) << i;
  }
}

TEST(ParzenEstimator, DensityIntegratesToOne) {
  const std::vector<ParzenDim> dims{{ParzenDim::Kind::Continuous, 0}};
  const std::vector<double> points{0.01, 0.5, 0.52, 0.97}, weights{0.2, 1, 1, 0.7};
  ParzenEstimator e(dims, points, weights, {});
  double sum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double x = (i + 0.5) / n;
    sum += std::exp(e.log_pdf(&x)) / n;
  }
  EXPECT_NEAR(sum, 1.0, 1e-6);
}

TEST(ParzenEstimator, ScottBandwidth) {
  // Two dimensions, 40 observations: h = 0.2 * 40^(-1/6) on every coordinate, above the
  // clip 1/42; the prior keeps 1.
  const std::vector<ParzenDim> dims{{ParzenDim::Kind::Continuous, 0},
                                    {ParzenDim::Kind::Continuous, 0}};
  std::vector<double> points, weights(40, 1.0);
  for (int i = 0; i < 40; ++i) points.insert(points.end(), {i / 40.0, 1 - i / 40.0});
  detail::ParzenOptions o;
  o.bandwidth = detail::Bandwidth::Scott;
  ParzenEstimator e(dims, points, weights, o);
  const double h = 0.2 * std::pow(40.0, -1.0 / 6.0);
  for (std::size_t i = 0; i < 40; ++i) {
    EXPECT_DOUBLE_EQ(e.sigma(i, 0), h);
    EXPECT_DOUBLE_EQ(e.sigma(i, 1), h);
  }
  EXPECT_EQ(e.sigma(40, 0), 1.0);
  // Four observations: 0.2 * 4^(-1/6) = 0.159 is below the clip 1/6.
  ParzenEstimator small(dims, std::vector<double>(points.begin(), points.begin() + 8),
                        std::vector<double>(4, 1.0), o);
  EXPECT_DOUBLE_EQ(small.sigma(0, 1), 1.0 / 6.0);
  // A product kernel: the joint density of a point is the weighted sum of products.
  const double q[2] = {0.3, 0.6};
  double p = 0;
  for (std::size_t i = 0; i < 5; ++i)
    p += small.weight(i) * truncated_pdf(q[0], small.mu(i, 0), small.sigma(i, 0)) *
         truncated_pdf(q[1], small.mu(i, 1), small.sigma(i, 1));
  EXPECT_NEAR(small.log_pdf(q), std::log(p), 1e-12);
}

TEST(ParzenEstimator, CategoricalKernelByHand) {
  // Choices {0, 1, 2}, observed 0, 0, 2, prior weight 1: each observation's row puts 1 on
  // its choice plus 1/(3+1) on every choice, normalised by 1.75; the prior is uniform.
  const std::vector<ParzenDim> dims{{ParzenDim::Kind::Categorical, 3}};
  const std::vector<double> points{0, 0, 2}, weights{1, 1, 1};
  ParzenEstimator e(dims, points, weights, {});
  EXPECT_DOUBLE_EQ(e.choice_probability(0, 0, 0), 1.25 / 1.75);
  EXPECT_DOUBLE_EQ(e.choice_probability(0, 0, 1), 0.25 / 1.75);
  EXPECT_DOUBLE_EQ(e.choice_probability(3, 0, 1), 1.0 / 3);
  double c = 0;
  EXPECT_NEAR(e.log_pdf(&c), std::log(0.25 * (2 * 1.25 / 1.75 + 0.25 / 1.75 + 1.0 / 3)), 1e-12);
  EXPECT_NEAR(e.log_pdf(&c), -0.7419373447293773, 1e-12);
  double total = 0;
  for (double k : {0.0, 1.0, 2.0}) total += std::exp(e.log_pdf(&k));
  EXPECT_NEAR(total, 1.0, 1e-12);
}

TEST(ParzenEstimator, DiscreteCellMassByHand) {
  // One observation at 0.5 and the prior at 0.5: both are outermost with distance 0, so
  // the observation's width is the clip 1/3; the value's cell is [0.4, 0.6].
  const std::vector<ParzenDim> dims{{ParzenDim::Kind::Discrete, 0}};
  const std::vector<double> points{0.5}, weights{1};
  ParzenEstimator e(dims, points, weights, {});
  EXPECT_DOUBLE_EQ(e.sigma(0, 0), 1.0 / 3);
  const double x = 0.5, lo = 0.4, hi = 0.6;
  const double kernel = (Phi(0.3) - Phi(-0.3)) / (Phi(1.5) - Phi(-1.5));
  const double prior = (Phi(0.1) - Phi(-0.1)) / (Phi(0.5) - Phi(-0.5));
  EXPECT_NEAR(e.log_pdf(&x, &lo, &hi), std::log(0.5 * kernel + 0.5 * prior), 1e-12);
  EXPECT_NEAR(e.log_pdf(&x, &lo, &hi), -1.4266777102013852, 1e-12);
}

TEST(ParzenEstimator, LogNormalMassInTheTails) {
  EXPECT_NEAR(detail::log_normal_mass(-1, 1), std::log(Phi(1) - Phi(-1)), 1e-14);
  EXPECT_NEAR(detail::log_normal_mass(3, 4), std::log(Phi(-3) - Phi(-4)), 1e-12);
  // Far in a tail the mass underflows; the log stays finite and keeps decreasing.
  double a = detail::log_normal_mass(40, 41), b = detail::log_normal_mass(50, 51);
  EXPECT_TRUE(std::isfinite(a));
  EXPECT_LT(b, a);
  EXPECT_NEAR(a, -0.5 * 1600 - std::log(40 * std::sqrt(2 * std::numbers::pi)), 0.01);
}

TEST(ParzenEstimator, SamplesFollowTheMixture) {
  // One kernel at 0.8 (Scott's 0.2, clipped to 1/3) with weight 9 and the prior with
  // weight 1: 90% of the draws come from the kernel.
  const std::vector<ParzenDim> dims{{ParzenDim::Kind::Continuous, 0}};
  const std::vector<double> points{0.8}, weights{9};
  detail::ParzenOptions o;
  o.bandwidth = detail::Bandwidth::Scott;
  ParzenEstimator e(dims, points, weights, o);
  ASSERT_DOUBLE_EQ(e.sigma(0, 0), 1.0 / 3);
  detail::Rng rng(5);
  int in = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    double x;
    e.sample(rng, &x);
    ASSERT_GE(x, 0.0);
    ASSERT_LE(x, 1.0);
    in += x > 0.5;
  }
  // P(x > 0.5) = 0.9 * P_kernel(x > 0.5) + 0.1 * P_prior(x > 0.5).
  const double s = e.sigma(0, 0);
  const double kernel = (Phi(0.2 / s) - Phi(-0.3 / s)) / (Phi(0.2 / s) - Phi(-0.8 / s));
  const double expected = 0.9 * kernel + 0.1 * 0.5;
  EXPECT_NEAR(static_cast<double>(in) / n, expected, 4 * std::sqrt(0.25 / n));
}

// ---- The split ---------------------------------------------------------------------------

TEST(TpeSplit, CompleteByValueThenPrunedByStepThenRunning) {
  std::vector<TrialRecord> h = {
      complete(0, {{"x", 0.1}}, 5.0),
      complete(1, {{"x", 0.2}}, 1.0),
      with_state(2, TrialState::Pruned, {{1, 0.5}, {3, 2.0}}),  // reached step 3
      with_state(3, TrialState::Failed),
      complete(4, {{"x", 0.3}}, 3.0),
      with_state(5, TrialState::Running),
      with_state(6, TrialState::Pruned, {{1, 0.1}}),  // lower value, but stopped at step 1
      complete(7, {{"x", 0.4}}, 2.0),
      with_state(8, TrialState::Pruned),  // never reported
      with_state(9, TrialState::Waiting),
  };
  TpeOptions o;
  // 7 finished trials (4 complete, 3 pruned); gamma 0.5: ceil(3.5) = 4 good.
  o.gamma = 0.5;
  auto s = detail::tpe_split(h, Direction::Minimize, o);
  EXPECT_EQ(s.good, (std::vector<int>{1, 7, 4, 0}));
  EXPECT_EQ(s.bad, (std::vector<int>{2, 6, 8, 5}));  // the running trial is the liar
  // gamma 0.8: ceil(5.6) = 6 good; pruned trials fill in after all complete ones.
  o.gamma = 0.8;
  s = detail::tpe_split(h, Direction::Minimize, o);
  EXPECT_EQ(s.good, (std::vector<int>{1, 7, 4, 0, 2, 6}));
  EXPECT_EQ(s.bad, (std::vector<int>{8, 5}));
  // good_max caps the good group.
  o.good_max = 2;
  s = detail::tpe_split(h, Direction::Minimize, o);
  EXPECT_EQ(s.good, (std::vector<int>{1, 7}));
  // Maximising flips the order of values (and of pruned trials' last values).
  o = TpeOptions{};
  o.gamma = 0.25;  // ceil(1.75) = 2
  s = detail::tpe_split(h, Direction::Maximize, o);
  EXPECT_EQ(s.good, (std::vector<int>{0, 4}));
  EXPECT_EQ(s.bad, (std::vector<int>{7, 1, 2, 6, 8, 5}));
  // Without the liar, running trials are not used at all.
  o.constant_liar = false;
  s = detail::tpe_split(h, Direction::Maximize, o);
  EXPECT_EQ(s.bad, (std::vector<int>{7, 1, 2, 6, 8}));
}

TEST(TpeSplit, GoodCount) {
  EXPECT_EQ(detail::tpe_good_count(1, 0.1, 25), 1u);
  EXPECT_EQ(detail::tpe_good_count(10, 0.1, 25), 1u);
  EXPECT_EQ(detail::tpe_good_count(11, 0.1, 25), 2u);
  EXPECT_EQ(detail::tpe_good_count(30, 0.1, 25), 3u);  // 0.1 * 30 is 3.0000000000000004
  EXPECT_EQ(detail::tpe_good_count(100, 0.2, 25), 20u);
  EXPECT_EQ(detail::tpe_good_count(1000, 0.2, 25), 25u);
  EXPECT_EQ(detail::tpe_good_count(7, 1.0, 25), 7u);
}

// ---- The sampler --------------------------------------------------------------------------

TEST(TpeSampler, StartupIsSobolThenTheModel) {
  SearchSpace space = two_floats();
  auto tpe = make_tpe_sampler(4), sobol = make_sobol_sampler(4);
  auto h = sphere_history(9, 1);
  // 9 finished trials < startup 10: the point is Sobol's point for this trial number.
  EXPECT_EQ(suggest(*tpe, space, h, 9), suggest(*sobol, space, {}, 9));
  h = sphere_history(10, 1);
  EXPECT_NE(suggest(*tpe, space, h, 10), suggest(*sobol, space, {}, 10));
}

TEST(TpeSampler, SameSeedSameSuggestionsOtherSeedOther) {
  const suite::Problem p = suite::problem("hp_mixed3");  // int, choice and log float
  auto run = [&](std::uint64_t seed) {
    auto s = make_tpe_sampler(seed);
    std::vector<TrialRecord> h;
    for (int i = 0; i < 40; ++i) {
      Params x = suggest(*s, p.space, h, i);
      double y = p.f(x);
      h.push_back(complete(i, std::move(x), y));
    }
    return h;
  };
  auto a = run(3), b = run(3), c = run(4);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(a[i].params, b[i].params) << i;
  int same = 0;
  for (int i = 10; i < 40; ++i) same += a[i].params == c[i].params;
  EXPECT_LT(same, 30);
  for (const auto& t : a) {  // ints are whole numbers in range; choices are indices
    EXPECT_EQ(t.params.at("layers"), std::round(t.params.at("layers")));
    EXPECT_GE(t.params.at("layers"), 1);
    EXPECT_LE(t.params.at("layers"), 6);
    EXPECT_TRUE(t.params.at("optimizer") == 0 || t.params.at("optimizer") == 1 ||
                t.params.at("optimizer") == 2);
  }
}

TEST(TpeSampler, SuggestionDependsOnlyOnSeedNumberAndHistory) {
  // Concurrent calls on one sampler give what sequential calls give.
  SearchSpace space = two_floats();
  auto h = sphere_history(60, 2);
  auto s = make_tpe_sampler(9);
  std::vector<Params> sequential, parallel(16);
  for (int i = 0; i < 16; ++i) sequential.push_back(suggest(*s, space, h, 60 + i));
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k)
    threads.emplace_back([&, k] {
      for (int i = k; i < 16; i += 4) parallel[i] = suggest(*s, space, h, 60 + i);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(sequential, parallel);
}

TEST(TpeSampler, ConstantLiarMovesTheNextSuggestion) {
  SearchSpace space = two_floats();
  const auto h = sphere_history(30, 3);
  for (bool liar : {true, false}) {
    TpeOptions o;
    o.constant_liar = liar;
    auto s = make_tpe_sampler(11, o);
    // Worker 1 takes trial 30; while it runs, worker 2 asks for trial 31.
    const Params first = suggest(*s, space, h, 30);
    auto with_running = h;
    TrialRecord running;
    running.number = 30;
    running.state = TrialState::Running;
    running.params = first;
    with_running.push_back(running);
    const Params second = suggest(*s, space, with_running, 31);
    const Params second_alone = suggest(*s, space, h, 31);
    EXPECT_NE(second, first);
    if (liar)
      EXPECT_NE(second, second_alone) << "the running trial must change the model";
    else
      EXPECT_EQ(second, second_alone) << "without the liar running trials are ignored";
  }
  // On average the liar pushes the next suggestion away from the running point: here the
  // running point is the best trial's, in the middle of the good region.
  auto s = make_tpe_sampler(12);
  const auto best = *std::min_element(h.begin(), h.end(), [](const auto& a, const auto& b) {
    return *a.value < *b.value;
  });
  auto with_running = h;
  TrialRecord running;
  running.number = 30;
  running.state = TrialState::Running;
  running.params = best.params;
  with_running.push_back(running);
  auto distance = [&](const Params& p) {
    return std::hypot(p.at("x") - best.params.at("x"), p.at("y") - best.params.at("y"));
  };
  double near_alone = 0, near_lied = 0;
  for (int n = 31; n < 231; ++n) {
    near_alone += distance(suggest(*s, space, h, n)) < 0.05;
    near_lied += distance(suggest(*s, space, with_running, n)) < 0.05;
  }
  EXPECT_LT(near_lied, 0.5 * near_alone) << near_lied << " vs " << near_alone;
}

TEST(TpeSampler, ConditionalParametersOnlyWhenActive) {
  SearchSpace space = SearchSpace::from_config_json(json::parse(R"({
    "optimizer": {"type": "choice", "values": ["sgd", "adam", "rmsprop"]},
    "lr": {"type": "float", "low": 1e-5, "high": 1, "scale": "log"},
    "momentum": {"type": "float", "low": 0, "high": 0.99, "when": "optimizer == sgd"},
    "beta1": {"type": "float", "low": 0.5, "high": 0.999, "scale": "reverse_log",
              "when": "optimizer in [adam, rmsprop]"},
    "layers": {"type": "int", "low": 1, "high": 4, "when": "optimizer == adam"}
  })"));
  auto objective = [](const Params& p) {
    double v = std::pow(std::log10(p.at("lr")) + 3, 2);
    if (p.count("momentum")) v += std::pow(p.at("momentum") - 0.9, 2) + 0.5;
    if (p.count("beta1")) v += 10 * std::pow(p.at("beta1") - 0.95, 2);
    if (p.count("layers")) v += 0.1 * std::abs(p.at("layers") - 2);
    return v;
  };
  for (bool multivariate : {true, false}) {
    TpeOptions o;
    o.multivariate = multivariate;
    auto s = make_tpe_sampler(5, o);
    std::vector<TrialRecord> h;
    double best = INFINITY;
    for (int i = 0; i < 60; ++i) {
      Params p = suggest(*s, space, h, i);
      const int opt = static_cast<int>(p.at("optimizer"));
      EXPECT_EQ(p.count("momentum"), opt == 0 ? 1u : 0u);
      EXPECT_EQ(p.count("beta1"), opt != 0 ? 1u : 0u);
      EXPECT_EQ(p.count("layers"), opt == 1 ? 1u : 0u);
      for (const auto& [name, v] : p) {
        ASSERT_TRUE(std::isfinite(v)) << name;
        const Parameter& q = space.at(name);
        if (q.type != ParamType::Choice) {
          EXPECT_GE(v, q.low) << name;
          EXPECT_LE(v, q.high) << name;
        }
      }
      double y = objective(p);
      best = std::min(best, y);
      h.push_back(complete(i, std::move(p), y));
    }
    EXPECT_LT(best, 0.05) << "multivariate " << multivariate;  // adam/rmsprop, lr near 1e-3
  }
}

TEST(TpeSampler, MaximizeSeeksLargeValues) {
  SearchSpace space = SearchSpace::from_config_json(
      json::parse(R"({"x": {"type": "float", "low": 0, "high": 1}})"));
  for (Direction direction : {Direction::Maximize, Direction::Minimize}) {
    auto s = make_tpe_sampler(2);
    std::vector<TrialRecord> h;
    for (int i = 0; i < 40; ++i) {
      Params p = suggest(*s, space, h, i, direction);
      double x = p.at("x");
      h.push_back(complete(i, std::move(p), x));
    }
    double last = 0;
    for (int i = 30; i < 40; ++i) last += h[i].params.at("x") / 10;
    if (direction == Direction::Maximize)
      EXPECT_GT(last, 0.8);
    else
      EXPECT_LT(last, 0.2);
  }
}

TEST(TpeSampler, IgnoresFailedTrialsAndUsesPrunedOnes) {
  // Failed trials carry no information; a history of only failed trials leaves the
  // sampler in its startup phase.
  SearchSpace space = two_floats();
  std::vector<TrialRecord> h = sphere_history(20, 4);
  for (auto& t : h) t.state = TrialState::Failed, t.value.reset();
  auto s = make_tpe_sampler(6), sobol = make_sobol_sampler(6);
  EXPECT_EQ(suggest(*s, space, h, 20), suggest(*sobol, space, {}, 20));
  // Pruned trials count as finished.
  for (auto& t : h) t.state = TrialState::Pruned, t.intermediate = {{1, 1.0}};
  EXPECT_NE(suggest(*s, space, h, 20), suggest(*sobol, space, {}, 20));
}

TEST(TpeSampler, BeatsRandomOnBranin2AndHpLog2) {
  for (const char* name : {"branin2", "hp_log2"}) {
    const suite::Problem p = suite::problem(name);
    for (bool multivariate : {true, false}) {
      std::vector<double> tpe, random;
      for (std::uint64_t seed = 0; seed < 10; ++seed) {
        TpeOptions o;
        o.multivariate = multivariate;
        tpe.push_back(regret(*make_tpe_sampler(seed, o), p, 60));
        random.push_back(regret(*make_random_sampler(seed), p, 60));
      }
      EXPECT_LT(median(tpe), 0.5 * median(random))
          << name << (multivariate ? " multivariate" : " univariate") << ": tpe "
          << median(tpe) << " vs random " << median(random);
    }
  }
}

TEST(TpeSampler, Settings) {
  auto s = make_sampler(SamplerOptions{"tpe", 1, json::parse(R"({"multivariate": false,
      "startup": 5, "candidates": 48, "gamma": 0.25, "good_max": 10, "constant_liar": false,
      "prior_weight": 2, "bandwidth": "scott", "startup_sampler": "random"})")});
  EXPECT_EQ(s->name(), "tpe");
  EXPECT_TRUE(s->needs_history());
  auto fails = [](const char* settings, const std::string& key) {
    try {
      make_sampler(SamplerOptions{"tpe", 1, json::parse(settings)});
      ADD_FAILURE() << settings << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.where(), key) << e.what();
    }
  };
  fails(R"({"gamma": 0})", "sampler.gamma");
  fails(R"({"gamma": 1.5})", "sampler.gamma");
  fails(R"({"candidates": 0})", "sampler.candidates");
  fails(R"({"startup": -1})", "sampler.startup");
  fails(R"({"prior_weight": 0})", "sampler.prior_weight");
  fails(R"({"multivariate": "yes"})", "sampler.multivariate");
  fails(R"({"bandwidth": "silverman"})", "sampler.bandwidth");
  fails(R"({"startup_sampler": "grid"})", "sampler.startup_sampler");
  fails(R"({"gama": 0.1})", "sampler.gama");
}
