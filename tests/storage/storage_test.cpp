// Storage: the same contract for the in-memory, the SQLite and the PostgreSQL store (a real
// server, started by scripts/test.sh).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "caviar/error.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/tuner.h"
#include "support/files.h"
#include "support/postgres.h"
#include "support/stores.h"

using namespace caviar;
namespace fs = std::filesystem;

namespace {

class StorageContract : public caviar::testing::EveryStore {
 protected:
  void TearDown() override {
    storage_.reset();
  }

  StudyOptions options(std::optional<int> budget = std::nullopt) {
    StudyOptions o;
    o.name = "s";
    o.space = SearchSpace::from_config_json(json::parse(
        R"({"x": {"type": "float", "low": -5, "high": 5}, "c": {"type": "choice", "values": ["a", "b"]}})"));
    o.budget = budget;
    return o;
  }

  const fs::path dir_ = tmp_.path();
};

}  // namespace

TEST_P(StorageContract, StudiesOpenOnceAndKeepTheirDirection) {
  StudyRecord a = storage_->open_study("one", Direction::Maximize);
  StudyRecord b = storage_->open_study("one", Direction::Maximize);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(b.direction, Direction::Maximize);
  EXPECT_THROW(storage_->open_study("one", Direction::Minimize), UsageError);
  storage_->open_study("two", Direction::Minimize);
  ASSERT_EQ(storage_->studies().size(), 2u);
  EXPECT_FALSE(storage_->find_study("three"));
}

TEST_P(StorageContract, BudgetNumbersAndCounts) {
  Study study(storage_, options(5));
  std::vector<Trial> running;
  while (auto t = study.ask()) running.push_back(std::move(*t));
  ASSERT_EQ(running.size(), 5u);  // running trials reserve the budget
  for (int i = 0; i < 5; ++i) EXPECT_EQ(running[i].number(), i);
  EXPECT_TRUE(study.tell(running[0], 1.5));
  EXPECT_FALSE(study.tell(running[0], 2.5)) << "a finished trial cannot be told again";
  EXPECT_TRUE(study.tell_failed(running[1], "boom"));
  EXPECT_TRUE(study.tell_pruned(running[2]));
  EXPECT_TRUE(study.tell(running[3], -1.0));
  EXPECT_TRUE(study.tell_interrupted(running[4]));
  TrialCounts c = study.counts();
  EXPECT_EQ(c.complete, 2);
  EXPECT_EQ(c.failed, 2);
  EXPECT_EQ(c.pruned, 1);
  EXPECT_EQ(c.counted, 4);  // the interrupted one does not use up the budget
  auto again = study.ask();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->number(), 5);
  EXPECT_FALSE(study.ask());
  EXPECT_EQ(study.best()->number, 3);
  EXPECT_EQ(storage_->trial(study.record().id, 1)->reason(), "boom");
}

TEST_P(StorageContract, ValuesReportsAndAttributesRoundTrip) {
  Study study(storage_, options());
  auto t = study.ask();
  ASSERT_TRUE(t);
  storage_->report(t->id(), 1, 0.5);
  storage_->report(t->id(), 2, HUGE_VAL);
  storage_->report(t->id(), 3, std::nan(""));
  storage_->set_trial_attr(t->id(), "caviar:note", json{{"k", {1, 2}}});
  ASSERT_TRUE(storage_->finish_trial(t->id(), TrialState::Complete, -HUGE_VAL, json{{"extra", "yes"}}));
  TrialRecord r = *storage_->trial(study.record().id, 0);
  EXPECT_EQ(r.intermediate.at(1), 0.5);
  EXPECT_EQ(r.intermediate.at(2), HUGE_VAL);
  EXPECT_TRUE(std::isnan(r.intermediate.at(3)));
  EXPECT_EQ(*r.value, -HUGE_VAL);
  EXPECT_EQ(r.system_attrs["caviar:note"], (json{{"k", {1, 2}}}));
  EXPECT_EQ(r.system_attrs["extra"], "yes");
  EXPECT_EQ(r.params, t->params());
  ASSERT_NE(r.parameter("x"), nullptr);
  EXPECT_EQ(r.parameter("x")->type, caviar::ParamType::Float);
  ASSERT_TRUE(r.started && r.finished);
  EXPECT_LE(*r.started, *r.finished);
  // The search space is kept with the study, in order.
  auto stored = storage_->find_study("s")->system_attrs.at("caviar:space");
  EXPECT_EQ(SearchSpace::from_config_json(stored).to_config_json(), study.space().to_config_json());
}

// A parameter added to a running trial (define-by-run, the Python module's suggest_* of an
// undeclared name) is stored with its definition beside the sampled ones; a finished trial
// takes none.
TEST_P(StorageContract, ParametersAddedWhileATrialRunsAreStoredWithTheirDefinition) {
  Study study(storage_, options());
  auto t = study.ask();
  ASSERT_TRUE(t);
  Parameter units = Parameter::from_config_json(
      "units", json::parse(R"({"type": "int", "low": 16, "high": 512, "scale": "log"})"), "units");
  storage_->set_trial_param(t->id(), units, 64);
  ASSERT_TRUE(study.tell(*t, 1.0));
  EXPECT_THROW(storage_->set_trial_param(t->id(), units, 32), UsageError);
  auto second = study.ask();  // the other trials keep the study's space only
  ASSERT_TRUE(second);
  for (const TrialRecord& r : {*storage_->trial(study.record().id, 0), *storage_->trial(study.record().id, 1)}) {
    const bool first = r.number == 0;
    EXPECT_EQ(r.params.count("units"), first ? 1u : 0u);
    EXPECT_EQ(r.parameter("units") != nullptr, first);
    ASSERT_NE(r.parameter("x"), nullptr);
  }
  TrialRecord r = *storage_->trial(study.record().id, 0);
  EXPECT_EQ(r.params.at("units"), 64);
  EXPECT_EQ(r.user_value("units"), json(64));
  EXPECT_EQ(r.parameter("units")->scale, Scale::Log);
  EXPECT_EQ(r.params.at("x"), t->params().at("x"));
}

// What a reader that follows a study gets (the dashboard): the trials after an id, at most
// `limit` of them, and those it asks for again, each as trial() reads it.
TEST_P(StorageContract, TrialsAfterReadsTheNewAndTheOpenOnes) {
  Study study(storage_, options());
  std::vector<Trial> t;
  for (int i = 0; i < 5; ++i) t.push_back(*study.ask());
  storage_->report(t[0].id(), 1, 0.25);
  storage_->report(t[0].id(), 2, std::nan(""));
  storage_->set_trial_attr(t[0].id(), "caviar:note", "n");
  ASSERT_TRUE(study.tell(t[0], 1.5));
  ASSERT_TRUE(study.tell_failed(t[1], "boom"));
  const std::int64_t id = study.record().id;
  const std::vector<TrialRecord> all = storage_->trials(id);

  std::vector<TrialRecord> first = storage_->trials_after(id, 0, 3, {});
  ASSERT_EQ(first.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(first[i].id, all[i].id);
    EXPECT_EQ(first[i].number, all[i].number);
    EXPECT_EQ(first[i].state, all[i].state);
    EXPECT_EQ(first[i].params, all[i].params);
    EXPECT_EQ(first[i].value, all[i].value);
    EXPECT_EQ(first[i].system_attrs, all[i].system_attrs);
    EXPECT_EQ(first[i].started, all[i].started);
    EXPECT_EQ(first[i].finished, all[i].finished);
    ASSERT_NE(first[i].parameter("c"), nullptr);
    EXPECT_EQ(first[i].user_value("c"), all[i].user_value("c"));
  }
  EXPECT_EQ(first[0].intermediate.size(), 2u);
  EXPECT_EQ(first[0].intermediate.at(1), 0.25);
  EXPECT_TRUE(std::isnan(first[0].intermediate.at(2)));
  EXPECT_EQ(first[0].system_attrs["caviar:note"], "n");
  EXPECT_EQ(first[1].reason(), "boom");

  // The rest, and trial 2 again, which has finished since.
  ASSERT_TRUE(study.tell(t[2], 0.5));
  std::vector<TrialRecord> next = storage_->trials_after(id, first.back().id, 100, {first[2].id});
  std::map<int, TrialState> got;
  for (const auto& r : next) got[r.number] = r.state;
  EXPECT_EQ(got, (std::map<int, TrialState>{{2, TrialState::Complete}, {3, TrialState::Running},
                                            {4, TrialState::Running}}));
  EXPECT_TRUE(storage_->trials_after(id, all.back().id, 100, {}).empty());
}

// A store opened ReadOnly reads everything and refuses every write.
TEST_P(StorageContract, ReadOnlyStoresRefuseWrites) {
  if (GetParam() == "memory") GTEST_SKIP() << "a memory store is not opened by URL twice";
  Study study(storage_, options());
  auto t = study.ask();
  ASSERT_TRUE(study.tell(*t, 2.0));
  auto reader = open_storage(url_, OpenMode::ReadOnly);
  ASSERT_EQ(reader->trials(study.record().id).size(), 1u);
  EXPECT_THROW(reader->open_study("new", Direction::Minimize), StorageError);
  EXPECT_THROW(reader->set_study_attr(study.record().id, "k", 1), StorageError);
  EXPECT_EQ(storage_->studies().size(), 1u);
}

TEST_P(StorageContract, SilentOwnersAreFailedAsStaleAndUncounted) {
  Study study(storage_, options(3));
  auto beating = study.ask(true);
  auto quiet = study.ask(false);  // no heartbeat: never stale (ask/tell from a shell)
  ASSERT_TRUE(beating && quiet);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  auto stale = storage_->fail_stale(study.record().id, std::chrono::milliseconds(30));
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].number, beating->number());
  TrialRecord r = *storage_->trial(study.record().id, beating->number());
  EXPECT_EQ(r.state, TrialState::Failed);
  EXPECT_EQ(r.reason().rfind("stale", 0), 0u) << r.reason();
  EXPECT_FALSE(r.counted());
  EXPECT_EQ(storage_->trial(study.record().id, quiet->number())->state, TrialState::Running);
  EXPECT_FALSE(study.tell(*beating, 1.0)) << "a stale trial's late result is refused";
  // Its place in the budget is free again: two more trials fit (3 counted in all).
  EXPECT_TRUE(study.ask());
  EXPECT_TRUE(study.ask());
  EXPECT_FALSE(study.ask());
}

TEST_P(StorageContract, HeartbeatsKeepTrialsAlive) {
  Study study(storage_, options());
  auto t = study.ask(true);
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    storage_->heartbeat({t->id()});
    EXPECT_TRUE(storage_->fail_stale(study.record().id, std::chrono::milliseconds(200)).empty());
  }
  EXPECT_TRUE(study.tell(*t, 2.0));
}

TEST_P(StorageContract, RetryRunsTheSameParamsAgainOnce) {
  StudyOptions o = options(2);
  o.retry = 1;
  Study study(storage_, o);
  auto first = study.ask();
  Params params = first->params();
  study.tell_failed(*first, "crashed");
  auto second = study.ask();  // the retry, claimed from the waiting queue
  ASSERT_TRUE(second);
  EXPECT_EQ(second->params(), params);
  EXPECT_EQ(second->record().system_attrs.value("caviar:retry_of", -1), first->number());
  study.tell_failed(*second, "crashed again");  // out of retries: counted
  auto third = study.ask();
  ASSERT_TRUE(third);
  EXPECT_NE(third->params(), params);
  study.tell(*third, 0.0);
  EXPECT_FALSE(study.ask());
  TrialCounts c = study.counts();
  EXPECT_EQ(c.failed, 2);
  EXPECT_EQ(c.counted, 2);
}

TEST_P(StorageContract, EnqueuedParamsRunFirst) {
  Study study(storage_, options());
  study.enqueue({{"x", 1.25}, {"c", "b"}});
  auto t = study.ask();
  EXPECT_EQ(t->float_param("x"), 1.25);
  EXPECT_EQ(t->choice("c"), "b");
  EXPECT_THROW(study.enqueue({{"x", 99}}), UsageError);
}

TEST_P(StorageContract, ThreadsShareOneBudgetExactly) {
  Study study(storage_, options(100));
  std::atomic<int> calls{0};
  optimize(study, [&](Trial& t) {
    ++calls;
    return t.float_param("x") * t.float_param("x");
  }, std::nullopt, 4);
  auto trials = study.trials();
  EXPECT_EQ(calls.load(), 100);
  ASSERT_EQ(trials.size(), 100u);
  std::set<int> numbers;
  for (const auto& t : trials) {
    numbers.insert(t.number);
    EXPECT_EQ(t.state, TrialState::Complete);
  }
  EXPECT_EQ(numbers.size(), 100u);
  EXPECT_EQ(*numbers.rbegin(), 99);
}

TEST_P(StorageContract, ObjectiveFailuresAreStoredWithTheirReason) {
  Study study(storage_, options(3));
  int n = 0;
  optimize(study, [&](Trial&) -> double {
    switch (n++) {
      case 0: throw std::runtime_error("out of memory");
      case 1: return std::nan("");
      default: throw TrialPruned();
    }
  });
  auto trials = study.trials();
  ASSERT_EQ(trials.size(), 3u);
  EXPECT_EQ(trials[0].state, TrialState::Failed);
  EXPECT_NE(trials[0].reason().find("out of memory"), std::string::npos);
  EXPECT_EQ(trials[1].state, TrialState::Failed);
  EXPECT_NE(trials[1].reason().find("nan"), std::string::npos);
  EXPECT_EQ(trials[2].state, TrialState::Pruned);
}

INSTANTIATE_TEST_SUITE_P(Stores, StorageContract, ::testing::Values("memory", "sqlite", "postgres"));

TEST(StaleRetry, AStaleTrialsParamsRunAgainWithRetry) {
  for (const char* url : {"memory", "sqlite"}) {
    caviar::testing::TempDir tmp;
    fs::path dir = tmp.path();
    auto storage = open_storage(std::string(url) == "memory" ? "memory" : "sqlite:///" + (dir / "r.db").string());
    StudyOptions o;
    o.name = "r";
    o.space = SearchSpace::from_config_json(json::parse(R"({"x": {"type": "float", "low": 0, "high": 1}})"));
    o.retry = 1;
    o.budget = 2;
    o.stale_after = std::chrono::milliseconds(30);
    Study study(storage, o);
    auto lost = study.ask(true);  // its owner "dies": nobody beats or tells
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    auto again = study.ask(true);  // fails the lost trial as stale, then claims its retry
    ASSERT_TRUE(again) << url;
    EXPECT_EQ(again->params(), lost->params()) << url;
    EXPECT_EQ(again->record().system_attrs.value("caviar:retry_of", -1), lost->number()) << url;
    auto lost_now = storage->trial(study.record().id, lost->number());
    EXPECT_EQ(lost_now->state, TrialState::Failed);
    EXPECT_FALSE(lost_now->counted());
    fs::remove_all(dir);
  }
}
