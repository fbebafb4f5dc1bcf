// The SQLite store: WAL and Optuna's revision, what it refuses, a file that goes away, UTC
// heartbeats.
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


TEST(SqliteStorage, UsesWalAndOptunaRevision) {
  caviar::testing::TempDir tmp;
  fs::path dir = tmp.path();
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
  caviar::testing::TempDir tmp;
  fs::path dir = tmp.path();
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
TEST(SqliteStorage, ADatabaseThatGoesAwayIsAnErrorNotSilentLoss) {
  caviar::testing::TempDir tmp;
  fs::path dir = tmp.path();
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
  caviar::testing::TempDir tmp;
  fs::path dir = tmp.path();
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
