// The PostgreSQL store on a real server (scripts/test.sh): Optuna's layout, dropped
// connections, transactions cut off midway, lost commit replies, what it refuses.
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
#include "support/files.h"
#include "support/postgres.h"

using namespace caviar;
namespace fs = std::filesystem;


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
  caviar::testing::TempDir tmp;
  fs::path dir = tmp.path();  // a socket folder with no server in it
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
