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
#include <set>
#include <thread>

#include "caviar/error.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/tuner.h"
#include "support/postgres.h"

using namespace caviar;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir() {
  std::string templ = (fs::temp_directory_path() / "caviar-storage-XXXXXX").string();
  return fs::path(mkdtemp(templ.data()));
}

class StorageContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fresh_dir();
    if (GetParam() == "postgres") {
      ASSERT_TRUE(caviar::testing::postgres_available());
      database_.emplace();
      url_ = database_->url();
    } else {
      url_ = GetParam() == "memory" ? "memory" : "sqlite:///" + (dir_ / "s.db").string();
    }
    storage_ = open_storage(url_);
  }
  void TearDown() override {
    storage_.reset();
    fs::remove_all(dir_);
  }

  StudyOptions options(std::optional<int> budget = std::nullopt) {
    StudyOptions o;
    o.name = "s";
    o.space = SearchSpace::from_config_json(json::parse(
        R"({"x": {"type": "float", "low": -5, "high": 5}, "c": {"type": "choice", "values": ["a", "b"]}})"));
    o.budget = budget;
    return o;
  }

  fs::path dir_;
  std::optional<caviar::testing::PostgresDatabase> database_;
  std::string url_;
  std::shared_ptr<Storage> storage_;
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

TEST(SqliteStorage, UsesWalAndOptunaRevision) {
  fs::path dir = fresh_dir();
  std::string path = (dir / "w.db").string();
  open_storage("sqlite:///" + path)->open_study("s", Direction::Minimize);
  open_storage("sqlite:///" + (dir / "old.db").string() + "?schema=v3.0.0.d");
  auto query = [](const std::string& file, const char* sql) {
    sqlite3* db;
    sqlite3_open(file.c_str(), &db);
    sqlite3_stmt* st;
    sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
    std::string out = sqlite3_step(st) == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(st, 0)) : "";
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  };
  EXPECT_EQ(query(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query(path, "SELECT version_num FROM alembic_version"), "v3.2.0.a");
  EXPECT_EQ(query((dir / "old.db").string(), "SELECT version_num FROM alembic_version"), "v3.0.0.d");

  // Optuna's type of a final value has no NaN: a NaN is NULL with type FINITE, read as NaN.
  auto storage = open_storage("sqlite:///" + path);
  StartRequest request;
  request.study_id = storage->open_study("s", Direction::Minimize).id;
  request.propose = [](const std::vector<TrialRecord>&, const Params&, int) { return std::optional<TrialDraft>(TrialDraft{}); };
  auto trial = storage->start_trial(request);
  ASSERT_TRUE(trial);
  ASSERT_TRUE(storage->finish_trial(trial->id, TrialState::Failed, std::nan(""), json::object()));
  EXPECT_EQ(query(path, "SELECT coalesce(value, 'NULL') || ' ' || value_type FROM trial_values"), "NULL FINITE");
  EXPECT_TRUE(std::isnan(storage->trials(request.study_id).at(0).value.value_or(0)));
  fs::remove_all(dir);
}

TEST(SqliteStorage, RejectsWhatIsNotAStudyStore) {
  fs::path dir = fresh_dir();
  std::ofstream(dir / "notes.txt") << "these are not the studies you are looking for\n";
  try {
    open_storage("sqlite:///" + (dir / "notes.txt").string());
    FAIL();
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("notes.txt"), std::string::npos);
    EXPECT_NE(e.why().find("neither a caviar nor an Optuna"), std::string::npos) << e.what();
  }
  EXPECT_THROW(open_storage("sqlite:///" + (dir / "no/such/folder/x.db").string()), StorageError);
  EXPECT_THROW(open_storage("mysql://nope"), StorageError);
  fs::remove_all(dir);
}

// PostgreSQL: Optuna's layout with its enum types; a dropped connection is opened again
// and the call goes through; a server that is not there, or a database with other tables,
// is a clear error (with the password left out of it).
TEST(PostgresStorage, OptunaLayoutWithEnumTypes) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  auto storage = open_storage(db.url());
  StudyRecord s = storage->open_study("layout", Direction::Maximize);
  auto query = [&](const std::string& sql) { return caviar::testing::postgres_query(sql, db.name()); };
  EXPECT_EQ(query("SELECT version_num FROM alembic_version"), "v3.2.0.a");
  EXPECT_EQ(query("SELECT udt_name FROM information_schema.columns WHERE table_name = 'trials' "
                  "AND column_name = 'state'"),
            "trialstate");
  EXPECT_EQ(query("SELECT direction FROM study_directions WHERE study_id = " + std::to_string(s.id)), "MAXIMIZE");
  // A second store on the same database finds the schema and the study.
  auto again = open_storage(db.url());
  ASSERT_TRUE(again->find_study("layout"));
  EXPECT_EQ(again->find_study("layout")->direction, Direction::Maximize);
  // Optuna 3.0/3.1's revision, asked for among libpq's own options (which still apply).
  caviar::testing::PostgresDatabase old;
  open_storage(old.url() + "?connect_timeout=5&schema=v3.0.0.d&application_name=tuner");
  EXPECT_EQ(caviar::testing::postgres_query("SELECT version_num FROM alembic_version", old.name()), "v3.0.0.d");
  EXPECT_THROW(open_storage(old.url() + "?schema=v9"), StorageError);
}

TEST(PostgresStorage, ADroppedConnectionIsOpenedAgain) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  StudyOptions o;
  o.name = "drop";
  o.space = SearchSpace::from_config_json(json::parse(R"({"x": {"type": "float", "low": 0, "high": 1}})"));
  Study study(open_storage(db.url()), o);
  auto t = study.ask();
  ASSERT_TRUE(t);
  // The server ends the store's session, as a restart or a network cut would.
  EXPECT_EQ(caviar::testing::postgres_query("SELECT count(*) FROM (SELECT pg_terminate_backend(pid, 5000) FROM "
                                            "pg_stat_activity WHERE datname = '" + db.name() + "') k"),
            "1");  // 5000: wait until the session has ended
  EXPECT_TRUE(study.tell(*t, 0.25));
  auto trials = study.trials();
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].state, TrialState::Complete);
  EXPECT_EQ(*trials[0].value, 0.25);
}

// The server ends the session in the middle of starting a trial (inside the sampler's
// call, under the write lock): the whole start runs again on a new connection, and the
// study holds one trial, not two.
TEST(PostgresStorage, ATransactionCutOffMidwayRunsAgainWhole) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  auto storage = open_storage(db.url());
  const StudyRecord study = storage->open_study("cut", Direction::Minimize);
  int proposals = 0;
  StartRequest request;
  request.study_id = study.id;
  request.propose = [&](const std::vector<TrialRecord>&, const Params&, int number) -> std::optional<TrialDraft> {
    if (proposals++ == 0)
      caviar::testing::postgres_query("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                                      "WHERE datname = '" + db.name() + "'");
    TrialDraft draft;
    draft.params = {{"x", 0.5 + number}};
    return draft;
  };
  auto started = storage->start_trial(request);
  ASSERT_TRUE(started);
  EXPECT_EQ(proposals, 2);
  EXPECT_EQ(started->number, 0);
  auto trials = storage->trials(study.id);
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].params.at("x"), 0.5);
  EXPECT_EQ(trials[0].state, TrialState::Running);
}

// A COMMIT whose reply never comes back: the store must not run the transaction again
// (that would start a second trial) but find out from the transaction id whether it was
// committed. scripts/test.sh names a synchronous standby that never connects, so in a
// database with synchronous_commit = on every COMMIT, once written, waits for it: there
// the reply is lost in one of two ways.
//   server: the waiting session is ended; PostgreSQL finishes the commit as it goes.
//   client: the store's own socket is shut (a network cut), while the server process waits
//     on with the transaction in progress; the store asks again until it is released.
namespace {

enum class Cut { Server, Client };

// The socket of the one PostgreSQL connection this process holds (the store's).
int postgres_socket() {
  for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
    const int fd = std::atoi(entry.path().filename().c_str());
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_un peer{};
    socklen_t size = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) == 0 && peer.sun_family == AF_UNIX &&
        std::string(peer.sun_path).find(".s.PGSQL.") != std::string::npos)
      return fd;
  }
  return -1;
}

void commit_reply_lost(Cut cut) {
  using caviar::testing::postgres_query;
  ASSERT_TRUE(caviar::testing::postgres_available());
  ASSERT_EQ(postgres_query("SHOW synchronous_standby_names"), "caviar_test_no_standby")
      << "the test server of scripts/test.sh is needed";
  caviar::testing::PostgresDatabase db;
  auto storage = open_storage(db.url());
  const StudyRecord study = storage->open_study("lost", Direction::Minimize);
  const std::string in_db = "FROM pg_stat_activity WHERE datname = '" + db.name() + "'";
  // From now on the database's new sessions wait for the standby at each COMMIT; the store's
  // session is ended so that its next transaction runs in a new one.
  postgres_query("ALTER DATABASE " + db.name() + " SET synchronous_commit = on");
  postgres_query("SELECT pg_terminate_backend(pid, 5000) " + in_db);

  std::atomic<bool> started_trial{false};
  bool waited = false, asked_while_in_progress = false;
  std::string cutter_error;
  // Lets the store go on: the database no longer waits for the standby, and its sessions
  // end (the waiting one commits as it goes; after a client-side cut the store's new one had
  // begun while the database still waited). Best effort, also after a failure here: a store
  // left waiting at COMMIT would never return.
  auto release = [&] {
    for (const std::string& sql : {"ALTER DATABASE " + db.name() + " RESET synchronous_commit",
                                   "SELECT pg_terminate_backend(pid, 5000) " + in_db + " AND pid <> pg_backend_pid()"}) {
      try {
        postgres_query(sql);
      } catch (const std::exception& e) {
        if (cutter_error.empty()) cutter_error = e.what();
      }
    }
  };
  std::thread cutter([&] {
    try {
      std::string pid;
      for (int i = 0; i < 3000 && pid.empty() && !started_trial; ++i) {
        pid = postgres_query("SELECT pid " + in_db + " AND wait_event = 'SyncRep'");
        if (pid.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      waited = !pid.empty();
      if (waited && cut == Cut::Client) {
        const int fd = postgres_socket();
        if (fd < 0) throw std::runtime_error("the store's Unix socket to PostgreSQL was not found");
        shutdown(fd, SHUT_RDWR);
        // Until the store, on a new connection, has asked about the transaction.
        for (int i = 0; i < 3000 && !asked_while_in_progress && !started_trial; ++i) {
          asked_while_in_progress =
              postgres_query("SELECT count(*) " + in_db + " AND pid <> pg_backend_pid() AND query LIKE "
                             "'%txid_status%'") != "0";
          if (!asked_while_in_progress) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    } catch (const std::exception& e) {
      cutter_error = e.what();
    }
    release();
  });
  int proposals = 0;
  StartRequest request;
  request.study_id = study.id;
  request.propose = [&](const std::vector<TrialRecord>&, const Params&, int number) -> std::optional<TrialDraft> {
    ++proposals;
    TrialDraft draft;
    draft.params = {{"x", 0.5 + number}};
    return draft;
  };
  decltype(storage->start_trial(request)) started;
  std::string error;
  try {
    started = storage->start_trial(request);
  } catch (const std::exception& e) {
    error = e.what();
  }
  started_trial = true;
  cutter.join();
  ASSERT_EQ(cutter_error, "");
  EXPECT_TRUE(waited) << "no COMMIT waited for the standby";
  if (cut == Cut::Client) EXPECT_TRUE(asked_while_in_progress);
  ASSERT_EQ(error, "");
  ASSERT_TRUE(started);
  EXPECT_EQ(proposals, 1) << "the committed transaction ran again";
  EXPECT_EQ(started->number, 0);
  auto trials = storage->trials(study.id);
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].id, started->id);
  EXPECT_EQ(trials[0].state, TrialState::Running);
  EXPECT_TRUE(storage->finish_trial(started->id, TrialState::Complete, 1.5, json::object()))
      << "the store goes on";
}

}  // namespace

TEST(PostgresStorage, ACommitWhoseReplyIsLostIsNotRunAgain) { commit_reply_lost(Cut::Server); }

TEST(PostgresStorage, ACommitStillInProgressAfterANetworkCutIsAwaited) { commit_reply_lost(Cut::Client); }

TEST(PostgresStorage, RefusesWhatItCannotReachOrDoesNotOwn) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  fs::path dir = fresh_dir();  // a socket folder with no server in it
  try {
    open_storage("postgresql://caviar:hunter2@/nowhere?host=" + dir.string());
    FAIL();
  } catch (const StorageError& e) {
    EXPECT_NE(e.why().find("cannot connect to PostgreSQL"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
  try {  // the password as a query option
    open_storage("postgresql:///nowhere?host=" + dir.string() + "&password=hunter2&user=caviar");
    FAIL();
  } catch (const StorageError& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("password=***&user=caviar"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
  caviar::testing::PostgresDatabase db;
  caviar::testing::postgres_query("CREATE TABLE notes (body TEXT)", db.name());
  try {
    open_storage(db.url());
    FAIL();
  } catch (const StorageError& e) {
    EXPECT_NE(e.why().find("neither a caviar nor an Optuna"), std::string::npos) << e.what();
  }
  EXPECT_EQ(caviar::testing::postgres_query("SELECT count(*) FROM information_schema.tables WHERE "
                                            "table_schema = 'public'", db.name()),
            "1") << "the foreign database was left as it was";
}

TEST(StaleRetry, AStaleTrialsParamsRunAgainWithRetry) {
  for (const char* url : {"memory", "sqlite"}) {
    fs::path dir = fresh_dir();
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

TEST(SqliteStorage, ADatabaseThatGoesAwayIsAnErrorNotSilentLoss) {
  fs::path dir = fresh_dir();
  fs::path file = dir / "gone.db";
  auto storage = open_storage("sqlite:///" + file.string());
  StudyOptions o;
  o.name = "g";
  o.space = SearchSpace::from_config_json(json::parse(R"({"x": {"type": "float", "low": 0, "high": 1}})"));
  Study study(storage, o);
  auto t = study.ask();
  ASSERT_TRUE(t);
  fs::remove(file);
  try {
    study.tell(*t, 1.0);
    FAIL() << "a result was accepted into a deleted database";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("removed or replaced"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(SqliteStorage, HeartbeatsAreUtcWhateverTheTimeZone) {
  fs::path dir = fresh_dir();
  std::string old_tz = getenv("TZ") ? getenv("TZ") : "";
  setenv("TZ", "Asia/Tokyo", 1);  // UTC+9: a local-time heartbeat would look 9 h off
  tzset();
  std::string path = (dir / "tz.db").string();
  auto storage = open_storage("sqlite:///" + path);
  StudyOptions o;
  o.name = "tz";
  o.space = SearchSpace::from_config_json(json::parse(R"({"x": {"type": "float", "low": 0, "high": 1}})"));
  Study study(storage, o);
  auto t = study.ask(true);
  sqlite3* db;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st;
  // SQLite's CURRENT_TIMESTAMP is UTC, as Optuna's heartbeats are.
  sqlite3_prepare_v2(db, "SELECT (julianday('now') - julianday(heartbeat)) * 86400 FROM trial_heartbeats", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  double age = sqlite3_column_double(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_LT(std::abs(age), 5.0) << "heartbeat is " << age << " s from UTC now";
  EXPECT_TRUE(storage->fail_stale(study.record().id, std::chrono::seconds(60)).empty());
  if (old_tz.empty()) unsetenv("TZ");
  else setenv("TZ", old_tz.c_str(), 1);
  tzset();
  fs::remove_all(dir);
}
