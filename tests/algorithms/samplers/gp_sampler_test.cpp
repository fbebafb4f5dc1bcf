// The GP sampler: determinism, running and failed trials, settings, pruned trials, noise,
// the cost model, and search quality against random search.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <thread>

#include <Eigen/LU>

#include "bench/suite.h"
#include "caviar/error.h"
#include "caviar/sampler.h"
#include "algorithms/samplers/gp/acquisition.h"
#include "algorithms/samplers/gp/cost_model.h"
#include "algorithms/samplers/gp/gaussian_process.h"
#include "algorithms/samplers/gp/lbfgsb.h"
#include "algorithms/samplers/gp/output_transform.h"
#include "algorithms/samplers/gp/pruned_values.h"
#include "support/history.h"

using namespace caviar;
using caviar::testing::complete;
using caviar::testing::median;
using detail::GaussianProcess;
using detail::GpHyperparameters;

namespace {

// Runs `trials` sequential trials of a suite problem; returns the final regret.
double run(Sampler& sampler, const suite::Problem& p, int trials) {
  std::vector<TrialRecord> history;
  const Params fixed;
  double best = INFINITY;
  for (int n = 0; n < trials; ++n) {
    SampleContext c{p.space, history, n, Direction::Minimize, fixed};
    Params params = *sampler.suggest(c);
    double v = p.f(params);
    best = std::min(best, v);
    history.push_back(complete(n, std::move(params), v));
  }
  return best - p.fstar;
}

std::unique_ptr<Sampler> gp(std::uint64_t seed, json settings = json::object()) {
  return make_sampler(SamplerOptions{"gp", seed, std::move(settings)});
}


// n complete trials of `p` at points of the random sampler with `seed`.
std::vector<TrialRecord> random_history(const suite::Problem& p, std::uint64_t seed, int n) {
  auto random = make_random_sampler(seed);
  std::vector<TrialRecord> history;
  for (int i = 0; i < n; ++i) {
    SampleContext c{p.space, history, i, Direction::Minimize, Params{}};
    Params params = *random->suggest(c);
    history.push_back(complete(i, params, p.f(params)));
  }
  return history;
}

}  // namespace

TEST(GpSampler, SameSeedSameSuggestionsOtherSeedOthers) {
  const suite::Problem p = suite::problem("branin2");
  auto trace = [&](std::uint64_t seed) {
    auto s = gp(seed, {{"startup", 5}});
    std::vector<TrialRecord> history;
    const Params fixed;
    for (int n = 0; n < 14; ++n) {
      SampleContext c{p.space, history, n, Direction::Minimize, fixed};
      Params params = *s->suggest(c);
      history.push_back(complete(n, params, p.f(params)));
    }
    return history;
  };
  auto a = trace(7), b = trace(7), c = trace(8);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].params, b[i].params) << "trial " << i;
  EXPECT_NE(a.back().params, c.back().params);
  // A fresh sampler given the same history suggests the same point (no hidden state).
  std::vector<TrialRecord> prefix(a.begin(), a.begin() + 12);
  const Params fixed;
  SampleContext ctx{p.space, prefix, 12, Direction::Minimize, fixed};
  EXPECT_EQ(*gp(7, {{"startup", 5}})->suggest(ctx), a[12].params);
}

TEST(GpSampler, BeatsRandomOnBraninAndHpLogByMedianOverTenSeeds) {
  for (const char* name : {"branin2", "hp_log2"}) {
    const suite::Problem p = suite::problem(name);
    std::vector<double> model, random;
    for (std::uint64_t seed = 0; seed < 10; ++seed) {
      model.push_back(run(*gp(seed), p, 30));
      random.push_back(run(*make_random_sampler(seed), p, 30));
    }
    // Measured: branin2 0.0055 against 0.63 for random; hp_log2 3.5e-6 against 0.12.
    EXPECT_LT(median(model), 0.1 * median(random)) << name;
  }
}

TEST(GpSampler, MaximizeIsMinimizeOfTheNegation) {
  const suite::Problem p = suite::problem("hartmann3");
  const std::vector<TrialRecord> low = random_history(p, 3, 15);
  std::vector<TrialRecord> high = low;
  for (auto& t : high) t.value = -*t.value;
  const Params fixed;
  SampleContext cmin{p.space, low, 15, Direction::Minimize, fixed};
  SampleContext cmax{p.space, high, 15, Direction::Maximize, fixed};
  EXPECT_EQ(*gp(1)->suggest(cmin), *gp(1)->suggest(cmax));
}

TEST(GpSampler, RunningTrialsPushTheNextSuggestionElsewhere) {
  const suite::Problem p = suite::problem("branin2");
  std::vector<TrialRecord> history = random_history(p, 5, 15);
  const Params fixed;
  SampleContext c{p.space, history, 15, Direction::Minimize, fixed};
  Params first = *gp(2)->suggest(c);
  // Trial 15 now runs at that point; trial 16 goes somewhere else.
  TrialRecord running;
  running.number = 15;
  running.state = TrialState::Running;
  running.params = first;
  history.push_back(running);
  SampleContext next{p.space, history, 16, Direction::Minimize, fixed};
  Params second = *gp(2)->suggest(next);
  double du = std::hypot((second.at("x0") - first.at("x0")) / 15, (second.at("x1") - first.at("x1")) / 15);
  EXPECT_GT(du, 1e-3);
}

TEST(GpSampler, MixedConditionalSpaceWithFailuresAndPrunedTrials) {
  SearchSpace space = SearchSpace::from_config_json(json::parse(R"({
    "layers": {"type": "int", "low": 1, "high": 6},
    "opt":    {"type": "choice", "values": ["sgd", "adam", "rmsprop"]},
    "beta":   {"type": "float", "low": 0.001, "high": 0.2, "scale": "log", "when": "opt == adam"},
    "lr":     {"type": "float", "low": 1e-5, "high": 1, "scale": "log"},
    "width":  {"type": "int", "low": 16, "high": 1024, "scale": "log"}})"));
  auto f = [](const Params& q) {
    double v = 0.1 * std::pow(q.at("layers") - 4, 2) + std::pow(std::log10(q.at("lr")) + 3, 2) +
               (q.at("opt") == 1 ? std::pow(std::log10(q.at("beta")) + 2, 2) : 0.5) +
               0.1 * std::abs(std::log2(q.at("width")) - 7);
    return v;
  };
  // 40 trials, every 7th failed and every 7th pruned (with a worse intermediate value).
  auto search = [&](Sampler& s, std::vector<TrialRecord>& history) {
    const Params fixed;
    double best = INFINITY;
    for (int n = 0; n < 40; ++n) {
      SampleContext c{space, history, n, Direction::Minimize, fixed};
      Params q = *s.suggest(c);
      EXPECT_EQ(q.at("layers"), std::round(q.at("layers")));
      EXPECT_EQ(q.at("width"), std::round(q.at("width")));
      EXPECT_EQ(q.count("beta"), q.at("opt") == 1 ? 1u : 0u);
      TrialRecord t = complete(n, q, f(q));
      if (n % 7 == 3) t.state = TrialState::Failed, t.value.reset();
      if (n % 7 == 5) t.state = TrialState::Pruned, t.value.reset(), t.intermediate[1] = f(q) + 1;
      if (t.state == TrialState::Complete) best = std::min(best, *t.value);
      history.push_back(std::move(t));
    }
    return best;
  };
  std::vector<double> model, random;
  std::vector<TrialRecord> history;
  for (std::uint64_t seed = 0; seed < 15; ++seed) {
    history.clear();
    random.push_back(search(*make_random_sampler(seed), history));
    history.clear();
    model.push_back(search(*gp(seed, {{"startup", 6}, {"candidates", 128}}), history));
  }
  // Measured: medians 0.124 for gp and 0.632 for random. (Five seeds were too few: the
  // indifference draw moved their gp median from 0.23 to 0.50, while over 30 seeds it
  // left it where it was, 0.138 with and without.)
  EXPECT_LT(median(model), 0.5 * median(random));
  // A fixed (enqueued) value is kept.
  Params pinned = {{"opt", 2.0}};
  SampleContext c{space, history, 40, Direction::Minimize, pinned};
  Params q = *gp(14)->suggest(c);
  EXPECT_EQ(q.at("opt"), 2.0);
  EXPECT_EQ(q.count("beta"), 0u);
}

TEST(GpSampler, ThreadsGetTheSameSuggestionsAsOneThread) {
  const suite::Problem p = suite::problem("hartmann3");
  std::vector<TrialRecord> history = random_history(p, 9, 20);
  const Params fixed;
  auto s = gp(5);
  std::vector<Params> alone(4), together(4);
  for (int i = 0; i < 4; ++i) {
    SampleContext c{p.space, history, 20 + i, Direction::Minimize, fixed};
    alone[i] = *s->suggest(c);
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      SampleContext c{p.space, history, 20 + i, Direction::Minimize, fixed};
      together[i] = *s->suggest(c);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(alone, together);
}

TEST(GpSampler, HistoryOfIdenticalPointsDoesNotCrash) {
  const suite::Problem p = suite::problem("hp_log2");
  std::vector<TrialRecord> history;
  for (int n = 0; n < 20; ++n) history.push_back(complete(n, {{"lr", 1e-3}, {"wd", 1e-4}}, 0.5));
  const Params fixed;
  SampleContext c{p.space, history, 20, Direction::Minimize, fixed};
  auto q = gp(0)->suggest(c);
  ASSERT_TRUE(q);
  EXPECT_TRUE(std::isfinite(q->at("lr")) && std::isfinite(q->at("wd")));
}

TEST(GpSampler, LongHistoriesAreCappedAndStillImprove) {
  // 320 random trials on hartmann6 exceed max_trials (300): the model keeps the best 150
  // and a spread of the rest, and the next suggestions still beat the history's best.
  const suite::Problem p = suite::problem("hartmann6");
  std::vector<TrialRecord> history = random_history(p, 11, 320);
  const Params fixed;
  double best = INFINITY;
  for (const auto& t : history) best = std::min(best, *t.value);
  auto s = gp(0);
  double found = INFINITY;
  for (int n = 320; n < 330; ++n) {
    SampleContext c{p.space, history, n, Direction::Minimize, fixed};
    Params params = *s->suggest(c);
    found = std::min(found, p.f(params));
    history.push_back(complete(n, params, p.f(params)));
  }
  EXPECT_LT(found, best);
}

TEST(GpSampler, SettingsAreChecked) {
  EXPECT_EQ(gp(0, {{"startup", 3},
                   {"candidates", 64},
                   {"max_trials", 100},
                   {"transform", "none"},
                   {"pruned", "last"},
                   {"noise", "prior"},
                   {"acquisition", "ei"}})
                ->name(),
            "gp");
  auto key_of = [](json settings) {
    try {
      gp(0, std::move(settings));
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(key_of({{"candidates", 0}}).find("sampler.candidates"), std::string::npos);
  EXPECT_NE(key_of({{"transform", "sqrt"}}).find("sampler.transform"), std::string::npos);
  EXPECT_NE(key_of({{"pruned", "first"}}).find("sampler.pruned"), std::string::npos);
  EXPECT_NE(key_of({{"cost", "yes"}}).find("sampler.cost"), std::string::npos);
  EXPECT_NE(key_of({{"noise", "none"}}).find("sampler.noise"), std::string::npos);
  EXPECT_NE(key_of({{"acquisition", "ucb"}}).find("sampler.acquisition"), std::string::npos);
  EXPECT_NE(key_of({{"max_trials", 1.5}}).find("sampler.max_trials"), std::string::npos);
  EXPECT_NE(key_of({{"startup_trials", 5}}).find("sampler.startup_trials"), std::string::npos);
}

// Pruned trials: their last report, raised by the median gain of complete trials from that
// step to their final value (numbers worked by hand).
TEST(GpSampler, PrunedTrialsAreAlignedWithCompleteOnes) {
  auto with_reports = [](TrialRecord t, std::map<std::int64_t, double> reports) {
    t.intermediate = std::move(reports);
    return t;
  };
  auto pruned_at = [](int number, std::map<std::int64_t, double> reports) {
    TrialRecord t;
    t.number = number;
    t.state = TrialState::Pruned;
    t.intermediate = std::move(reports);
    return t;
  };
  std::vector<TrialRecord> history = {
      // Gains from epoch 1: 0.10, 0.04, 0.20; from epoch 3: 0.05, 0.02, 0.08.
      with_reports(complete(0, {}, 0.90), {{1, 0.80}, {3, 0.85}, {10, 0.90}}),
      with_reports(complete(1, {}, 0.88), {{1, 0.84}, {3, 0.86}, {10, 0.88}}),
      with_reports(complete(2, {}, 0.89), {{1, 0.69}, {3, 0.81}, {10, 0.89}}),
      pruned_at(3, {{1, 0.70}}),
      pruned_at(4, {{1, 0.75}, {2, 0.78}, {3, 0.80}}),
      pruned_at(5, {}),
  };
  const detail::PrunedValues aligned(history, true), last(history, false);
  EXPECT_NEAR(*aligned(history[3]), 0.70 + 0.10, 1e-12);  // median of 0.10, 0.04, 0.20
  EXPECT_NEAR(*aligned(history[4]), 0.80 + 0.05, 1e-12);  // median of 0.05, 0.02, 0.08
  EXPECT_FALSE(aligned(history[5]));
  EXPECT_DOUBLE_EQ(*last(history[3]), 0.70);
  EXPECT_DOUBLE_EQ(*last(history[4]), 0.80);

  // A step between reports takes each peer's report at or before it (epoch 1 for step 2):
  // a pruned trial at step 2 gains like one at step 1.
  history.push_back(pruned_at(6, {{2, 0.78}}));
  EXPECT_NEAR(*detail::PrunedValues(history, true)(history.back()), 0.78 + 0.10, 1e-12);

  // A fourth peer makes the count even: the mean of the middle two gains from epoch 1.
  history.push_back(with_reports(complete(7, {}, 0.91), {{1, 0.85}, {10, 0.91}}));  // 0.06
  EXPECT_NEAR(*detail::PrunedValues(history, true)(history[3]), 0.70 + 0.08, 1e-12);

  // Peers whose first report comes after the step, and too few peers, leave the value as it is.
  std::vector<TrialRecord> few = {
      with_reports(complete(0, {}, 0.90), {{1, 0.80}, {10, 0.90}}),
      with_reports(complete(1, {}, 0.88), {{1, 0.84}, {10, 0.88}}),
      with_reports(complete(2, {}, 0.89), {{5, 0.85}, {10, 0.89}}),
      complete(3, {}, 0.87),  // no reports at all
      pruned_at(4, {{1, 0.70}}),
  };
  EXPECT_DOUBLE_EQ(*detail::PrunedValues(few, true)(few[4]), 0.70);
}

// The reports' noise: a line through each complete trial's last 4 reports, RSS / 2, the
// median over trials (numbers worked by hand).
TEST(GpOutputs, ReportNoiseIsTheJitterAroundEachCurvesLastFourReports) {
  auto curve = [](int number, TrialState state, std::map<std::int64_t, double> reports) {
    TrialRecord t;
    t.number = number;
    t.state = state;
    t.intermediate = std::move(reports);
    return t;
  };
  std::vector<TrialRecord> history = {
      // On a line: 0.
      curve(0, TrialState::Complete, {{1, 0.5}, {2, 0.6}, {3, 0.7}, {4, 0.8}}),
      // Last 4 (steps 3-6): 0.87 0.88 0.90 0.89; line 0.873 + 0.008 (s − 3); residuals
      // −0.003 −0.001 0.011 −0.007; RSS 1.8e-4; σ² = 9e-5. Steps 1-2 are not used.
      curve(1, TrialState::Complete, {{1, 0.1}, {2, 0.2}, {3, 0.87}, {4, 0.88}, {5, 0.90}, {6, 0.89}}),
      // Steps 2 4 6 8, values 1 0 1 0: line 0.5 − 0.1 (s − 5); residuals 0.2 −0.6 0.6 −0.2;
      // RSS 0.8; σ² = 0.4.
      curve(2, TrialState::Complete, {{2, 1}, {4, 0}, {6, 1}, {8, 0}}),
      // Too few reports, a pruned trial and a running one: not used (either of the last two
      // would make the median 0.4).
      curve(3, TrialState::Complete, {{1, 0}, {2, 5}, {3, 0}}),
      curve(4, TrialState::Pruned, {{1, 0}, {2, 9}, {3, 0}, {4, 9}}),
      curve(5, TrialState::Running, {{1, 0}, {2, 9}, {3, 0}, {4, 9}}),
  };
  ASSERT_TRUE(detail::report_noise_variance(history));
  EXPECT_NEAR(*detail::report_noise_variance(history), 9e-5, 1e-12);  // median of 0, 9e-5, 0.4
  // An even count: the mean of the middle two, (9e-5 + 0.4) / 2.
  history.push_back(curve(6, TrialState::Complete, {{2, 1}, {4, 0}, {6, 1}, {8, 0}}));
  EXPECT_NEAR(*detail::report_noise_variance(history), (9e-5 + 0.4) / 2, 1e-12);
  history.pop_back();
  history.erase(history.begin() + 2);
  EXPECT_FALSE(detail::report_noise_variance(history));  // 2 trials are too few
}

// The log warp spreads out the good end, but never values closer than the noise: its offset
// c is at least 2σ. The noise comes back in the warped, standardised units at the best point.
TEST(GpOutputs, LogWarpKeepsValuesWithinTheNoiseTogether) {
  Eigen::VectorXd y(5);
  y << 0, 0.001, 0.002, 0.01, 1.0;  // right-skewed: max − median > 4 (median − min)
  const auto plain = detail::transform_outputs(y, GpOptions::Transform::Auto);
  const auto noisy = detail::transform_outputs(y, GpOptions::Transform::Auto, 0.005);
  auto share_of_best_two = [](const Eigen::VectorXd& t) { return (t[1] - t[0]) / (t[4] - t[0]); };
  // No noise: c = max(0.1 · 0.002, 0.001 · 1) = 0.001: the best two are ln 2 apart of ln 1001.
  EXPECT_NEAR(share_of_best_two(plain.y), std::log(2.0) / std::log(1001.0), 1e-12);
  EXPECT_TRUE(std::isnan(plain.noise_variance));
  // σ = 0.005: c = 0.01: ln 1.1 of ln 101.
  EXPECT_NEAR(share_of_best_two(noisy.y), std::log(1.1) / std::log(101.0), 1e-12);
  const Eigen::ArrayXd t = (y.array() + 0.01).log();
  const double sd = std::sqrt((t - t.mean()).square().sum() / 4);
  EXPECT_NEAR(noisy.noise_variance, std::pow(0.005 / 0.01 / sd, 2), 1e-12);  // dt/dy = 1/c
  EXPECT_NEAR(noisy.y.mean(), 0, 1e-12);

  // Unwarped: σ² over the values' variance. Ranks carry no noise.
  const double var = (y.array() - y.mean()).square().sum() / 4;
  EXPECT_NEAR(detail::transform_outputs(y, GpOptions::Transform::None, 0.005).noise_variance,
              0.005 * 0.005 / var, 1e-12);
  EXPECT_TRUE(std::isnan(detail::transform_outputs(y, GpOptions::Transform::Rank, 0.005).noise_variance));
}

// A noisy objective's best region, trained 16 times already (x from 0.296 to 0.3035, values
// scattered ±0.08 around 0), and four worse points elsewhere; every trial reported a
// jittery learning curve. Augmented EI: the mean there is pinned down to within the noise,
// another draw there can hardly teach anything, and the suggestion moves farther off than
// without the factor. (Plain EI moves off too; what fails without the factor is the
// distance.) `auto` is aei here, and ei once the learning curves are taken away.
TEST(GpSampler, AugmentedEiDoesNotTrainAgainWhereTheDataPinTheMeanDown) {
  const SearchSpace space = SearchSpace::from_config_json(json::parse(R"({
    "x": {"type": "float", "low": 0, "high": 1}})"));
  const double draws[16] = {0.04, -0.06, 0.01, -0.02, 0.07, -0.05, 0.03, -0.01,
                            0.05, -0.07, 0.02, -0.03, 0.06, -0.04, 0.00, -0.08};
  const double elsewhere[4][2] = {{0.0, 0.5}, {0.6, 0.3}, {0.8, 0.4}, {1.0, 0.6}};
  std::vector<TrialRecord> history;
  auto add = [&](double x, double v) {
    TrialRecord t = complete(static_cast<int>(history.size()), {{"x", x}}, v);
    t.intermediate = {{1, v + 0.06}, {2, v - 0.04}, {3, v + 0.04}, {4, v}};
    history.push_back(std::move(t));
  };
  for (int i = 0; i < 16; ++i) add(0.3 + 0.0005 * (i - 8), draws[i]);
  for (const auto& [x, v] : elsewhere) add(x, v);
  auto suggestions = [&](json settings) {
    std::vector<double> xs;
    for (std::uint64_t seed = 0; seed < 5; ++seed)
      xs.push_back(gp(seed, settings)
                       ->suggest(SampleContext{space, history, 20, Direction::Minimize, Params{}})
                       ->at("x"));
    return xs;
  };
  const std::vector<double> aei = suggestions({{"acquisition", "aei"}});
  // Measured: 0.409 on every seed; with the factor left out (the plug-in incumbent alone)
  // 0.378, nearer the pinned region; plain EI over the best draw, −0.08, 0.417.
  for (double x : aei) EXPECT_GT(std::abs(x - 0.3), 0.095) << x;
  EXPECT_EQ(suggestions(json::object()), aei);
  for (auto& t : history) t.intermediate.clear();
  EXPECT_EQ(suggestions(json::object()), suggestions({{"acquisition", "ei"}}));
}

// 20 random points of a space {x0, x1} scored (x0 − 0.3)², with no dependence on x1.
static std::vector<TrialRecord> depends_on_x0_alone(const SearchSpace& space, std::uint64_t seed) {
  auto random = make_random_sampler(seed);
  std::vector<TrialRecord> history;
  for (int i = 0; i < 20; ++i) {
    Params params = *random->suggest(SampleContext{space, history, i, Direction::Minimize, Params{}});
    history.push_back(complete(i, params, std::pow(params.at("x0") - 0.3, 2)));
  }
  return history;
}

// x1 does not matter (the objective depends on x0 alone; the runs report jittery curves, so
// the acquisition is augmented EI, for noisy objectives). The acquisition's argmax puts it
// at a bound, where the GP's slight trend and larger variance point, on most suggestions;
// with `indifference` (the default) it is drawn anew where the acquisition hardly changes,
// so its values spread over the range, while x0 stays near the optimum 0.3 either way.
TEST(GpSampler, AParameterThatDoesNotMatterIsDrawnNotPinnedToABound) {
  const SearchSpace space = SearchSpace::from_config_json(json::parse(R"({
    "x0": {"type": "float", "low": 0, "high": 1},
    "x1": {"type": "float", "low": 0, "high": 1}})"));
  std::vector<TrialRecord> history = depends_on_x0_alone(space, 5);
  for (auto& t : history) {
    const double v = *t.value;
    t.intermediate = {{1, v + 0.02}, {2, v - 0.01}, {3, v + 0.01}, {4, v}};  // a noisy run
  }
  auto suggestions = [&](json settings) {
    std::vector<Params> out;
    for (int n = 20; n < 40; ++n)
      out.push_back(*gp(0, settings)->suggest(SampleContext{space, history, n, Direction::Minimize, Params{}}));
    return out;
  };
  auto count = [](const std::vector<Params>& ps, auto pred) {
    return std::count_if(ps.begin(), ps.end(), pred);
  };
  auto at_bound = [](const Params& p) { return p.at("x1") < 0.05 || p.at("x1") > 0.95; };
  auto near_optimum = [](const Params& p) { return std::abs(p.at("x0") - 0.3) < 0.1; };
  const auto argmax = suggestions({{"indifference", 0}});
  const auto drawn = suggestions(json::object());
  EXPECT_GE(count(argmax, at_bound), 15) << "of 20 argmax suggestions with x1 at a bound";
  EXPECT_LE(count(drawn, at_bound), 6) << "of 20 drawn suggestions with x1 at a bound";
  EXPECT_GE(count(drawn, near_optimum), count(argmax, near_optimum) - 2) << "x0 near 0.3";
  // Without learning curves (plain EI, a noiseless objective) nothing is drawn.
  for (auto& t : history) t.intermediate.clear();
  EXPECT_EQ(suggestions(json::object()), suggestions({{"indifference", 0}}));
}

// A trial's cost is its seconds per reported step, or its seconds without steps.
TEST(GpSampler, CostIsSecondsPerStep) {
  EXPECT_DOUBLE_EQ(*detail::CostModel::log_cost(10.0, 5), std::log(2.0));
  EXPECT_DOUBLE_EQ(*detail::CostModel::log_cost(3.0, std::nullopt), std::log(3.0));
  EXPECT_DOUBLE_EQ(*detail::CostModel::log_cost(3.0, 0), std::log(3.0));
  EXPECT_FALSE(detail::CostModel::log_cost(0.0, 4));
}

// Expected improvement per second. The objective does not depend on x1; the side of x1 =
// 0.5 that the GP searches without a cost model is made ten times as dear. With a cost
// model, on the same history, the GP moves to the cheap side.
TEST(GpSampler, CostModelPrefersTheCheaperOfEqualPoints) {
  const SearchSpace space = SearchSpace::from_config_json(json::parse(R"({
    "x0": {"type": "float", "low": 0, "high": 1},
    "x1": {"type": "float", "low": 0, "high": 1}})"));
  std::vector<TrialRecord> history = depends_on_x0_alone(space, 3);
  auto x1_of_suggestions = [&](const char* cost) {
    auto s = gp(0, {{"cost", cost}});
    std::vector<double> x1;
    for (int n = 20; n < 40; ++n)
      x1.push_back(s->suggest(SampleContext{space, history, n, Direction::Minimize, Params{}})->at("x1"));
    return x1;
  };
  auto count_high = [](const std::vector<double>& x1) {
    return std::count_if(x1.begin(), x1.end(), [](double v) { return v > 0.5; });
  };
  const auto without = count_high(x1_of_suggestions("off"));  // timings unused
  const bool dear_high = without >= 10;
  EXPECT_GE(dear_high ? without : 20 - without, 15) << "of 20 suggestions on one side";

  const auto t0 = Clock::now();
  for (auto& t : history) {
    t.started = t0;
    t.finished = t0 + std::chrono::seconds((t.params.at("x1") > 0.5) == dear_high ? 20 : 2);
  }
  const auto high = count_high(x1_of_suggestions("auto"));  // median trial 2 s or more: on
  EXPECT_GE(dear_high ? 20 - high : high, 15) << "of 20 suggestions on the cheap side";
  EXPECT_EQ(count_high(x1_of_suggestions("on")), high);
}
