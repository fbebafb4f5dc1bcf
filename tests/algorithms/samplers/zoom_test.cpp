// Zooming, coarse to fine: the box around the best trials (in scale-transformed
// coordinates), narrow()'s rounding, the zoom sampler and its stored boxes (`caviar zoom`
// as a process: tests/apps/zoom_cli_test.cpp). Expectations are worked by hand in the
// comments.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "bench/suite.h"
#include "caviar/config.h"
#include "caviar/error.h"
#include "caviar/sampler.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/tuner.h"
#include "caviar/zoom.h"
#include "support/files.h"

namespace fs = std::filesystem;
using namespace caviar;
using json = nlohmann::json;

namespace {

SearchSpace space_of(const json& list) { return SearchSpace::from_config_json(list); }

TrialRecord trial(int number, Params params, std::optional<double> value,
                  TrialState state = TrialState::Complete) {
  TrialRecord t;
  t.number = number;
  t.state = state;
  t.params = std::move(params);
  t.value = value;
  return t;
}

// lr: 5 decades, so unit = (log10(lr) + 5) / 5; x: unit = x / 10.
SearchSpace lr_x() {
  return space_of({{{"name", "lr"}, {"type", "float"}, {"low", 1e-5}, {"high", 1.0}, {"scale", "log"}},
                   {{"name", "x"}, {"type", "float"}, {"low", 0}, {"high", 10}}});
}

std::vector<TrialRecord> lr_x_history() {
  std::vector<TrialRecord> h;
  // The two best (keep 0.2 of 10): lr 1e-3 and 1e-2 (unit 0.4, 0.6), x 2 and 4 (0.2, 0.4).
  h.push_back(trial(0, {{"lr", 1e-3}, {"x", 2}}, 0.1));
  h.push_back(trial(1, {{"lr", 1e-2}, {"x", 4}}, 0.2));
  for (int i = 2; i < 10; ++i) h.push_back(trial(i, {{"lr", 1e-5 * (i + 1)}, {"x", 9}}, 1.0 + i));
  // Not complete: ignored, however good.
  h.push_back(trial(10, {{"lr", 0.5}, {"x", 9.5}}, -5.0, TrialState::Pruned));
  h.push_back(trial(11, {{"lr", 0.5}, {"x", 9.5}}, std::nullopt, TrialState::Running));
  h.push_back(trial(12, {{"lr", 0.5}, {"x", 9.5}}, std::nullopt, TrialState::Failed));
  return h;
}

}  // namespace

TEST(ZoomBox, LogAndLinearCoordinatesWithMargin) {
  SearchSpace s = lr_x();
  ZoomBox box = zoom_box(s, lr_x_history(), Direction::Minimize, 0.2, 0.5);
  EXPECT_EQ(box.trials, 10);
  EXPECT_EQ(box.kept, 2);
  // lr: [0.4, 0.6] widened by 0.5 · 0.2 on each side: [0.3, 0.7], i.e. 10^-3.5 .. 10^-1.5.
  const ZoomRange* lr = box.find("lr");
  ASSERT_NE(lr, nullptr);
  EXPECT_NEAR(lr->lo, 0.3, 1e-12);
  EXPECT_NEAR(lr->hi, 0.7, 1e-12);
  EXPECT_EQ(lr->support, 2);
  // x: [0.2, 0.4] -> [0.1, 0.5], i.e. 1 .. 5.
  EXPECT_NEAR(box.find("x")->lo, 0.1, 1e-12);
  EXPECT_NEAR(box.find("x")->hi, 0.5, 1e-12);
  json j = box.to_json(s);
  EXPECT_NEAR(j["lr"]["low"].get<double>(), std::pow(10.0, -3.5), 1e-15);
  EXPECT_NEAR(j["lr"]["high"].get<double>(), std::pow(10.0, -1.5), 1e-12);
  EXPECT_NEAR(j["x"]["low"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(j["x"]["high"].get<double>(), 5.0, 1e-12);
  // The map sends the cube's corners to the box's corners.
  auto lo = box.map(s, {0, 0}), hi = box.map(s, {1, 1});
  EXPECT_NEAR(lo[0], 0.3, 1e-12);
  EXPECT_NEAR(hi[1], 0.5, 1e-12);
  EXPECT_TRUE(box.contains(s, {{"lr", 1e-3}, {"x", 3}}));
  EXPECT_FALSE(box.contains(s, {{"lr", 1e-4}, {"x", 3}}));  // unit 0.2 < 0.3
  EXPECT_FALSE(box.contains(s, {{"lr", 1e-3}, {"x", 6}}));
}

TEST(ZoomBox, MaximizeRanksTheOtherWay) {
  SearchSpace s = lr_x();
  // Maximising, the best two are trials 8 and 9 (values 9 and 10): lr 9e-5 and 1e-4, x 9.
  ZoomBox box = zoom_box(s, lr_x_history(), Direction::Maximize, 0.2, 0.0);
  // lr unit: (log10(9e-5) + 5) / 5 = 0.19085, (log10(1e-4) + 5) / 5 = 0.2; margin 0.
  EXPECT_NEAR(box.find("lr")->lo, (std::log10(9e-5) + 5) / 5, 1e-12);
  EXPECT_NEAR(box.find("lr")->hi, 0.2, 1e-12);
}

TEST(ZoomBox, MarginIsClippedToTheCubeAndHasAFloor) {
  SearchSpace s = lr_x();
  std::vector<TrialRecord> h = {trial(0, {{"lr", 1e-5}, {"x", 10}}, 0.0),
                                trial(1, {{"lr", 1e-4}, {"x", 8}}, 0.5),
                                trial(2, {{"lr", 1.0}, {"x", 0}}, 9.0)};
  // keep 0.5 of 3 -> 2 kept. lr [0, 0.2], margin 1: [-0.2, 0.4] clipped to [0, 0.4].
  ZoomBox box = zoom_box(s, h, Direction::Minimize, 0.5, 1.0);
  EXPECT_EQ(box.kept, 2);
  EXPECT_DOUBLE_EQ(box.find("lr")->lo, 0.0);
  EXPECT_NEAR(box.find("lr")->hi, 0.4, 1e-12);
  EXPECT_NEAR(box.find("x")->lo, 0.6, 1e-12);  // [0.8, 1] ± 0.2
  EXPECT_DOUBLE_EQ(box.find("x")->hi, 1.0);
  EXPECT_DOUBLE_EQ(box.to_json(s)["lr"]["low"].get<double>(), 1e-5);  // exactly the bound
  // At least two are kept (keep 0.1 of 3 would be one). Two equal values have width 0, so
  // the margin applies to the floor kZoomMinWidth: x 5 (unit 0.5) ± 1 · 0.05.
  std::vector<TrialRecord> same = {trial(0, {{"lr", 1e-3}, {"x", 5}}, 0.0),
                                   trial(1, {{"lr", 1e-3}, {"x", 5}}, 0.5),
                                   trial(2, {{"lr", 1.0}, {"x", 0}}, 9.0)};
  ZoomBox two = zoom_box(s, same, Direction::Minimize, 0.1, 1.0);
  EXPECT_EQ(two.kept, 2);
  EXPECT_NEAR(two.find("x")->lo, 0.5 - kZoomMinWidth, 1e-12);
  EXPECT_NEAR(two.find("x")->hi, 0.5 + kZoomMinWidth, 1e-12);
  // A single complete trial is no evidence: the whole space stays.
  ZoomBox one = zoom_box(s, {same[0]}, Direction::Minimize, 0.2, 1.0);
  EXPECT_EQ(one.kept, 1);
  EXPECT_DOUBLE_EQ(one.find("x")->lo, 0.0);
  EXPECT_DOUBLE_EQ(one.find("x")->hi, 1.0);
}

TEST(ZoomBox, NoCompleteTrialIsTheWholeSpaceAndBadKeepThrows) {
  SearchSpace s = lr_x();
  ZoomBox box = zoom_box(s, {trial(0, {{"lr", 0.1}, {"x", 1}}, std::nullopt, TrialState::Failed)},
                         Direction::Minimize);
  EXPECT_EQ(box.trials, 0);
  EXPECT_DOUBLE_EQ(box.find("lr")->lo, 0.0);
  EXPECT_DOUBLE_EQ(box.find("lr")->hi, 1.0);
  EXPECT_THROW(zoom_box(s, std::vector<TrialRecord>{}, Direction::Minimize, 0.0), UsageError);
  EXPECT_THROW(zoom_box(s, std::vector<TrialRecord>{}, Direction::Minimize, 1.5), UsageError);
  EXPECT_THROW(zoom_box(s, std::vector<TrialRecord>{}, Direction::Minimize, 0.2, -1), UsageError);
}

TEST(ZoomBox, IntsCoverWholeCells) {
  // layers in 1..8: value v owns the unit cell [(v - 1) / 8, v / 8].
  SearchSpace s = space_of({{{"name", "layers"}, {"type", "int"}, {"low", 1}, {"high", 8}}});
  std::vector<TrialRecord> h = {trial(0, {{"layers", 3}}, 0.0), trial(1, {{"layers", 5}}, 0.1),
                                trial(2, {{"layers", 8}}, 1.0), trial(3, {{"layers", 1}}, 2.0)};
  ZoomBox tight = zoom_box(s, h, Direction::Minimize, 0.5, 0.0);
  EXPECT_NEAR(tight.find("layers")->lo, 2.0 / 8, 1e-12);
  EXPECT_NEAR(tight.find("layers")->hi, 5.0 / 8, 1e-12);
  EXPECT_EQ(tight.to_json(s)["layers"], json({{"low", 3}, {"high", 5}}));
  EXPECT_TRUE(tight.contains(s, {{"layers", 4}}));
  EXPECT_FALSE(tight.contains(s, {{"layers", 2}}));
  EXPECT_FALSE(tight.contains(s, {{"layers", 6}}));
  // Margin 0.1: width 3/8, pad 0.0375: [0.2125, 0.6625] reaches into the cells of 2 and 6.
  ZoomBox wide = zoom_box(s, h, Direction::Minimize, 0.5, 0.1);
  EXPECT_EQ(wide.to_json(s)["layers"], json({{"low", 2}, {"high", 6}}));
  // Every point the box maps to is in it.
  for (double u : {0.0, 0.1, 0.5, 0.9, 0.999999}) {
    Params p = s.from_unit(wide.map(s, {u}));
    EXPECT_GE(p.at("layers"), 2);
    EXPECT_LE(p.at("layers"), 6);
    EXPECT_TRUE(wide.contains(s, p));
  }
}

TEST(ZoomBox, ChoicesKeepTheValuesOfTheBest) {
  SearchSpace s = space_of({{{"name", "opt"}, {"type", "choice"}, {"values", {"sgd", "momentum", "adam"}}}});
  std::vector<TrialRecord> h = {trial(0, {{"opt", 2}}, 0.0), trial(1, {{"opt", 0}}, 0.1),
                                trial(2, {{"opt", 2}}, 0.2), trial(3, {{"opt", 1}}, 5.0),
                                trial(4, {{"opt", 1}}, 6.0), trial(5, {{"opt", 1}}, 7.0)};
  ZoomBox box = zoom_box(s, h, Direction::Minimize, 0.5);  // best 3: adam, sgd, adam
  EXPECT_EQ(box.find("opt")->kept, (std::vector<int>{0, 2}));
  EXPECT_EQ(box.to_json(s)["opt"], json({{"values", {"sgd", "adam"}}}));
  // The cube maps uniformly onto the kept values: [0, 0.5) -> sgd, [0.5, 1) -> adam.
  EXPECT_EQ(s.from_unit(box.map(s, {0.49})).at("opt"), 0);
  EXPECT_EQ(s.from_unit(box.map(s, {0.5})).at("opt"), 2);
  EXPECT_FALSE(box.contains(s, {{"opt", 1}}));
}

TEST(ZoomBox, ConditionalParametersUseTheTrialsWhereTheyAreActive) {
  SearchSpace s = space_of(
      {{{"name", "opt"}, {"type", "choice"}, {"values", {"sgd", "adam"}}},
       {{"name", "beta1"}, {"type", "float"}, {"low", 0}, {"high", 1}, {"when", "opt == adam"}},
       {{"name", "mom"}, {"type", "float"}, {"low", 0}, {"high", 1}, {"when", "opt == sgd"}}});
  std::vector<TrialRecord> h;
  // Five sgd trials, best overall; five adam trials, worse, with beta1 = 0.1 .. 0.5 where
  // the best adam trial has beta1 = 0.3 and the second best 0.5.
  for (int i = 0; i < 5; ++i) h.push_back(trial(i, {{"opt", 0}, {"mom", 0.9}}, 0.1 * i));
  const double beta[] = {0.1, 0.2, 0.3, 0.4, 0.5}, value[] = {9, 8, 5, 7, 6};
  for (int i = 0; i < 5; ++i)
    h.push_back(trial(5 + i, {{"opt", 1}, {"beta1", beta[i]}}, value[i]));
  ZoomBox box = zoom_box(s, h, Direction::Minimize, 0.4, 0.0);
  EXPECT_EQ(box.kept, 4);
  EXPECT_EQ(box.find("opt")->kept, (std::vector<int>{0}));  // best 4 are all sgd
  // beta1 is active in 5 trials: its best 2 (ceil(0.4 · 5)) are 0.3 and 0.5.
  EXPECT_EQ(box.find("beta1")->support, 2);
  EXPECT_NEAR(box.find("beta1")->lo, 0.3, 1e-12);
  EXPECT_NEAR(box.find("beta1")->hi, 0.5, 1e-12);
  // A parameter active in fewer than two trials keeps its full range.
  SearchSpace s2 = space_of(
      {{{"name", "opt"}, {"type", "choice"}, {"values", {"sgd", "adam"}}},
       {{"name", "beta1"}, {"type", "float"}, {"low", 0}, {"high", 1}, {"when", "opt == adam"}}});
  ZoomBox sgd_only = zoom_box(s2, {trial(0, {{"opt", 0}}, 1.0), trial(1, {{"opt", 0}}, 2.0),
                                   trial(2, {{"opt", 1}, {"beta1", 0.7}}, 0.5)},
                              Direction::Minimize);
  EXPECT_EQ(sgd_only.find("opt")->kept, (std::vector<int>{0, 1}));  // the best two
  EXPECT_EQ(sgd_only.find("beta1")->support, 0);
  EXPECT_DOUBLE_EQ(sgd_only.find("beta1")->lo, 0.0);
  EXPECT_DOUBLE_EQ(sgd_only.find("beta1")->hi, 1.0);
}

namespace {

// A box whose `name` range spans the values [a, b] exactly (unit coordinates).
ZoomBox box_of_values(const SearchSpace& s, const std::string& name, double a, double b) {
  ZoomBox box = ZoomBox::whole(s);
  for (auto& r : box.ranges)
    if (r.name == name) r.lo = s.at(name).to_unit(a), r.hi = s.at(name).to_unit(b);
  return box;
}

std::pair<double, double> narrowed(const json& definition, double a, double b) {
  json d = definition;
  d["name"] = "p";
  SearchSpace s = space_of(json::array({d}));
  SearchSpace n = narrow(s, box_of_values(s, "p", a, b));
  return {n.at("p").low, n.at("p").high};
}

}  // namespace

TEST(ZoomNarrow, RoundsOutwardOnEachScale) {
  using P = std::pair<double, double>;
  json log = {{"type", "float"}, {"low", 1e-6}, {"high", 1}, {"scale", "log"}};
  // 1.8 decades: one digit, 2 decades (ratio 1.12).
  EXPECT_EQ(narrowed(log, 3.7e-4, 2.3e-2), P(3e-4, 3e-2));
  // 0.14 decades: one digit ([3e-4, 6e-4], 0.30 decades) would double it; two digits.
  EXPECT_EQ(narrowed(log, 3.74e-4, 5.16e-4), P(3.7e-4, 5.2e-4));
  json linear = {{"type", "float"}, {"low", 0}, {"high", 100}};
  EXPECT_EQ(narrowed(linear, 2.345, 6.789), P(2, 7));  // width 4.44 -> 5 (ratio 1.125)
  // Width 0.222: [10.2, 10.5] is 1.35 times wider, so the digits of 0.01.
  EXPECT_EQ(narrowed(linear, 10.234, 10.456), P(10.23, 10.46));
  // Never outside the original range: 0.051 rounds down to 0, which is below low = 0.05.
  json inner = {{"type", "float"}, {"low", 0.05}, {"high", 0.95}};
  EXPECT_EQ(narrowed(inner, 0.051, 0.9), P(0.05, 0.9));
  // reverse_log rounds 1 − x: [0.00126, 0.0363] -> [0.001, 0.04].
  json rev = {{"type", "float"}, {"low", 0.9}, {"high", 0.9999}, {"scale", "reverse_log"}};
  EXPECT_EQ(narrowed(rev, 0.9637, 0.99874), P(0.96, 0.999));
  // logit rounds each end on its own side of 0.5: 0.0234 -> 0.02, 1 − 0.871 = 0.129 -> 0.1.
  json logit = {{"type", "float"}, {"low", 0.01}, {"high", 0.99}, {"scale", "logit"}};
  EXPECT_EQ(narrowed(logit, 0.0234, 0.871), P(0.02, 0.9));
}

TEST(ZoomNarrow, IntsStayIntsAndStepsStayOnTheGrid) {
  using P = std::pair<double, double>;
  // log int: 5 .. 37 -> 5 .. 40 (one digit; ln(40.5/4.5) / ln(37.5/4.5) = 1.04).
  json units = {{"type", "int"}, {"low", 1}, {"high", 64}, {"scale", "log"}};
  EXPECT_EQ(narrowed(units, 5, 37), P(5, 40));
  // step 32: [96, 224] rounded to tens would be [90, 230] -> [64, 256] on the grid, 1.4
  // times wider in cells; so the exact grid values stay.
  json batch = {{"type", "int"}, {"low", 0}, {"high", 512}, {"step", 32}};
  EXPECT_EQ(narrowed(batch, 96, 224), P(96, 224));
  // One value left: a range of two, since low must be below high.
  json small = {{"type", "int"}, {"low", 1}, {"high", 8}};
  EXPECT_EQ(narrowed(small, 8, 8), P(7, 8));
  EXPECT_EQ(narrowed(small, 3, 3), P(3, 4));
  json stepped = {{"type", "float"}, {"low", 0}, {"high", 1}, {"step", 0.05}};
  auto [lo, hi] = narrowed(stepped, 0.15, 0.35);
  EXPECT_DOUBLE_EQ(lo, 0.15);
  EXPECT_DOUBLE_EQ(hi, 0.35);
  // The narrowed spaces are valid spaces of the same type, scale and step.
  json d = units;
  d["name"] = "p";
  SearchSpace s = space_of(json::array({d}));
  SearchSpace n = narrow(s, box_of_values(s, "p", 5, 37));
  EXPECT_EQ(n.at("p").type, ParamType::Int);
  EXPECT_EQ(n.at("p").scale, Scale::Log);
}

TEST(ZoomNarrow, ConditionsFollowTheKeptChoices) {
  SearchSpace s = space_of(
      {{{"name", "opt"}, {"type", "choice"}, {"values", {"sgd", "momentum", "adam"}}},
       {{"name", "beta1"}, {"type", "float"}, {"low", 0.5}, {"high", 0.99}, {"when", "opt == adam"}},
       {{"name", "mom"}, {"type", "float"}, {"low", 0}, {"high", 1}, {"when", "opt in [momentum, adam]"}},
       {{"name", "nesterov"}, {"type", "choice"}, {"values", {true, false}}, {"when", "opt == momentum"}},
       {{"name", "dampening"}, {"type", "float"}, {"low", 0}, {"high", 1}, {"when", "nesterov == false"}},
       {{"name", "lr_sgd"}, {"type", "float"}, {"low", 0}, {"high", 1}, {"when", "opt != adam"}},
       {{"name", "wd"}, {"type", "float"}, {"low", 0}, {"high", 1}, {"when", "opt != momentum"}}});
  ZoomBox box = ZoomBox::whole(s);
  for (auto& r : box.ranges)
    if (r.name == "opt") r.kept = {0, 2};  // sgd and adam
  SearchSpace n = narrow(s, box);
  EXPECT_EQ(n.at("opt").choices, (std::vector<json>{"sgd", "adam"}));
  EXPECT_EQ(n.at("beta1").when->text, "opt == adam");  // unchanged
  EXPECT_EQ(n.at("mom").when->text, "opt == adam");    // momentum is gone
  EXPECT_EQ(n.at("lr_sgd").when->text, "opt != adam");  // still means the same
  EXPECT_EQ(n.at("wd").when->text, "opt in [sgd, adam]");
  EXPECT_EQ(n.find("nesterov"), nullptr);   // can no longer be active
  EXPECT_EQ(n.find("dampening"), nullptr);  // nor what depends on it
  EXPECT_EQ(n.size(), 5u);
}

namespace {

StudyOptions zoom_study(std::uint64_t seed, int round = 10, int rounds = 3) {
  StudyOptions o;
  o.name = "z";
  o.space = suite::problem("hp_log2").space;
  o.sampler.name = "zoom";
  o.sampler.seed = seed;
  o.sampler.settings = {{"round", round}, {"rounds", rounds}, {"keep", 0.2}, {"margin", 0.1}};
  return o;
}

std::vector<TrialRecord> run_zoom(Study& study, int n) {
  auto f = suite::problem("hp_log2").f;
  optimize(study, [&](Trial& t) { return f(t.params()); }, n);
  auto trials = study.trials();
  std::sort(trials.begin(), trials.end(), [](auto& a, auto& b) { return a.number < b.number; });
  return trials;
}

}  // namespace

TEST(ZoomSampler, StaysInsideTheStoredBoxAndStoresEveryRound) {
  auto storage = make_memory_storage();
  Study study(storage, zoom_study(1));
  auto trials = run_zoom(study, 45);
  ASSERT_EQ(trials.size(), 45u);
  json zoom = storage->find_study("z")->system_attrs.at("caviar:zoom");
  ASSERT_EQ(zoom["rounds"].size(), 3u);  // rounds 1..3; trials 30..44 stay in round 3's box
  const SearchSpace& s = study.space();
  EXPECT_EQ(zoom["rounds"][0]["round"], 1);
  EXPECT_EQ(zoom["rounds"][0]["first_trial"], 0);
  EXPECT_EQ(zoom["rounds"][0]["box"], ZoomBox::whole(s).to_json(s));
  for (int r = 1; r < 3; ++r) {
    const json& round = zoom["rounds"][static_cast<std::size_t>(r)];
    EXPECT_EQ(round["round"], r + 1);
    EXPECT_EQ(round["first_trial"], 10 * r);
    // The stored box is the box of the trials before the round (sequential: deterministic).
    std::vector<TrialRecord> before(trials.begin(), trials.begin() + 10 * r);
    EXPECT_EQ(round["box"], zoom_box(s, before, Direction::Minimize, 0.2, 0.1).to_json(s));
    // It is smaller than the space, in decades.
    double lr_low = round["box"]["lr"]["low"], lr_high = round["box"]["lr"]["high"];
    EXPECT_LT(std::log10(lr_high / lr_low), 5.0);
    // Every trial of the round (and, for the last, every later one) lies inside it.
    int end = r == 2 ? 45 : 10 * (r + 1);
    for (int n = 10 * r; n < end; ++n) {
      for (const char* name : {"lr", "wd"}) {
        double v = trials[static_cast<std::size_t>(n)].params.at(name);
        EXPECT_GE(v, round["box"][name]["low"].get<double>() * (1 - 1e-12)) << n << " " << name;
        EXPECT_LE(v, round["box"][name]["high"].get<double>() * (1 + 1e-12)) << n << " " << name;
      }
    }
  }
  // The zoom found a better point than the first round's whole-space search.
  double first = INFINITY, later = INFINITY;
  for (const auto& t : trials) {
    double& best = t.number < 10 ? first : later;
    best = std::min(best, *t.value);
  }
  EXPECT_LT(later, first);
}

TEST(ZoomSampler, SameSeedSameTrialsAndRandomInnerWorks) {
  auto params_of = [](std::uint64_t seed, const json& extra) {
    StudyOptions o = zoom_study(seed);
    for (const auto& [k, v] : extra.items()) o.sampler.settings[k] = v;
    Study study(make_memory_storage(), o);
    std::vector<Params> out;
    for (const auto& t : run_zoom(study, 25)) out.push_back(t.params);
    return out;
  };
  EXPECT_EQ(params_of(3, json::object()), params_of(3, json::object()));
  EXPECT_NE(params_of(3, json::object()), params_of(4, json::object()));
  auto random_inner = params_of(3, {{"inner", "random"}});
  EXPECT_EQ(random_inner, params_of(3, {{"inner", "random"}}));
  EXPECT_NE(random_inner, params_of(3, json::object()));
}

TEST(ZoomSampler, BadSettingsNameTheKey) {
  auto where = [](const json& settings) -> std::string {
    SamplerOptions o;
    o.name = "zoom";
    o.settings = settings;
    try {
      make_sampler(o);
    } catch (const ConfigError& e) {
      return e.where();
    }
    return "no error";
  };
  EXPECT_EQ(where({{"keep", 0}}), "sampler.keep");
  EXPECT_EQ(where({{"keep", 1.5}}), "sampler.keep");
  EXPECT_EQ(where({{"round", 0}}), "sampler.round");
  EXPECT_EQ(where({{"rounds", 0}}), "sampler.rounds");
  EXPECT_EQ(where({{"margin", -0.1}}), "sampler.margin");
  EXPECT_EQ(where({{"inner", "grid"}}), "sampler.inner");
  EXPECT_EQ(where({{"keeep", 0.2}}), "sampler.keeep");
  EXPECT_EQ(where({{"round", 5}, {"keep", 1}, {"rounds", 2}, {"margin", 0}, {"inner", "random"}}),
            "no error");
}

TEST(ZoomSampler, ConditionalSpaceStaysValid) {
  StudyOptions o = zoom_study(2, 8, 3);
  o.space = suite::problem("hp_mixed3").space;
  o.name = "mixed";
  auto storage = make_memory_storage();
  Study study(storage, o);
  auto f = suite::problem("hp_mixed3").f;
  optimize(study, [&](Trial& t) { return f(t.params()); }, 30);
  auto trials = study.trials();
  ASSERT_EQ(trials.size(), 30u);
  for (const auto& t : trials) EXPECT_EQ(t.state, TrialState::Complete);
  json rounds = storage->find_study("mixed")->system_attrs.at("caviar:zoom")["rounds"];
  ASSERT_EQ(rounds.size(), 3u);
  EXPECT_TRUE(rounds[2]["box"]["optimizer"].contains("values"));
  EXPECT_EQ(rounds[2]["box"]["layers"]["low"].type(), json::value_t::number_integer);
}
