// Pruners: hand-worked cases for median / percentile, ASHA and Hyperband, and the factory's
// checks. Every expected verdict below is worked out by hand in the comments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <vector>

#include "caviar/error.h"
#include "caviar/pruner.h"
#include "algorithms/pruners/hyperband_schedule.h"
#include "algorithms/pruners/pruners.h"

using namespace caviar;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TrialRecord make_trial(int number, std::map<std::int64_t, double> reports,
                       TrialState state = TrialState::Running) {
  TrialRecord t;
  t.id = 1000 + number;
  t.number = number;
  t.state = state;
  t.intermediate = std::move(reports);
  return t;
}

std::unique_ptr<Pruner> pruner_of(const std::string& name, int min_trials = 5,
                                  int warmup_steps = 0, double percentile = 50) {
  PrunerOptions o;
  o.name = name;
  o.min_trials = min_trials;
  o.warmup_steps = warmup_steps;
  o.percentile = percentile;
  return make_pruner(o);
}

// Five other trials (numbers 0..4, mixed states) with reports 1, 2, 3, 4, 5 at step 3.
std::vector<TrialRecord> five_others() {
  const TrialState states[] = {TrialState::Complete, TrialState::Pruned, TrialState::Running,
                               TrialState::Complete, TrialState::Failed};
  std::vector<TrialRecord> h;
  for (int i = 0; i < 5; ++i) {
    h.push_back(make_trial(i, {{1, 10.0 + i}, {2, 20.0 - i}, {3, 1.0 + i}}, states[i]));
  }
  return h;
}

// Judges trial number 99 whose latest report is `value` at `step`; the history holds the
// others and the trial itself (as the interface promises).
bool judge(const Pruner& p, std::vector<TrialRecord> history, std::int64_t step, double value,
           Direction d = Direction::Minimize) {
  TrialRecord t = make_trial(99, {{1, 0.0}, {step, value}});
  history.push_back(t);
  return p.should_prune(t, history, d);
}

}  // namespace

// ---------------------------------------------------------------- median / percentile

TEST(MedianPruner, PrunesAboveTheMedianOfOthersAtTheSameStep) {
  auto p = pruner_of("median");
  EXPECT_EQ(p->name(), "median");
  // Others at step 3: 1 2 3 4 5, median 3.
  EXPECT_TRUE(judge(*p, five_others(), 3, 3.5));
  EXPECT_FALSE(judge(*p, five_others(), 3, 2.5));
  EXPECT_FALSE(judge(*p, five_others(), 3, 3.0));  // a tie is not worse
  // At step 2 the others are 20 19 18 17 16: median 18.
  EXPECT_TRUE(judge(*p, five_others(), 2, 18.5));
  EXPECT_FALSE(judge(*p, five_others(), 2, 17.5));
}

TEST(MedianPruner, RespectsMinTrialsAndDoesNotCountItself) {
  auto h = five_others();
  h.pop_back();  // four others at step 3: 1 2 3 4, median 2.5
  EXPECT_FALSE(judge(*pruner_of("median", 5), h, 3, 3.5));  // 4 others (+ itself) < 5
  EXPECT_TRUE(judge(*pruner_of("median", 4), h, 3, 3.5));
  EXPECT_FALSE(judge(*pruner_of("median", 4), h, 3, 2.5));
  // Only reports at exactly the step count: trial 7 reported steps 2 and 4, not 3.
  h.push_back(make_trial(7, {{2, 0.0}, {4, 0.0}}));
  EXPECT_FALSE(judge(*pruner_of("median", 5), h, 3, 3.5));
  EXPECT_FALSE(judge(*pruner_of("median", 0), {}, 3, 1e9));  // nobody to compare with
}

TEST(MedianPruner, RespectsWarmup) {
  EXPECT_FALSE(judge(*pruner_of("median", 5, 4), five_others(), 3, 100.0));
  EXPECT_TRUE(judge(*pruner_of("median", 5, 3), five_others(), 3, 100.0));
  EXPECT_FALSE(judge(*pruner_of("median", 5, 4), five_others(), 3, kNaN));
}

TEST(MedianPruner, MaximizeMirrors) {
  auto p = pruner_of("median");
  EXPECT_TRUE(judge(*p, five_others(), 3, 2.5, Direction::Maximize));
  EXPECT_FALSE(judge(*p, five_others(), 3, 3.5, Direction::Maximize));
  EXPECT_FALSE(judge(*p, five_others(), 3, 3.0, Direction::Maximize));
}

TEST(MedianPruner, NanIsWorst) {
  auto p = pruner_of("median");
  EXPECT_TRUE(judge(*p, five_others(), 3, kNaN));
  EXPECT_TRUE(judge(*p, five_others(), 3, kNaN, Direction::Maximize));
  EXPECT_TRUE(judge(*p, {}, 3, kNaN));  // a NaN needs no comparison: min_trials does not apply
  // A NaN of another trial counts as its worst value, not dropped: others 1 2 3 4 NaN.
  auto h = five_others();
  h[4].intermediate[3] = kNaN;
  // minimize: 1 2 3 4 +inf, median 3 (dropping the NaN would give 2.5 and prune 2.7).
  EXPECT_FALSE(judge(*p, h, 3, 2.7));
  EXPECT_TRUE(judge(*p, h, 3, 3.1));
  // maximize: -inf 1 2 3 4, median 2 (dropping the NaN would give 2.5 and prune 2.2).
  EXPECT_FALSE(judge(*p, h, 3, 2.2, Direction::Maximize));
  EXPECT_TRUE(judge(*p, h, 3, 1.9, Direction::Maximize));
}

TEST(PercentilePruner, LinearInterpolationThresholds) {
  // Others at step 3: 1 2 4 8 (n = 4, h = 3p/100).
  std::vector<TrialRecord> h = {make_trial(0, {{3, 8.0}}), make_trial(1, {{3, 1.0}}),
                                make_trial(2, {{3, 4.0}}), make_trial(3, {{3, 2.0}})};
  auto p25 = pruner_of("percentile", 4, 0, 25);
  auto p75 = pruner_of("percentile", 4, 0, 75);
  EXPECT_EQ(p25->name(), "percentile");
  // p25: h = 0.75 -> 1 + 0.75·(2-1) = 1.75.
  EXPECT_TRUE(judge(*p25, h, 3, 1.8));
  EXPECT_FALSE(judge(*p25, h, 3, 1.7));
  // p75: h = 2.25 -> 4 + 0.25·(8-4) = 5.
  EXPECT_TRUE(judge(*p75, h, 3, 5.01));
  EXPECT_FALSE(judge(*p75, h, 3, 4.99));
  // Maximize p25 compares with the 75th percentile of values (5), p75 with the 25th (1.75).
  EXPECT_TRUE(judge(*p25, h, 3, 4.99, Direction::Maximize));
  EXPECT_FALSE(judge(*p25, h, 3, 5.01, Direction::Maximize));
  EXPECT_TRUE(judge(*p75, h, 3, 1.7, Direction::Maximize));
  EXPECT_FALSE(judge(*p75, h, 3, 1.8, Direction::Maximize));
  // The median of 1 2 4 8 is 3 (h = 1.5).
  EXPECT_TRUE(judge(*pruner_of("median", 4), h, 3, 3.01));
  EXPECT_FALSE(judge(*pruner_of("median", 4), h, 3, 2.99));
}

TEST(PercentilePruner, PercentileFunction) {
  using pruners::linear_percentile;
  EXPECT_DOUBLE_EQ(linear_percentile({5, 1, 3, 2, 4}, 0), 1);
  EXPECT_DOUBLE_EQ(linear_percentile({5, 1, 3, 2, 4}, 100), 5);
  EXPECT_DOUBLE_EQ(linear_percentile({5, 1, 3, 2, 4}, 10), 1.4);
  EXPECT_DOUBLE_EQ(linear_percentile({7}, 30), 7);
  EXPECT_EQ(linear_percentile({1, INFINITY}, 0), 1);
  EXPECT_EQ(linear_percentile({1, INFINITY}, 50), INFINITY);
  EXPECT_EQ(linear_percentile({INFINITY, INFINITY}, 50), INFINITY);
}

TEST(PrunerNone, NeverPrunes) {
  auto p = pruner_of("none");
  EXPECT_EQ(p->name(), "none");
  EXPECT_FALSE(judge(*p, five_others(), 3, 1e9));
  EXPECT_FALSE(judge(*p, five_others(), 3, kNaN));
}

// ---------------------------------------------------------------- ASHA

namespace {

std::unique_ptr<Pruner> asha(double r, double R, double eta, int rate = 0) {
  PrunerOptions o;
  o.name = "asha";
  o.min_resource = r;
  o.max_resource = R;
  o.reduction_factor = eta;
  o.min_early_stopping_rate = rate;
  return make_pruner(o);
}

// A study where trials report one step at a time; each report is judged at once.
struct Sim {
  explicit Sim(const Pruner& p, Direction d = Direction::Minimize) : pruner(p), direction(d) {}
  const Pruner& pruner;
  Direction direction;
  std::vector<TrialRecord> history;

  TrialRecord& find(int number) {
    for (auto& t : history)
      if (t.number == number) return t;
    history.push_back(make_trial(number, {}));
    return history.back();
  }
  // Returns true if the trial is pruned by this report.
  bool report(int number, std::int64_t step, double value) {
    TrialRecord& t = find(number);
    EXPECT_EQ(t.state, TrialState::Running) << "trial " << number;
    t.intermediate[step] = value;
    const bool pruned = pruner.should_prune(t, history, direction);
    if (pruned) t.state = TrialState::Pruned;
    return pruned;
  }
  // Reports `filler` at the steps after the latest one and before `step`, none of which may
  // prune, then `value` at `step`; returns the verdict at `step`.
  bool advance(int number, std::int64_t step, double value, double filler = 1000.0) {
    TrialRecord& t = find(number);
    std::int64_t from = t.intermediate.empty() ? 1 : t.intermediate.rbegin()->first + 1;
    for (std::int64_t s = from; s < step; ++s) {
      EXPECT_FALSE(report(number, s, filler)) << "trial " << number << " step " << s;
    }
    return report(number, step, value);
  }
  // At this moment, how many of the trials that reached rung step `rung` would continue
  // there (each judged with its reports up to the rung)?
  int continuing_at(std::int64_t rung, int* n_out) {
    int n = 0, keep = 0;
    for (const auto& t : history) {
      auto it = t.intermediate.lower_bound(rung);
      if (it == t.intermediate.end()) continue;
      ++n;
      TrialRecord cut = t;
      cut.intermediate.erase(std::next(cut.intermediate.find(it->first)), cut.intermediate.end());
      if (!pruner.should_prune(cut, history, direction)) ++keep;
    }
    *n_out = n;
    return keep;
  }
  void expect_rung_bound(std::int64_t rung, double eta) {
    int n = 0;
    const int keep = continuing_at(rung, &n);
    EXPECT_LE(keep, std::max(1, static_cast<int>(std::floor(n / eta)))) << "rung " << rung;
    EXPECT_GE(keep, 1) << "rung " << rung;
  }
};

}  // namespace

TEST(AshaPruner, JudgedSteps) {
  EXPECT_EQ(pruners::asha_judged_steps(1, 27, 3, 0), (std::vector<std::int64_t>{1, 3, 9}));
  EXPECT_EQ(pruners::asha_judged_steps(1, 81, 3, 1), (std::vector<std::int64_t>{3, 9, 27}));
  EXPECT_EQ(pruners::asha_judged_steps(1, 81, 3, 4), (std::vector<std::int64_t>{}));
  EXPECT_EQ(pruners::asha_judged_steps(1, 100, 3, 0), (std::vector<std::int64_t>{1, 3, 9, 27}));
  EXPECT_EQ(pruners::asha_judged_steps(2, 32, 2, 0), (std::vector<std::int64_t>{2, 4, 8, 16}));
  EXPECT_EQ(pruners::max_halvings(1, 81, 3), 4);
  EXPECT_EQ(pruners::max_halvings(1, 80.9, 3), 3);
}

// η = 3, r = 1, R = 27: judged at rungs 1, 3, 9 (27 is the top). Minimize. A trial continues
// at a rung iff its rank among the n values there (itself included) is <= max(1, ⌊n/3⌋).
//
// Rung 1, trials arriving one by one:
//   trial value  n  keep  rank  verdict
//   T0    5      1  1     1     continue (first at the rung)
//   T1    7      2  1     2     stop
//   T2    3      3  1     1     continue
//   T3    4      4  1     2     stop      (3 is better)
//   T4    6      5  1     4     stop      (5, 3, 4 are better)
//   T5    2      6  2     1     continue
//   T6    3      7  2     3     stop      (2 better; ties with T2, whose number is smaller.
//                                          Optuna's `value <= 2nd best` would continue.)
//   T7    4.5    8  2     5     stop      (2, 3, 3, 4 are better)
//   T8    1      9  3     1     continue
// Rung 3 (survivors T0, T2, T5, T8; each reports every step, 1000 at non-rung steps):
//   T0    4.0    1  1     1     continue
//   T2    2.5    2  1     1     continue
//   T5    3.0    3  1     2     stop
//   T8    0.5    4  1     1     continue
// Rung 9:
//   T8    0.4    1  1     1     continue
//   T2    0.6    2  1     2     stop
//   T0    0.3    3  1     1     continue
// Then T8 runs to 27 with awful reports and is never pruned.
TEST(AshaPruner, HandWorkedRungs) {
  auto p = asha(1, 27, 3);
  EXPECT_EQ(p->name(), "asha");
  Sim study{*p};
  const double rung1[] = {5, 7, 3, 4, 6, 2, 3, 4.5, 1};
  const bool stop1[] = {false, true, false, true, true, false, true, true, false};
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(study.report(i, 1, rung1[i]), stop1[i]) << "T" << i << " at rung 1";
    study.expect_rung_bound(1, 3);
  }
  const std::pair<int, double> rung3[] = {{0, 4.0}, {2, 2.5}, {5, 3.0}, {8, 0.5}};
  const bool stop3[] = {false, false, true, false};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(study.advance(rung3[i].first, 3, rung3[i].second), stop3[i])
        << "T" << rung3[i].first << " at rung 3";
    study.expect_rung_bound(3, 3);
    study.expect_rung_bound(1, 3);
  }
  const std::pair<int, double> rung9[] = {{8, 0.4}, {2, 0.6}, {0, 0.3}};
  const bool stop9[] = {false, true, false};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(study.advance(rung9[i].first, 9, rung9[i].second), stop9[i])
        << "T" << rung9[i].first << " at rung 9";
    study.expect_rung_bound(9, 3);
  }
  // Non-rung steps never prune (advance checks it), nor does step 27 = R.
  EXPECT_FALSE(study.advance(8, 27, 1e9, 1e9));
  EXPECT_FALSE(study.report(8, 28, kNaN));
  EXPECT_FALSE(study.advance(0, 27, kNaN, 1e9));
}

TEST(AshaPruner, NeverPrunesAtOrPastMaxResource) {
  auto p = asha(1, 27, 3);
  std::vector<TrialRecord> h;
  for (int i = 0; i < 10; ++i) h.push_back(make_trial(i, {{1, 0.0}, {3, 0.0}, {9, 0.0}}));
  // A trial whose first report is at step 27 passes every rung in one go: not judged.
  TrialRecord late = make_trial(50, {{27, 1e9}});
  h.push_back(late);
  EXPECT_FALSE(p->should_prune(late, h, Direction::Minimize));
  // The same trial at step 9 would be: rank 11 of 11.
  TrialRecord early = make_trial(50, {{9, 1e9}});
  h.back() = early;
  EXPECT_TRUE(p->should_prune(early, h, Direction::Minimize));
}

// A trial that skips a rung step is judged when it first passes it, with that report;
// that report is also its value at the rung for later trials.
TEST(AshaPruner, SkippedRungIsJudgedAtTheFirstStepPastIt) {
  auto p = asha(1, 27, 3);
  Sim study{*p};
  EXPECT_FALSE(study.report(0, 1, 5));  // rung 1: n=1, continue
  EXPECT_TRUE(study.report(1, 2, 6));   // first report at 2 passes rung 1: n=2, rank 2: stop
  EXPECT_FALSE(study.report(2, 2, 4));  // rung 1: n=3, rank 1: continue
  EXPECT_FALSE(study.report(2, 4, 2));  // step 4 passes rung 3: n=1, continue
  EXPECT_FALSE(study.report(2, 6, 9));  // no rung in (4, 6]
  EXPECT_FALSE(study.report(3, 1, 1));  // rung 1: n=4, keep 1, rank 1: continue
  EXPECT_FALSE(study.report(3, 2, 7));  // not a rung
  // Rung 3: trial 2's value there is its step-4 report (2), not step 6 (9): 7 is worse.
  EXPECT_TRUE(study.report(3, 3, 7));
}

TEST(AshaPruner, MaximizeAndNan) {
  auto p = asha(1, 27, 3);
  Sim up{*p, Direction::Maximize};
  EXPECT_FALSE(up.report(0, 1, 5));
  EXPECT_FALSE(up.report(1, 1, 7));  // n=2, keep 1, best
  EXPECT_TRUE(up.report(2, 1, 6));   // n=3, keep 1, rank 2
  Sim nan{*p};
  EXPECT_TRUE(nan.report(0, 1, kNaN));   // a NaN at a rung stops even the first trial
  EXPECT_FALSE(nan.report(1, 1, 100));   // n=2, the NaN counts as worse: rank 1
  EXPECT_TRUE(nan.report(2, 1, 1e300));  // n=3, keep 1, rank 2 (behind 100, ahead of NaN)
  EXPECT_FALSE(nan.report(3, 1, 50));    // n=4, keep 1, rank 1
}

// ---------------------------------------------------------------- Hyperband

TEST(HyperbandPruner, GoldenTableR81Eta3) {
  const auto table = pruners::hyperband_schedule(1, 81, 3);
  using Rungs = std::vector<std::pair<std::int64_t, double>>;
  const std::vector<std::pair<int, Rungs>> golden = {
      {4, {{81, 1}, {27, 3}, {9, 9}, {3, 27}, {1, 81}}},
      {3, {{34, 3}, {11, 9}, {3, 27}, {1, 81}}},
      {2, {{15, 9}, {5, 27}, {1, 81}}},
      {1, {{8, 27}, {2, 81}}},
      {0, {{5, 81}}},
  };
  ASSERT_EQ(table.size(), golden.size());
  for (std::size_t b = 0; b < golden.size(); ++b) {
    EXPECT_EQ(table[b].s, golden[b].first);
    ASSERT_EQ(table[b].rungs.size(), golden[b].second.size()) << "s=" << table[b].s;
    for (std::size_t i = 0; i < golden[b].second.size(); ++i) {
      EXPECT_EQ(table[b].rungs[i].n, golden[b].second[i].first) << "s=" << table[b].s << " i=" << i;
      EXPECT_NEAR(table[b].rungs[i].resource, golden[b].second[i].second, 1e-9)
          << "s=" << table[b].s << " i=" << i;
    }
  }
}

TEST(HyperbandPruner, BracketsAreDeterministicAndInProportion) {
  const auto table = pruners::hyperband_schedule(1, 81, 3);
  // Weights n_s: 81, 34, 15, 8, 5 of 143.
  std::map<int, double> weight = {{4, 81}, {3, 34}, {2, 15}, {1, 8}, {0, 5}};
  std::map<int, int> count;
  const int trials = 10000;
  for (int number = 0; number < trials; ++number) {
    const int s = pruners::hyperband_bracket_of(number, table);
    ASSERT_EQ(s, pruners::hyperband_bracket_of(number, table));
    ++count[s];
  }
  for (auto [s, w] : weight) {
    EXPECT_NEAR(count[s] / static_cast<double>(trials), w / 143.0, 0.02) << "s=" << s;
  }
}

TEST(HyperbandPruner, ComparesOnlyWithinTheBracket) {
  PrunerOptions o;
  o.name = "hyperband";  // r = 1, R = 81, η = 3
  auto hb = make_pruner(o);
  EXPECT_EQ(hb->name(), "hyperband");
  auto plain = asha(1, 81, 3);  // one ASHA over everybody, judged at 1, 3, 9, 27
  const auto table = pruners::hyperband_schedule(1, 81, 3);
  std::vector<int> in4, elsewhere;  // bracket s=4 is judged at step 1 (rate 0)
  for (int number = 0; in4.size() < 3 || elsewhere.size() < 5; ++number) {
    (pruners::hyperband_bracket_of(number, table) == 4 ? in4 : elsewhere).push_back(number);
  }
  // Five trials of other brackets reported 1..5 at step 1; ours reports 10.
  std::vector<TrialRecord> h;
  for (int i = 0; i < 5; ++i) h.push_back(make_trial(elsewhere[i], {{1, 1.0 + i}}));
  TrialRecord ours = make_trial(in4[0], {{1, 10.0}});
  h.push_back(ours);
  // Across brackets: n=6, keep 2, rank 6: stop. Within its bracket: alone, continue.
  EXPECT_TRUE(plain->should_prune(ours, h, Direction::Minimize));
  EXPECT_FALSE(hb->should_prune(ours, h, Direction::Minimize));
  // Two better trials of its own bracket: n=3, keep 1, rank 3: stop.
  h.push_back(make_trial(in4[1], {{1, 8.0}}));
  h.push_back(make_trial(in4[2], {{1, 9.0}}));
  EXPECT_TRUE(hb->should_prune(ours, h, Direction::Minimize));
}

TEST(HyperbandPruner, BracketZeroNeverPrunes) {
  PrunerOptions o;
  o.name = "hyperband";
  auto hb = make_pruner(o);
  const auto table = pruners::hyperband_schedule(1, 81, 3);
  std::vector<int> in0;
  for (int number = 0; in0.size() < 6; ++number)
    if (pruners::hyperband_bracket_of(number, table) == 0) in0.push_back(number);
  std::vector<TrialRecord> h;
  for (int i = 1; i < 6; ++i) {
    std::map<std::int64_t, double> good;
    for (int s = 1; s <= 81; ++s) good[s] = 0.0;
    h.push_back(make_trial(in0[i], good));
  }
  TrialRecord bad = make_trial(in0[0], {});
  h.push_back(bad);
  for (int s = 1; s <= 81; ++s) {
    bad.intermediate[s] = 1e9;
    h.back() = bad;
    ASSERT_FALSE(hb->should_prune(bad, h, Direction::Minimize)) << "step " << s;
  }
}

// ---------------------------------------------------------------- make_pruner

namespace {

std::string where_of(const PrunerOptions& o) {
  try {
    make_pruner(o);
  } catch (const ConfigError& e) {
    return e.where();
  }
  return "(accepted)";
}

PrunerOptions with(const char* name) {
  PrunerOptions o;
  o.name = name;
  return o;
}

}  // namespace

TEST(PrunerFactory, BuildsEveryPrunerByName) {
  for (const char* name : {"none", "median", "percentile", "asha", "hyperband"}) {
    EXPECT_EQ(make_pruner(with(name))->name(), name);
  }
  auto o = with("percentile");
  o.percentile = 0;
  EXPECT_EQ(where_of(o), "(accepted)");
  o.percentile = 100;
  o.min_trials = 0;
  o.warmup_steps = 0;
  EXPECT_EQ(where_of(o), "(accepted)");
}

TEST(PrunerFactory, UnknownName) {
  try {
    make_pruner(with("medain"));
    FAIL() << "accepted an unknown pruner";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "pruner.name");
    EXPECT_EQ(e.why(), "unknown pruner 'medain'; available: none, median, percentile, asha, "
                       "hyperband");
  }
}

TEST(PrunerFactory, ReductionFactorMustExceedOne) {
  auto o = with("asha");
  o.reduction_factor = 1;
  EXPECT_EQ(where_of(o), "pruner.reduction_factor");
  o.reduction_factor = kNaN;
  EXPECT_EQ(where_of(o), "pruner.reduction_factor");
}

TEST(PrunerFactory, MinResourceMustBePositive) {
  auto o = with("hyperband");
  o.min_resource = 0;
  EXPECT_EQ(where_of(o), "pruner.min_resource");
}

TEST(PrunerFactory, MaxResourceMustExceedMinResource) {
  auto o = with("asha");
  o.min_resource = 10;
  o.max_resource = 10;
  EXPECT_EQ(where_of(o), "pruner.max_resource");
  o.max_resource = INFINITY;
  EXPECT_EQ(where_of(o), "pruner.max_resource");
  // asha and hyperband need a rung below R: R >= r·η.
  o.max_resource = 29;
  EXPECT_EQ(where_of(o), "pruner.max_resource");
  o.name = "hyperband";
  EXPECT_EQ(where_of(o), "pruner.max_resource");
  o.max_resource = 30;
  EXPECT_EQ(where_of(o), "(accepted)");
}

TEST(PrunerFactory, PercentileMustBeWithin0And100) {
  auto o = with("percentile");
  o.percentile = -1;
  EXPECT_EQ(where_of(o), "pruner.percentile");
  o.percentile = 100.5;
  EXPECT_EQ(where_of(o), "pruner.percentile");
}

TEST(PrunerFactory, MinTrialsMustNotBeNegative) {
  auto o = with("median");
  o.min_trials = -1;
  EXPECT_EQ(where_of(o), "pruner.min_trials");
}

TEST(PrunerFactory, WarmupMustNotBeNegative) {
  auto o = with("median");
  o.warmup_steps = -1;
  EXPECT_EQ(where_of(o), "pruner.warmup_steps");
}

TEST(PrunerFactory, MinEarlyStoppingRate) {
  auto o = with("asha");  // r=1, R=81, η=3: ⌊log_3 81⌋ = 4
  o.min_early_stopping_rate = -1;
  EXPECT_EQ(where_of(o), "pruner.min_early_stopping_rate");
  o.min_early_stopping_rate = 4;  // no rung left to judge at
  EXPECT_EQ(where_of(o), "pruner.min_early_stopping_rate");
  o.min_early_stopping_rate = 3;  // judged at 27 only
  EXPECT_EQ(where_of(o), "(accepted)");
}
