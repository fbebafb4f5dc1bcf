// The C++ benchmark suite (bench/suite.h) against the known minimisers of suite.md.
#include <gtest/gtest.h>

#include "bench/suite.h"

using namespace caviar;

namespace {
double at(const std::string& name, const Params& p) { return suite::problem(name).f(p); }
Params xs(std::vector<double> v) {
  Params p;
  for (std::size_t i = 0; i < v.size(); ++i) p["x" + std::to_string(i)] = v[i];
  return p;
}
}  // namespace

TEST(SuiteProblems, KnownMinimisersGiveFstar) {
  EXPECT_NEAR(at("branin2", {{"x0", -M_PI}, {"x1", 12.275}}), 0.397887357729738, 1e-12);
  EXPECT_NEAR(at("hartmann3", xs({0.11458888122541287, 0.5556488954739371, 0.8525469842172746})),
              -3.862779787332663, 1e-12);
  EXPECT_NEAR(at("hartmann6", xs({0.20168952, 0.15001069, 0.47687398, 0.27533243, 0.31165162,
                                  0.65730054})),
              -3.32236801141551, 1e-7);
  EXPECT_DOUBLE_EQ(at("rosenbrock4", xs({1, 1, 1, 1})), 0);
  EXPECT_NEAR(at("ackley5", xs({0, 0, 0, 0, 0})), 0, 1e-15);
  EXPECT_NEAR(at("levy6", xs({1, 1, 1, 1, 1, 1})), 0, 1e-28);
  const double s = -2.903534027771177;
  EXPECT_NEAR(at("styblinski8", xs({s, s, s, s, s, s, s, s})), -313.3293256301713, 1e-9);
  EXPECT_DOUBLE_EQ(at("rastrigin4", xs({0, 0, 0, 0})), 0);
  EXPECT_NEAR(at("hp_log2", {{"lr", std::pow(10, -2.5)}, {"wd", 1e-4}}), 0, 1e-24);
  EXPECT_NEAR(at("hp_mixed3", {{"layers", 3}, {"optimizer", 2}, {"one_minus_beta", 0.01}}), 0, 1e-24);
  EXPECT_NEAR(at("hp_mixed3", {{"layers", 5}, {"optimizer", 0}, {"one_minus_beta", 0.1}}), 0.6, 1e-15);
}

TEST(SuiteProblems, EveryProblemIsAboveItsOptimumAtRandomPoints) {
  for (const auto& p : suite::problems()) {
    for (int k = 0; k < 50; ++k) {
      std::vector<double> u;
      for (std::size_t d = 0; d < p.space.size(); ++d) u.push_back(std::fmod(0.37 * (k + 1) * (d + 3), 1.0));
      EXPECT_GE(p.f(p.space.from_unit(u)), p.fstar - 1e-9) << p.name;
    }
  }
}
