// Babysitting one model: the next segment from hand-made histories and controls (start,
// continue, set, rollback to a branch, pause, stop, reruns after a crash, failures), the
// suggestions on hand-made curves, and the controls as stored.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "caviar/attributes.h"
#include "caviar/babysit.h"
#include "caviar/error.h"

namespace caviar {
namespace {

using Kind = BabysitDecision::Kind;

SearchSpace space() {
  return SearchSpace::from_config_json(json::parse(R"([
    {"name": "lr", "type": "float", "low": 1e-4, "high": 1, "scale": "log"},
    {"name": "weight_decay", "type": "float", "low": 1e-6, "high": 1e-1, "scale": "log"},
    {"name": "units", "type": "int", "low": 8, "high": 64}])"));
}

// A babysitter's loop on paper: each decision is stored as the Tuner would store it, with
// the value and training loss the test says the segment reached.
struct Model {
  SearchSpace space = caviar::space();
  BabysitOptions options;
  std::vector<TrialRecord> trials;
  std::vector<BabysitControl> controls;
  std::string started = "00000000000000000000-00000000";
  Params first = {{"lr", 0.1}, {"weight_decay", 1e-4}, {"units", 16}};

  Model() { options.max_steps = 10; }

  BabysitDecision next() {
    return babysit_next(space, Direction::Maximize, options, trials, controls, started, first, "given", "val_acc",
                        {"units"});
  }
  // Decides and stores the segment, ending as `state` with `value` at its stop step.
  BabysitDecision run(double value, TrialState state = TrialState::Complete, std::optional<double> train_loss = {},
                      std::optional<double> val_loss = {}) {
    BabysitDecision d = next();
    EXPECT_EQ(d.kind, Kind::Run) << d.message;
    if (d.kind != Kind::Run) return d;
    TrialRecord t;
    t.number = static_cast<int>(trials.size());
    t.id = t.number + 1;
    t.state = state;
    t.params = d.params;
    const std::int64_t stop = d.lineage["stop"];
    if (state == TrialState::Complete) {
      t.value = value;
      t.intermediate[stop] = value;
      json m = json::object();
      if (train_loss) m["train_loss"] = *train_loss;
      if (val_loss) m["val_loss"] = *val_loss;
      t.system_attrs[attr::kMetrics] = {{std::to_string(stop), m}};
    }
    t.system_attrs[attr::kBabysit] = d.lineage;
    t.system_attrs[attr::kCheckpointDir] = "/ck/" + std::to_string(t.number);
    trials.push_back(t);
    return d;
  }
  void give(const std::string& action, json params = json::object(), std::optional<std::int64_t> to = {}) {
    controls.push_back(make_babysit_control(action, std::move(params), to));
  }
};

TEST(BabysitNext, StartsFromTheGivenValuesThenContinuesItsOwnCheckpoint) {
  Model m;
  const BabysitDecision d0 = m.run(0.5);
  EXPECT_EQ(d0.params, m.first);
  EXPECT_EQ(d0.lineage["origin"], "start");
  EXPECT_EQ(d0.lineage["note"], "given");
  EXPECT_EQ(d0.lineage["step"], 0);
  EXPECT_EQ(d0.lineage["stop"], 1);
  EXPECT_EQ(d0.lineage["branch"], 0);
  EXPECT_TRUE(d0.lineage["restore_trial"].is_null());
  EXPECT_TRUE(d0.restore_source.empty());
  const BabysitDecision d1 = m.run(0.6);
  EXPECT_EQ(d1.lineage["origin"], "continue");
  EXPECT_EQ(d1.lineage["step"], 1);
  EXPECT_EQ(d1.lineage["stop"], 2);
  EXPECT_EQ(d1.lineage["parent_trial"], 0);
  EXPECT_EQ(d1.lineage["restore_trial"], 0);
  EXPECT_EQ(d1.restore_source, "/ck/0");
  EXPECT_EQ(d1.params, m.first);
  EXPECT_TRUE(d1.lineage["changes"].empty());
}

TEST(BabysitNext, ASetAppliesOnceAtTheNextSegment) {
  Model m;
  m.run(0.5);
  m.give("set", {{"lr", 0.01}});
  const BabysitDecision d = m.run(0.6);
  EXPECT_EQ(d.lineage["origin"], "set");
  EXPECT_DOUBLE_EQ(d.params.at("lr"), 0.01);
  EXPECT_DOUBLE_EQ(d.params.at("weight_decay"), 1e-4);
  EXPECT_EQ(d.lineage["changes"]["lr"][0], 0.1);
  EXPECT_EQ(d.lineage["changes"]["lr"][1], 0.01);
  ASSERT_EQ(d.lineage["controls"].size(), 1u);
  EXPECT_EQ(d.lineage["controls"][0], m.controls[0].id);
  EXPECT_EQ(d.restore_source, "/ck/0");  // the same model, new values
  const BabysitDecision after = m.run(0.7);
  EXPECT_EQ(after.lineage["origin"], "continue");
  EXPECT_DOUBLE_EQ(after.params.at("lr"), 0.01);
  EXPECT_TRUE(after.lineage["controls"].empty());
}

TEST(BabysitNext, RollbackBranchesFromTheCheckpointWithTheValuesItWasTrainedWith) {
  Model m;
  m.run(0.5);            // #0: 0-1
  m.run(0.6);            // #1: 1-2
  m.give("set", {{"lr", 0.5}});
  m.run(0.4);            // #2: 2-3, lr 0.5 (worse)
  m.run(0.3);            // #3: 3-4
  m.give("rollback", {{"weight_decay", 1e-3}}, 2);
  const BabysitDecision d = m.run(0.65);  // #4: 2-3 on branch 1
  EXPECT_EQ(d.lineage["origin"], "rollback");
  EXPECT_EQ(d.lineage["step"], 2);
  EXPECT_EQ(d.lineage["stop"], 3);
  EXPECT_EQ(d.lineage["branch"], 1);
  EXPECT_EQ(d.lineage["restore_trial"], 1);
  EXPECT_EQ(d.lineage["parent_trial"], 3);
  EXPECT_EQ(d.restore_source, "/ck/1");
  EXPECT_DOUBLE_EQ(d.params.at("lr"), 0.1) << "back to the values the checkpoint was trained with";
  EXPECT_DOUBLE_EQ(d.params.at("weight_decay"), 1e-3);
  const BabysitDecision next = m.run(0.7);  // #5: continues branch 1
  EXPECT_EQ(next.lineage["branch"], 1);
  EXPECT_EQ(next.lineage["restore_trial"], 4);
  const BabysitRun run = babysit_run(m.trials);
  ASSERT_EQ(run.path.size(), 4u);  // #0, #1, #4, #5
  EXPECT_EQ(run.path[2]->number, 4);
  ASSERT_EQ(run.curve.size(), 4u);
  EXPECT_EQ(run.curve.back().step, 4);
  EXPECT_DOUBLE_EQ(*run.curve.back().value, 0.7);
  // Back to step 0: from scratch, with the branch's first values.
  m.give("rollback", json::object(), 0);
  const BabysitDecision scratch = m.run(0.2);
  EXPECT_TRUE(scratch.restore_source.empty());
  EXPECT_EQ(scratch.lineage["step"], 0);
  EXPECT_EQ(scratch.lineage["branch"], 2);
}

TEST(BabysitNext, AControlThatCannotApplyIsRejectedAndTheModelGoesOn) {
  Model m;
  m.run(0.5);
  m.give("rollback", json::object(), 7);  // no checkpoint at 7
  m.give("set", {{"units", 32}});           // fixed during training
  const BabysitDecision d = m.run(0.6);
  EXPECT_EQ(d.lineage["origin"], "continue");
  ASSERT_EQ(d.lineage["rejected"].size(), 2u);
  EXPECT_NE(d.lineage["rejected"][0]["why"].get<std::string>().find("checkpoints at steps 0, 1"), std::string::npos)
      << d.lineage["rejected"];
  EXPECT_NE(d.lineage["rejected"][1]["why"].get<std::string>().find("units"), std::string::npos);
  EXPECT_EQ(m.run(0.7).lineage["rejected"].size(), 0u) << "handled once";
}

TEST(BabysitNext, PauseHoldsUntilResumeAndStopCountsOnlyAfterTheStart) {
  Model m;
  m.run(0.5);
  m.give("stop");  // given before this babysitter started: not for it
  m.started = make_babysit_control("resume").id;
  m.give("pause");
  EXPECT_EQ(m.next().kind, Kind::Paused);
  m.give("set", {{"lr", 0.02}});  // kept while paused
  m.give("resume");
  const BabysitDecision d = m.run(0.6);
  EXPECT_DOUBLE_EQ(d.params.at("lr"), 0.02);
  m.give("stop");
  EXPECT_EQ(m.next().kind, Kind::Stopped);
}

TEST(BabysitNext, ASegmentCaviarFailedRunsAgainExactly) {
  Model m;
  m.run(0.5);
  m.give("set", {{"lr", 0.03}});
  const BabysitDecision d = m.run(0, TrialState::Failed);
  m.trials.back().system_attrs[attr::kUncounted] = true;  // stale: its babysitter died
  m.trials.back().system_attrs[attr::kFailure] = "stale";
  m.give("set", {{"lr", 0.5}});  // waits for the segment after the rerun
  const BabysitDecision again = m.run(0.6);
  EXPECT_EQ(again.params, d.params);
  EXPECT_EQ(again.restore_source, d.restore_source);
  EXPECT_EQ(again.lineage["rerun_of"], 1);
  EXPECT_EQ(again.lineage["controls"], d.lineage["controls"]);
  const BabysitDecision after = m.run(0.7);
  EXPECT_DOUBLE_EQ(after.params.at("lr"), 0.5);
  EXPECT_EQ(after.lineage["restore_trial"], 2);
}

TEST(BabysitNext, AFailedSegmentWaitsForAChangeOrAutoLowersTheLearningRate) {
  Model m;
  m.run(0.5);
  m.run(0, TrialState::Failed);  // diverged: counted
  EXPECT_EQ(m.next().kind, Kind::Failed);
  m.options.auto_apply = true;
  const BabysitDecision d = m.run(0.55);
  EXPECT_EQ(d.lineage["origin"], "auto");
  EXPECT_NEAR(d.params.at("lr"), 0.0333, 1e-12);
  EXPECT_EQ(d.lineage["restore_trial"], 0);
  EXPECT_EQ(d.lineage["step"], 1);
  EXPECT_NE(d.lineage["note"].get<std::string>().find("failed"), std::string::npos);
}

TEST(BabysitNext, TheBudgetCountsTheStepsOfEveryBranch) {
  Model m;
  m.options.budget = 5;
  m.options.interval = 2;
  m.run(0.5);  // 0-2
  m.run(0.6);  // 2-4
  m.give("rollback", json::object(), 2);
  const BabysitDecision d = m.run(0.7);  // 2-3: one step left of 5
  EXPECT_EQ(d.lineage["step"], 2);
  EXPECT_EQ(d.lineage["stop"], 3);
  const BabysitDecision done = m.next();
  EXPECT_EQ(done.kind, Kind::Done);
  EXPECT_NE(done.message.find("trained 5 steps in all"), std::string::npos) << done.message;
}

TEST(BabysitNext, DoneAtMaxStepsBusyWhileASegmentRuns) {
  Model m;
  m.options.max_steps = 2;
  m.options.interval = 2;
  EXPECT_EQ(m.run(0.5).lineage["stop"], 2);
  EXPECT_EQ(m.next().kind, Kind::Done);
  m.options.max_steps = 3;  // train on
  const BabysitDecision d = m.run(0.6, TrialState::Running);
  EXPECT_EQ(d.lineage["stop"], 3);
  EXPECT_EQ(m.next().kind, Kind::Busy);
}

// ---------------------------------------------------------------- suggestions

std::optional<BabysitSuggestion> suggest(Model& m) {
  return babysit_suggest(m.space, Direction::Maximize, m.options, babysit_run(m.trials), "val_acc");
}

TEST(BabysitSuggest, NothingWhileItImprovesAPlateauLowersTheLearningRate) {
  Model m;
  for (double v : {0.5, 0.6, 0.7, 0.75}) m.run(v, TrialState::Complete, 1.0 - v);
  EXPECT_FALSE(suggest(m));
  m.run(0.7505, TrialState::Complete, 0.25);  // +0.07 %: not an improvement
  m.run(0.749, TrialState::Complete, 0.25);
  const auto s = suggest(m);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, "plateau");
  EXPECT_NEAR(s->params["lr"].get<double>(), 0.0333, 1e-12);
  EXPECT_FALSE(s->to);
  EXPECT_NE(s->words.find("val_acc has not improved for 2 steps (best 0.75 at step 4)"), std::string::npos) << s->words;
  // Applied, it waits `patience` steps before the next one.
  m.options.auto_apply = true;
  EXPECT_EQ(m.run(0.749).lineage["origin"], "auto");
  m.options.auto_apply = false;
  EXPECT_FALSE(suggest(m));
}

TEST(BabysitSuggest, ALearningRateFarTooHighAtTheStartMeansStartingOver) {
  Model m;
  m.options.max_steps = 12;
  m.run(0.5);
  m.give("set", {{"lr", 0.01}});  // 10 times lower than the start's
  for (double v : {0.6, 0.7, 0.7, 0.7}) m.run(v);
  auto s = suggest(m);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, "restart");
  EXPECT_EQ(s->to, 0);
  EXPECT_EQ(s->params["lr"], 0.01);
  m.options.auto_apply = true;
  const BabysitDecision d = m.run(0.5);
  EXPECT_EQ(d.lineage["origin"], "auto");
  EXPECT_EQ(d.lineage["step"], 0);
  EXPECT_TRUE(d.restore_source.empty()) << "from scratch";
  EXPECT_EQ(d.lineage["branch"], 1);
  EXPECT_DOUBLE_EQ(d.params.at("lr"), 0.01);
  // Past half of max_steps it lowers the rate instead.
  Model late;
  late.options.max_steps = 8;
  late.run(0.5);
  late.give("set", {{"lr", 0.01}});
  for (double v : {0.6, 0.7, 0.7, 0.7}) late.run(v);
  s = suggest(late);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, "plateau");
}

TEST(BabysitSuggest, ARisingTrainingLossGoesBackToTheBestStep) {
  Model m;
  m.run(0.5, TrialState::Complete, 0.9);
  m.run(0.7, TrialState::Complete, 0.5);  // best, step 2
  m.run(0.65, TrialState::Complete, 0.55);
  m.run(0.6, TrialState::Complete, 0.7);
  const auto s = suggest(m);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, "diverging");
  EXPECT_EQ(s->to, 2);
  EXPECT_NE(s->words.find("go back to step 2"), std::string::npos) << s->words;
}

TEST(BabysitSuggest, OverfittingRaisesTheRegularisation) {
  Model m;
  m.run(0.5, TrialState::Complete, 0.9, 0.8);
  m.run(0.8, TrialState::Complete, 0.5, 0.5);
  m.run(0.79, TrialState::Complete, 0.4, 0.55);
  m.run(0.78, TrialState::Complete, 0.3, 0.6);
  const auto s = suggest(m);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, "overfitting");
  EXPECT_NEAR(s->params["weight_decay"].get<double>(), 3e-4, 1e-15);
}

TEST(BabysitSuggest, NoLearningRateParameterNoLearningRateNudge) {
  Model m;
  m.space = SearchSpace::from_config_json(json::parse(R"([{"name": "units", "type": "int", "low": 8, "high": 64}])"));
  m.first = {{"units", 16}};
  for (double v : {0.5, 0.5, 0.5, 0.5}) m.run(v);
  EXPECT_FALSE(suggest(m));
}

// ---------------------------------------------------------------- controls

TEST(BabysitControls, StoredOnesReadBackInOrderMalformedOnesSkipped) {
  const BabysitControl a = make_babysit_control("set", {{"lr", 0.1}});
  const BabysitControl b = make_babysit_control("rollback", json::object(), 3, "dashboard");
  EXPECT_LT(a.id, b.id);
  json attrs = {{babysit_control_key(b), babysit_control_json(b)},
                {babysit_control_key(a), babysit_control_json(a)},
                {std::string(attr::kBabysitControl) + "x", {{"action", "explode"}}},
                {std::string(attr::kBabysitControl) + "y", 3},
                {"caviar:space", json::array()}};
  const auto controls = babysit_controls(attrs);
  ASSERT_EQ(controls.size(), 2u);
  EXPECT_EQ(controls[0].id, a.id);
  EXPECT_EQ(controls[0].params["lr"], 0.1);
  EXPECT_EQ(controls[1].to, 3);
  EXPECT_EQ(controls[1].by, "dashboard");
  EXPECT_THROW(make_babysit_control("explode"), UsageError);
  EXPECT_THROW(make_babysit_control("set"), UsageError);
  EXPECT_THROW(make_babysit_control("rollback"), UsageError);
}

}  // namespace
}  // namespace caviar
