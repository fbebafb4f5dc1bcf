// CMA-ES: the plain algorithm (convergence, one update by hand) and the cmaes sampler
// (replay from history, IPOP restarts, mixed spaces, determinism, quality against random).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "bench/suite.h"
#include "caviar/error.h"
#include "caviar/sampler.h"
#include "base/random.h"
#include "algorithms/samplers/cmaes/cma_es.h"
#include "algorithms/samplers/cmaes/cmaes_sampler.h"
#include "support/history.h"

using namespace caviar;
using caviar::testing::complete;
using caviar::testing::median;
using caviar::detail::CmaEs;
using caviar::detail::CmaEsConstants;
using caviar::detail::CmaEsGeneration;

namespace {

// Runs plain CMA-ES on f from x0 until f < target; returns the evaluations used (or
// `limit` + 1 if it never got there).
int evaluations_to(const std::function<double(const Eigen::VectorXd&)>& f, Eigen::VectorXd x0,
                   double sigma, double target, int limit, std::uint64_t seed) {
  CmaEs es(std::move(x0), sigma, CmaEsConstants::default_lambda(static_cast<int>(x0.size())));
  detail::Rng rng(seed);
  int used = 0;
  while (used < limit) {
    std::vector<std::pair<Eigen::VectorXd, double>> points;
    for (int k = 0; k < es.lambda(); ++k) {
      Eigen::VectorXd z(es.dim());
      for (auto& v : z) v = rng.normal();
      Eigen::VectorXd x = es.sample(z);
      double fx = f(x);
      ++used;
      if (fx < target) return used;
      points.emplace_back(std::move(x), fx);
    }
    es.tell(std::move(points));
  }
  return limit + 1;
}

double sphere(const Eigen::VectorXd& x) { return x.squaredNorm(); }

// The ellipsoid with condition number 1e6: sum 10^(6 i / (n - 1)) x_i^2.
double ellipsoid(const Eigen::VectorXd& x) {
  double f = 0;
  const auto n = x.size();
  for (Eigen::Index i = 0; i < n; ++i)
    f += std::pow(10.0, 6.0 * static_cast<double>(i) / static_cast<double>(n - 1)) * x(i) * x(i);
  return f;
}

// Runs a sampler sequentially for `trials` trials on f; returns the trials.
std::vector<TrialRecord> run(Sampler& sampler, const SearchSpace& space,
                             const std::function<double(const Params&)>& f, int trials,
                             Direction direction = Direction::Minimize) {
  std::vector<TrialRecord> history;
  const Params fixed;
  for (int n = 0; n < trials; ++n) {
    SampleContext c{space, history, n, direction, fixed};
    Params p = *sampler.suggest(c);
    history.push_back(complete(n, p, f(p)));
  }
  return history;
}

double best_of(const std::vector<TrialRecord>& history, int first_n) {
  double best = INFINITY;
  for (int i = 0; i < first_n && i < static_cast<int>(history.size()); ++i)
    best = std::min(best, *history[static_cast<std::size_t>(i)].value);
  return best;
}

SearchSpace box2() {
  return SearchSpace::from_config_json(json::parse(R"({
    "x": {"type": "float", "low": -1, "high": 1},
    "y": {"type": "float", "low": -1, "high": 1}})"));
}

}  // namespace

// ---------------------------------------------------------------------------------------
// The plain algorithm.

TEST(CmaEs, DefaultConstantsMatchTheTutorial) {
  // n = 2: lambda = 4 + floor(3 ln 2) = 6. n = 10: 4 + floor(6.9) = 10.
  EXPECT_EQ(CmaEsConstants::default_lambda(2), 6);
  EXPECT_EQ(CmaEsConstants::default_lambda(5), 8);
  EXPECT_EQ(CmaEsConstants::default_lambda(10), 10);
  // n = 2, lambda = 4: w'_i = ln 2.5 - ln i; the positive ones normalised to sum 1.
  auto c = CmaEsConstants::of(2, 4);
  EXPECT_EQ(c.mu, 2);
  const double w1 = std::log(2.5), w2 = std::log(2.5) - std::log(2.0);
  EXPECT_NEAR(c.weights(0), w1 / (w1 + w2), 1e-15);
  EXPECT_NEAR(c.weights(1), w2 / (w1 + w2), 1e-15);
  EXPECT_NEAR(c.mu_eff, (w1 + w2) * (w1 + w2) / (w1 * w1 + w2 * w2), 1e-14);
  EXPECT_NEAR(c.c_sigma, (c.mu_eff + 2) / (2 + c.mu_eff + 5), 1e-15);
  EXPECT_NEAR(c.c_1, 2 / (3.3 * 3.3 + c.mu_eff), 1e-15);
  // The negative (active) weights sum to -min(alpha's): here alpha_mu_eff^- = 1.9679 (numpy).
  EXPECT_LT(c.weights(2), 0);
  EXPECT_LT(c.weights(3), c.weights(2));
  EXPECT_NEAR(c.weights(2) + c.weights(3), -1.9678938791493353, 1e-12);
}

TEST(CmaEs, OneGenerationUpdateByHand) {
  // n = 2, lambda = 4, m = 0, sigma = 1, C = I; four points with values 1..4 given out
  // of order. Expected values computed independently from the tutorial's formulas (numpy).
  CmaEs es(Eigen::VectorXd::Zero(2), 1.0, 4);
  std::vector<std::pair<Eigen::VectorXd, double>> points = {
      {Eigen::Vector2d(-1, 0.5), 3}, {Eigen::Vector2d(1, 0), 1},
      {Eigen::Vector2d(0.5, -1), 4}, {Eigen::Vector2d(0, 1), 2}};
  es.tell(points);
  // The mean moves to the weighted mean of the best mu = 2: w1 (1, 0) + w2 (0, 1).
  EXPECT_NEAR(es.mean()(0), 0.8041628599327295, 1e-14);
  EXPECT_NEAR(es.mean()(1), 0.19583714006727054, 1e-14);
  EXPECT_NEAR(es.sigma(), 0.9015965120307203, 1e-13);
  EXPECT_NEAR(es.covariance()(0, 0), 0.9851530550875263, 1e-13);
  EXPECT_NEAR(es.covariance()(0, 1), 0.10344503236161484, 1e-13);
  EXPECT_NEAR(es.covariance()(1, 0), 0.10344503236161484, 1e-13);
  EXPECT_NEAR(es.covariance()(1, 1), 0.7859871886793527, 1e-13);
  EXPECT_EQ(es.generation(), 1);
}

TEST(CmaEs, AFarInjectedPointMovesTheMeanByAtMostTheClippedStep) {
  // A point 1000 sigma away, best of the generation: its step is clipped to Mahalanobis
  // length sqrt(n) + 2n / (n + 2) = sqrt(2) + 1 before recombination.
  CmaEs es(Eigen::VectorXd::Zero(2), 1.0, 4);
  es.tell({{Eigen::Vector2d(1000, 0), 1}, {Eigen::Vector2d(0, 0.1), 2},
           {Eigen::Vector2d(0.1, 0), 3}, {Eigen::Vector2d(0, -0.1), 4}});
  const double w1 = es.constants().weights(0);
  EXPECT_NEAR(es.mean()(0), w1 * (std::sqrt(2.0) + 1), 1e-12);
  EXPECT_TRUE(es.finite());
}

TEST(CmaEs, MinimisesSphereAndEllipsoidIn5D) {
  // From x0 = (1, ..., 1), sigma 0.5, default population 8, to f < 1e-10. Measured over
  // seeds 1..20 (this implementation): sphere 713-925 evaluations, ellipsoid (condition
  // 1e6, where the covariance must learn the scales) 1335-1898.
  const Eigen::VectorXd x0 = Eigen::VectorXd::Ones(5);
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    EXPECT_LE(evaluations_to(sphere, x0, 0.5, 1e-10, 1000, seed), 1000) << "seed " << seed;
    EXPECT_LE(evaluations_to(ellipsoid, x0, 0.5, 1e-10, 2000, seed), 2000) << "seed " << seed;
  }
}

TEST(CmaEs, AGenerationWithFewerPointsStillUpdates) {
  // Two of six points (the rest failed): weights of a population of 2, mean moves to w1 x1.
  CmaEs es(Eigen::VectorXd::Zero(2), 1.0, 6);
  es.tell({{Eigen::Vector2d(0, 1), 2}, {Eigen::Vector2d(1, 0), 1}});
  const double w1 = CmaEsConstants::of(2, 2).weights(0);
  EXPECT_DOUBLE_EQ(w1, 1.0);
  EXPECT_NEAR(es.mean()(0), 1.0, 1e-15);
  EXPECT_NEAR(es.mean()(1), 0.0, 1e-15);
  es.tell({});  // none: nothing happens
  EXPECT_EQ(es.generation(), 1);
}

// ---------------------------------------------------------------------------------------
// The sampler.

TEST(CmaEsSampler, SameSeedSameSuggestionsOtherSeedOthers) {
  auto p = suite::problem("branin2");
  auto a = make_cmaes_sampler(3), b = make_cmaes_sampler(3), c = make_cmaes_sampler(4);
  auto ha = run(*a, p.space, p.f, 40), hb = run(*b, p.space, p.f, 40), hc = run(*c, p.space, p.f, 40);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(ha[i].params, hb[i].params) << "trial " << i;
  int differ = 0;
  for (int i = 0; i < 40; ++i) differ += ha[i].params != hc[i].params;
  EXPECT_EQ(differ, 40);
}

TEST(CmaEsSampler, ReplayFromTheFullHistoryEqualsTheIncrementalRun) {
  // Trials sampled one by one (the cache grows a generation at a time) against a fresh
  // sampler asked for trial n with the whole history, including trials after n.
  auto p = suite::problem("hartmann6");
  auto incremental = make_cmaes_sampler(11);
  auto history = run(*incremental, p.space, p.f, 90);
  const Params fixed;
  for (int n : {0, 7, 8, 9, 16, 17, 43, 89}) {
    auto fresh = make_cmaes_sampler(11);
    SampleContext c{p.space, history, n, Direction::Minimize, fixed};
    EXPECT_EQ(*fresh->suggest(c), history[static_cast<std::size_t>(n)].params) << "trial " << n;
  }
  // One sampler asked out of order (late trial, then early ones) gives the same points.
  auto shuffled = make_cmaes_sampler(11);
  for (int n : {89, 12, 60, 8, 88}) {
    SampleContext c{p.space, history, n, Direction::Minimize, fixed};
    EXPECT_EQ(*shuffled->suggest(c), history[static_cast<std::size_t>(n)].params) << "trial " << n;
  }
}

TEST(CmaEsSampler, TrialsThatFinishLateUpdateTheirGenerationOnTheNextCall) {
  // hp_log2 has 2 CMA-ES parameters: startup 8, then generations of 6 (8-13, 14-19, ...).
  auto p = suite::problem("hp_log2");
  auto reference = make_cmaes_sampler(5);
  auto history = run(*reference, p.space, p.f, 30);
  const Params fixed;
  // A worker opens trial 21 while trials 16 and 19 of generation 14-19 still run, and 12
  // of generation 8-13 failed.
  auto running = history;
  running[16].state = running[19].state = TrialState::Running;
  running[16].value.reset();
  running[19].value.reset();
  running[12].state = TrialState::Failed;
  running[12].value.reset();
  auto sampler = make_cmaes_sampler(5);
  SampleContext early{p.space, running, 21, Direction::Minimize, fixed};
  const Params while_running = *sampler->suggest(early);
  EXPECT_NE(while_running, history[21].params);  // generation 14-19 was updated from 4 trials
  // 16 and 19 finish: the same sampler (cached) and a fresh one agree on trial 22.
  running[16] = history[16];
  running[19] = history[19];
  SampleContext later{p.space, running, 22, Direction::Minimize, fixed};
  auto fresh = make_cmaes_sampler(5);
  EXPECT_EQ(*sampler->suggest(later), *fresh->suggest(later));
  // And once 12 is back as complete, everything equals the sequential run again.
  running[12] = history[12];
  EXPECT_EQ(*sampler->suggest(later), history[22].params);
}

TEST(CmaEsSampler, SuggestFromSeveralThreadsAgrees) {
  auto p = suite::problem("levy6");
  auto sequential = make_cmaes_sampler(2);
  auto history = run(*sequential, p.space, p.f, 60);
  auto shared = make_cmaes_sampler(2);
  const Params fixed;
  std::vector<Params> got(60);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int n = t; n < 60; n += 4) {
        SampleContext c{p.space, history, n, Direction::Minimize, fixed};
        got[static_cast<std::size_t>(n)] = *shared->suggest(c);
      }
    });
  for (auto& t : threads) t.join();
  for (int n = 0; n < 60; ++n) EXPECT_EQ(got[static_cast<std::size_t>(n)], history[static_cast<std::size_t>(n)].params) << n;
}

TEST(CmaEsSampler, MaximisingMinusFEqualsMinimisingF) {
  auto p = suite::problem("branin2");
  auto a = make_cmaes_sampler(9), b = make_cmaes_sampler(9);
  auto lo = run(*a, p.space, p.f, 40);
  auto hi = run(*b, p.space, [&](const Params& x) { return -p.f(x); }, 40, Direction::Maximize);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(lo[i].params, hi[i].params) << i;
}

TEST(CmaEsSampler, LayoutFollowsStartupAndPopsize) {
  auto space = box2();
  CmaEsSamplerOptions o;
  o.startup = 5;
  o.popsize = 7;
  detail::CmaEsSampler sampler(1, o);
  auto f = [](const Params& x) { return x.at("x") * x.at("x") + x.at("y") * x.at("y"); };
  auto history = run(sampler, space, f, 40);
  const Params fixed;
  SampleContext c{space, history, 39, Direction::Minimize, fixed};
  auto layout = sampler.layout(c);
  ASSERT_EQ(layout.size(), 5u);  // 5-11, 12-18, 19-25, 26-32, 33-39
  for (int g = 0; g < 5; ++g)
    EXPECT_EQ(layout[static_cast<std::size_t>(g)], (CmaEsGeneration{0, g, 5 + 7 * g, 7}));
  SampleContext in_startup{space, history, 4, Direction::Minimize, fixed};
  EXPECT_TRUE(sampler.layout(in_startup).empty());
}

TEST(CmaEsSampler, IpopRestartsDoubleThePopulation) {
  // A constant objective: the best never improves, so each run stops after its window of
  // 10 + ceil(30 * 2 / popsize) generations and the next starts with twice the population.
  auto space = box2();
  detail::CmaEsSampler sampler(1, CmaEsSamplerOptions{});
  auto history = run(sampler, space, [](const Params&) { return 1.0; }, 700);
  const Params fixed;
  SampleContext c{space, history, 699, Direction::Minimize, fixed};
  auto layout = sampler.layout(c);
  std::vector<CmaEsGeneration> firsts;
  int next_first = 8;
  for (const auto& g : layout) {
    EXPECT_EQ(g.first_trial, next_first);  // generations tile the trial numbers
    next_first += g.popsize;
    if (g.generation == 0) firsts.push_back(g);
  }
  // The values are flat once a full window of generation bests is in: popsize 6, window
  // 10 + 60 / 6 = 20 generations; popsize 12: 10 + 5 = 15; popsize 24: 10 + 3 = 13.
  ASSERT_EQ(firsts.size(), 4u);
  EXPECT_EQ(firsts[0], (CmaEsGeneration{0, 0, 8, 6}));
  EXPECT_EQ(firsts[1], (CmaEsGeneration{1, 0, 8 + 20 * 6, 12}));
  EXPECT_EQ(firsts[2], (CmaEsGeneration{2, 0, 128 + 15 * 12, 24}));
  EXPECT_EQ(firsts[3], (CmaEsGeneration{3, 0, 308 + 13 * 24, 48}));
  // Without restarts the one run goes on.
  CmaEsSamplerOptions none;
  none.ipop = false;
  detail::CmaEsSampler single(1, none);
  auto h2 = run(single, space, [](const Params&) { return 1.0; }, 300);
  SampleContext c2{space, h2, 299, Direction::Minimize, fixed};
  for (const auto& g : single.layout(c2)) EXPECT_EQ(g.restart, 0);
}

TEST(CmaEsSampler, IpopRestartsAfterConvergingOnASphere) {
  // On a smooth bowl the step size collapses (< 1e-8 of the cube) and a restart follows,
  // from another point, with twice the population.
  auto space = box2();
  detail::CmaEsSampler sampler(4, CmaEsSamplerOptions{});
  auto f = [](const Params& x) {
    return (x.at("x") - 0.3) * (x.at("x") - 0.3) + 10 * (x.at("y") + 0.2) * (x.at("y") + 0.2);
  };
  auto history = run(sampler, space, f, 800);
  const Params fixed;
  SampleContext c{space, history, 799, Direction::Minimize, fixed};
  auto layout = sampler.layout(c);
  ASSERT_GE(layout.back().restart, 1);
  int restart_at = 0;
  for (const auto& g : layout)
    if (g.restart == 1 && g.generation == 0) restart_at = g.first_trial;
  EXPECT_EQ(layout[static_cast<std::size_t>(std::find_if(layout.begin(), layout.end(), [](auto& g) { return g.restart == 1; }) - layout.begin())].popsize, 12);
  // The first run had converged: its best is within 1e-12 of the minimum 0.
  EXPECT_LT(best_of(history, restart_at), 1e-12);
  // The restart's first generation is spread out again (sigma 0.25 of the cube).
  double spread = 0;
  for (int i = restart_at; i < restart_at + 12; ++i)
    spread = std::max(spread, std::abs(history[static_cast<std::size_t>(i)].params.at("x") -
                                       history[static_cast<std::size_t>(restart_at)].params.at("x")));
  EXPECT_GT(spread, 0.05);
}

TEST(CmaEsSampler, MixedSpaceWithAChoiceAndAConditionalFloat) {
  // kind b is best; `lr` exists only for kind b; the best lr is 1e-3 (log scale).
  auto space = SearchSpace::from_config_json(json::parse(R"({
    "x":    {"type": "float", "low": 0, "high": 1},
    "n":    {"type": "int", "low": 1, "high": 8},
    "kind": {"type": "choice", "values": ["a", "b", "c"]},
    "lr":   {"type": "float", "low": 1e-5, "high": 1, "scale": "log", "when": "kind == b"}})"));
  auto f = [](const Params& p) {
    double v = std::pow(p.at("x") - 0.7, 2) + 0.01 * std::pow(p.at("n") - 3, 2);
    if (p.at("kind") != 1) return v + 1;
    return v + 0.1 * std::pow(std::log10(p.at("lr")) + 3, 2);
  };
  int mostly_b = 0;
  std::vector<double> cma, rnd;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    auto sampler = make_cmaes_sampler(seed);
    auto history = run(*sampler, space, f, 80);
    int b = 0;
    for (int i = 0; i < 80; ++i) {
      const Params& p = history[static_cast<std::size_t>(i)].params;
      ASSERT_TRUE(p.count("x") && p.count("n") && p.count("kind"));
      EXPECT_EQ(p.count("lr"), p.at("kind") == 1 ? 1u : 0u);
      EXPECT_EQ(p.at("n"), std::round(p.at("n")));
      if (i >= 60) b += p.at("kind") == 1;
    }
    mostly_b += b >= 15;  // 15 of the last 20 (uniform draws would give about 7)
    auto random = make_random_sampler(seed);
    cma.push_back(best_of(history, 80));
    rnd.push_back(best_of(run(*random, space, f, 80), 80));
  }
  EXPECT_GE(mostly_b, 9);
  // Measured: median best 0.0033 against 0.028 for random search.
  EXPECT_LT(median(cma), median(rnd) / 3) << median(cma) << " vs " << median(rnd);
}

TEST(CmaEsSampler, EnqueuedValuesAreKeptAndJoinTheUpdate) {
  auto space = box2();
  auto sampler = make_cmaes_sampler(1);
  std::vector<TrialRecord> history;
  const Params none;
  for (int n = 0; n < 20; ++n) {
    Params fixed;
    if (n == 10) fixed = {{"x", 0.25}};
    SampleContext c{space, history, n, Direction::Minimize, n == 10 ? fixed : none};
    Params p = *sampler->suggest(c);
    if (n == 10) EXPECT_EQ(p.at("x"), 0.25);
    history.push_back(complete(n, p, p.at("x") * p.at("x") + p.at("y") * p.at("y")));
  }
  // A fresh sampler replays the same (the enqueued point is read from the history).
  auto fresh = make_cmaes_sampler(1);
  SampleContext c{space, history, 19, Direction::Minimize, none};
  EXPECT_EQ(*fresh->suggest(c), history[19].params);
}

TEST(CmaEsSampler, BeatsRandomOnBranin2AndHpLog2) {
  // Median regret over seeds 0-9 after 100 trials.
  for (const char* name : {"branin2", "hp_log2"}) {
    auto p = suite::problem(name);
    std::vector<double> cma, rnd;
    for (std::uint64_t seed = 0; seed < 10; ++seed) {
      auto a = make_cmaes_sampler(seed);
      auto b = make_random_sampler(seed);
      cma.push_back(best_of(run(*a, p.space, p.f, 100), 100) - p.fstar);
      rnd.push_back(best_of(run(*b, p.space, p.f, 100), 100) - p.fstar);
    }
    EXPECT_LT(median(cma), median(rnd) / 3) << name << ": cmaes " << median(cma) << ", random "
                                            << median(rnd);
  }
}

TEST(CmaEsSampler, SettingsAreCheckedByName) {
  SamplerOptions o;
  o.name = "cmaes";
  o.settings = {{"startup", 4}, {"sigma0", 0.2}, {"popsize", 10}, {"restarts", "none"}};
  EXPECT_EQ(make_sampler(o)->name(), "cmaes");
  auto error_key = [&](json settings) -> std::string {
    o.settings = std::move(settings);
    try {
      make_sampler(o);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(error_key({{"sigma0", 0}}).find("sampler.sigma0"), std::string::npos);
  EXPECT_NE(error_key({{"sigma0", 1.5}}).find("sampler.sigma0"), std::string::npos);
  EXPECT_NE(error_key({{"popsize", 1}}).find("sampler.popsize"), std::string::npos);
  EXPECT_NE(error_key({{"startup", -1}}).find("sampler.startup"), std::string::npos);
  EXPECT_NE(error_key({{"restarts", "bipop"}}).find("sampler.restarts"), std::string::npos);
  EXPECT_NE(error_key({{"sigma", 0.2}}).find("sampler.sigma"), std::string::npos);
  o.settings = json::object();
  o.name = "cmaes-x";
  try {
    make_sampler(o);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cmaes"), std::string::npos);
  }
}
