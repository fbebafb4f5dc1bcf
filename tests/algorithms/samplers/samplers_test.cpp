// Samplers: distributions on each scale, determinism, Sobol coverage, grid exactness.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <thread>

#include "caviar/error.h"
#include "caviar/sampler.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/tuner.h"

using namespace caviar;

namespace {

SearchSpace space_of(const char* config) { return SearchSpace::from_config_json(json::parse(config)); }

std::vector<Params> draw(Sampler& sampler, const SearchSpace& space, int n) {
  std::vector<TrialRecord> history;
  std::vector<Params> out;
  Params fixed;
  for (int i = 0; i < n; ++i) {
    SampleContext c{space, history, i, Direction::Minimize, fixed};
    out.push_back(*sampler.suggest(c));
  }
  return out;
}

// Kolmogorov–Smirnov statistic of samples against the uniform distribution on [a, b].
double ks_uniform(std::vector<double> x, double a, double b) {
  std::sort(x.begin(), x.end());
  double n = static_cast<double>(x.size()), d = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    double f = (x[i] - a) / (b - a);
    d = std::max({d, (i + 1) / n - f, f - i / n});
  }
  return d;
}

// Critical value of the one-sample KS test at alpha = 0.001.
double ks_critical(std::size_t n) { return 1.949 / std::sqrt(static_cast<double>(n)); }

}  // namespace

TEST(RandomSampler, SameSeedSameSequenceOtherSeedOther) {
  SearchSpace space = space_of(R"({"x": {"type": "float", "low": 0, "high": 1},
                                   "c": {"type": "choice", "values": ["a", "b", "c"]}})");
  auto a = make_random_sampler(7), b = make_random_sampler(7), c = make_random_sampler(8);
  auto xa = draw(*a, space, 50), xb = draw(*b, space, 50), xc = draw(*c, space, 50);
  EXPECT_EQ(xa, xb);
  EXPECT_NE(xa, xc);
  std::set<double> distinct;
  for (const auto& p : xa) distinct.insert(p.at("x"));
  EXPECT_EQ(distinct.size(), 50u);
}

TEST(RandomSampler, LogSamplesAreUniformInLog10) {
  SearchSpace space = space_of(R"({"lr": {"type": "float", "low": 1e-5, "high": 1, "scale": "log"}})");
  for (std::uint64_t seed : {1, 2, 3}) {
    auto s = make_random_sampler(seed);
    std::vector<double> logs, raw;
    for (const auto& p : draw(*s, space, 2000)) {
      logs.push_back(std::log10(p.at("lr")));
      raw.push_back(p.at("lr"));
    }
    EXPECT_LT(ks_uniform(logs, -5, 0), ks_critical(logs.size())) << "seed " << seed;
    // The same samples are far from uniform in raw units: a linear sampler would pass that.
    EXPECT_GT(ks_uniform(raw, 1e-5, 1), 0.5);
  }
}

TEST(RandomSampler, ReverseLogSamplesAreUniformInLog10OfOneMinusX) {
  SearchSpace space = space_of(R"({"beta": {"type": "float", "low": 0.9, "high": 0.999, "scale": "reverse_log"}})");
  for (std::uint64_t seed : {1, 2, 3}) {
    auto s = make_random_sampler(seed);
    std::vector<double> t, raw;
    for (const auto& p : draw(*s, space, 2000)) {
      t.push_back(std::log10(1 - p.at("beta")));
      raw.push_back(p.at("beta"));
    }
    EXPECT_LT(ks_uniform(t, -3, -1), ks_critical(t.size())) << "seed " << seed;
    EXPECT_GT(ks_uniform(raw, 0.9, 0.999), 0.3);  // most mass near 0.999
  }
}

TEST(RandomSampler, LogitSamplesAreUniformInLogit) {
  SearchSpace space = space_of(R"({"p": {"type": "float", "low": 0.01, "high": 0.99, "scale": "logit"}})");
  auto s = make_random_sampler(5);
  std::vector<double> t;
  for (const auto& p : draw(*s, space, 2000)) t.push_back(std::log(p.at("p") / (1 - p.at("p"))));
  double lim = std::log(0.99 / 0.01);
  EXPECT_LT(ks_uniform(t, -lim, lim), ks_critical(t.size()));
}

TEST(RandomSampler, LogIntsHitEachDecadeEqually) {
  SearchSpace space = space_of(R"({"n": {"type": "int", "low": 1, "high": 1000, "scale": "log"}})");
  auto s = make_random_sampler(11);
  int decade[3] = {0, 0, 0};
  for (const auto& p : draw(*s, space, 3000)) {
    double n = p.at("n");
    ASSERT_EQ(n, std::round(n));
    decade[n < 10 ? 0 : n < 100 ? 1 : 2]++;
  }
  // Cells are [0.5, 9.5), [9.5, 99.5), [99.5, 1000.5): log-widths 2.94, 2.35, 2.30 of 7.6.
  EXPECT_NEAR(decade[0] / 3000.0, std::log(9.5 / 0.5) / std::log(1000.5 / 0.5), 0.03);
  EXPECT_NEAR(decade[2] / 3000.0, std::log(1000.5 / 99.5) / std::log(1000.5 / 0.5), 0.03);
}

namespace {
// Centered L2 discrepancy (Hickernell) of points in the unit cube.
double centered_discrepancy(const std::vector<std::vector<double>>& x) {
  std::size_t n = x.size(), d = x[0].size();
  double a = std::pow(13.0 / 12.0, static_cast<double>(d)), b = 0, c = 0;
  for (const auto& p : x) {
    double prod = 1;
    for (double v : p) prod *= 1 + 0.5 * std::abs(v - 0.5) - 0.5 * (v - 0.5) * (v - 0.5);
    b += prod;
  }
  for (const auto& p : x)
    for (const auto& q : x) {
      double prod = 1;
      for (std::size_t k = 0; k < d; ++k)
        prod *= 1 + 0.5 * std::abs(p[k] - 0.5) + 0.5 * std::abs(q[k] - 0.5) - 0.5 * std::abs(p[k] - q[k]);
      c += prod;
    }
  return std::sqrt(a - 2.0 / n * b + c / (static_cast<double>(n) * n));
}

std::vector<std::vector<double>> cube_points(Sampler& s, const SearchSpace& space, int n) {
  std::vector<std::vector<double>> out;
  for (const auto& p : draw(s, space, n)) {
    std::vector<double> u;
    for (const auto& param : space.params()) u.push_back(param.to_unit(p.at(param.name)));
    out.push_back(u);
  }
  return out;
}
}  // namespace

TEST(SobolSampler, LowerDiscrepancyThanRandomAtTheSameCount) {
  json config = json::object();
  for (int i = 0; i < 20; ++i) config["x" + std::to_string(i)] = {{"type", "float"}, {"low", 0}, {"high", 1}};
  SearchSpace space = SearchSpace::from_config_json(config);
  for (std::uint64_t seed : {0, 1, 2}) {
    auto sobol = make_sobol_sampler(seed), random = make_random_sampler(seed);
    double ds = centered_discrepancy(cube_points(*sobol, space, 256));
    double dr = centered_discrepancy(cube_points(*random, space, 256));
    EXPECT_LT(ds, 0.8 * dr) << "seed " << seed << ": sobol " << ds << " random " << dr;
  }
}

TEST(SobolSampler, SeededAndScaleAware) {
  SearchSpace space = space_of(R"({"lr": {"type": "float", "low": 1e-4, "high": 1, "scale": "log"}})");
  auto a = make_sobol_sampler(3), b = make_sobol_sampler(3), c = make_sobol_sampler(4);
  auto xa = draw(*a, space, 64), xb = draw(*b, space, 64), xc = draw(*c, space, 64);
  EXPECT_EQ(xa, xb);
  EXPECT_NE(xa, xc);
  // 64 Sobol points in one dimension: exactly one in each 1/64 of the log range.
  std::vector<int> cells(64, 0);
  for (const auto& p : xa) cells[static_cast<int>((std::log10(p.at("lr")) + 4) / 4 * 64)]++;
  for (int k = 0; k < 64; ++k) EXPECT_EQ(cells[k], 1) << "cell " << k;
}

TEST(GridSampler, CoversExactlyItsPointsThenStops) {
  SearchSpace space = space_of(R"({
    "lr": {"type": "float", "low": 1e-4, "high": 1, "scale": "log"},
    "layers": {"type": "int", "low": 1, "high": 3},
    "opt": {"type": "choice", "values": ["sgd", "adam"]}})");
  StudyOptions o;
  o.space = space;
  o.sampler.name = "grid";
  o.sampler.settings = {{"points", 5}};
  Study study(make_memory_storage(), o);
  std::set<std::tuple<double, double, double>> seen;
  while (auto t = study.ask(false)) {
    seen.insert({t->float_param("lr"), static_cast<double>(t->int_param("layers")), t->params().at("opt")});
    study.tell(*t, 0.0);
    ASSERT_LE(seen.size(), 30u);
  }
  EXPECT_EQ(study.trials().size(), 30u);  // 5 x 3 x 2, then the study ends
  EXPECT_EQ(seen.size(), 30u);
  std::set<double> lrs;
  for (const auto& [lr, l, o] : seen) lrs.insert(lr);
  std::vector<double> expected = {1e-4, 1e-3, 1e-2, 1e-1, 1};  // spaced on the log scale
  ASSERT_EQ(lrs.size(), 5u);
  auto it = lrs.begin();
  for (double e : expected) EXPECT_NEAR(*it++ / e, 1.0, 1e-9);
}

TEST(GridSampler, ParallelWorkersNeverTakeTheSamePoint) {
  SearchSpace space = space_of(R"({"x": {"type": "float", "low": 0, "high": 1},
                                   "y": {"type": "float", "low": 0, "high": 1}})");
  StudyOptions o;
  o.space = space;
  o.sampler.name = "grid";
  o.sampler.settings = {{"points", 7}};
  auto storage = make_memory_storage();
  Study study(storage, o);
  optimize(study, [](Trial& t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return t.float_param("x") + t.float_param("y");
  }, std::nullopt, 4);
  auto trials = study.trials();
  std::set<Params> points;
  for (const auto& t : trials) points.insert(t.params);
  EXPECT_EQ(trials.size(), 49u);
  EXPECT_EQ(points.size(), 49u);
}

TEST(GridSampler, ConditionalParametersCollapse) {
  SearchSpace space = space_of(R"({
    "opt": {"type": "choice", "values": ["sgd", "adam"]},
    "beta1": {"type": "float", "low": 0.8, "high": 0.99, "when": "opt == adam"}})");
  StudyOptions o;
  o.space = space;
  o.sampler.name = "grid";
  o.sampler.settings = {{"points", 3}};
  Study study(make_memory_storage(), o);
  optimize(study, [](Trial&) { return 1.0; });
  EXPECT_EQ(study.trials().size(), 4u);  // sgd, and adam with 3 values of beta1
}

TEST(Samplers, UnknownNameIsAConfigError) {
  SamplerOptions o;
  o.name = "tpee";
  EXPECT_THROW(make_sampler(o), ConfigError);
}
