// The warm start from an old study (make_warm_start_sampler, docs/retune.md#warm-start):
// its weight before and after new trials, a better start than cold when the optimum moved
// a little, and a weight that falls away when the old ranking no longer holds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bench/suite.h"
#include "caviar/retune.h"
#include "caviar/sampler.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/tuner.h"

namespace caviar {
namespace {

StudyOptions options(const suite::Problem& p, const std::string& name, std::uint64_t seed, int trials) {
  StudyOptions o;
  o.name = name;
  o.space = p.space;
  o.sampler.seed = seed;
  o.budget = trials;
  return o;
}

double best_regret(const Study& study, double fstar) {
  double best = INFINITY;
  for (const auto& t : study.trials())
    if (t.value) best = std::min(best, *t.value);
  return best - fstar;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return (v[(v.size() - 1) / 2] + v[v.size() / 2]) / 2;
}

// What one re-tuning of `p` moved by `s` gives: cold's regret, the warm start's, and the
// warm start's weight, each after `trials` trials (the old study: 60 trials of auto).
struct Outcome {
  double cold, warm, weight;
};
Outcome retune_once(const suite::Problem& p, const std::vector<double>& s, int seed, int trials) {
  auto storage = make_memory_storage();
  Study old(storage, options(p, "old", 1000 + static_cast<std::uint64_t>(seed), 60));
  optimize(old, [&](Trial& t) { return p.f(t.params()); });
  const suite::Problem q = suite::moved(p, s);
  auto objective = [&](Trial& t) { return q.f(t.params()); };
  Study cold(storage, options(p, "cold", static_cast<std::uint64_t>(seed), trials));
  optimize(cold, objective);
  StudyOptions o = options(p, "warm", static_cast<std::uint64_t>(seed), trials);
  o.sampler.prior = retune_prior(old.view(), o.space);
  Study warm(storage, o);
  start_retune(warm, old.view(), 5);
  optimize(warm, objective);
  const json note = storage->find_study("warm")->system_attrs.at("caviar:warm_start");
  return {best_regret(cold, p.fstar), best_regret(warm, p.fstar), note.at("weight").get<double>()};
}

TEST(WarmStart, BeforeAnyNewTrialTheWeightIsTheBelief) {
  const suite::Problem p = suite::problem("branin2");
  auto storage = make_memory_storage();
  Study old(storage, options(p, "old", 7, 20));
  optimize(old, [&](Trial& t) { return p.f(t.params()); });
  const auto prior = retune_prior(old.view(), p.space);
  ASSERT_EQ(prior->size(), 20u);
  const std::vector<TrialRecord> none;
  const Params fixed;
  const SampleContext c{p.space, none, 0, Direction::Minimize, fixed};
  const WarmStartState s = warm_start_state(c, *prior);
  EXPECT_EQ(s.trials, 0);
  EXPECT_DOUBLE_EQ(s.weight, WarmStartOptions{}.belief);
  EXPECT_EQ(s.old, 20);
  EXPECT_EQ(s.prior, 20) << "no new trial is near any old one";
  // Shown trials carry negative numbers, so no sampler takes them for the study's own.
  for (const auto& t : s.shown) EXPECT_LT(t.number, 0);
}

TEST(WarmStart, TheOldRankingReversedTakesTheWeightToZero) {
  // New values that are the old ones negated: Spearman's rho is -1 on any new trials.
  const suite::Problem p = suite::problem("hartmann3");
  auto storage = make_memory_storage();
  Study old(storage, options(p, "old", 3, 40));
  optimize(old, [&](Trial& t) { return p.f(t.params()); });
  StudyOptions o = options(p, "new", 4, 12);
  o.sampler.prior = retune_prior(old.view(), o.space);
  Study fresh(storage, o);
  optimize(fresh, [&](Trial& t) { return -p.f(t.params()); });
  const json note = storage->find_study("new")->system_attrs.at("caviar:warm_start");
  EXPECT_LT(note["rho"].get<double>(), -0.5) << note.dump();
  EXPECT_EQ(note["weight"].get<double>(), 0.0) << note.dump();
  EXPECT_EQ(note["prior"].get<int>(), 0) << note.dump();
}

// The two claims, over 10 seeds each (seeds the defaults were not chosen on). A
// small move (2% of each range) of hp_log2, a smooth problem shaped like a learning rate
// and weight decay: the warm start's median regret after 20 trials is below cold's.
TEST(WarmStart, BeatsAColdStartWhenTheOptimumMovedALittle) {
  const suite::Problem p = suite::problem("hp_log2");
  std::vector<double> cold, warm, weight;
  for (int seed = 20; seed < 30; ++seed) {
    const double d = seed % 2 ? 0.02 : -0.02;
    const Outcome o = retune_once(p, {d, -d}, seed, 20);
    cold.push_back(o.cold), warm.push_back(o.warm), weight.push_back(o.weight);
  }
  std::printf("median regret after 20 trials: warm %.3g, cold %.3g; median weight %.2f\n", median(warm),
              median(cold), median(weight));
  EXPECT_LT(median(warm), median(cold));
  // The old ranking still holds: the learned weight stays above the belief's half.
  EXPECT_GT(median(weight), 0.25);
}

// An adversarial move, 0.4 of each range on a wrapped cube, so that the old optimum lands
// where the new problem is poor: the learned weight falls below 0.15 within 30 trials. The
// threshold is the weight an unrelated old study keeps after 10 new trials (rho = 0:
// (0 * 10 + 4 * 0.5) / (10 + 4) = 0.14): the old study must end up trusted no more than one
// that says nothing.
TEST(WarmStart, AnAdversarialMoveTakesTheWeightBelowThreshold) {
  const suite::Problem p = suite::problem("branin2");
  std::vector<double> weight;
  for (int seed = 20; seed < 30; ++seed) weight.push_back(retune_once(p, {0.4, -0.4}, seed, 30).weight);
  std::printf("median weight after 30 trials: %.3f (max %.3f)\n", median(weight),
              *std::max_element(weight.begin(), weight.end()));
  EXPECT_LT(median(weight), 0.15);
}

}  // namespace
}  // namespace caviar
