// The SQLite storage: Optuna's RDB schema in one file, WAL mode, one transaction per state
// change (BEGIN IMMEDIATE with a busy timeout and retries), so many processes can share
// one study without "database is locked". The state changes themselves are
// storage/sql_storage.h, shared with the PostgreSQL store.
#include <sqlite3.h>

#include <sys/stat.h>

#include <filesystem>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/storage.h"
#include "storage/common.h"
#include "storage/sql_storage.h"
#include "storage/sqlite_storage.h"

namespace caviar {
namespace {

using detail::format_time;
using detail::parse_time;
using detail::SqlArg;
using detail::SqlRows;
using detail::SqlValue;

constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS studies (
	study_id INTEGER NOT NULL,
	study_name VARCHAR(512) NOT NULL,
	PRIMARY KEY (study_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS ix_studies_study_name ON studies (study_name);
CREATE TABLE IF NOT EXISTS version_info (
	version_info_id INTEGER NOT NULL,
	schema_version INTEGER,
	library_version VARCHAR(256),
	PRIMARY KEY (version_info_id),
	CHECK (version_info_id=1)
);
CREATE TABLE IF NOT EXISTS study_directions (
	study_direction_id INTEGER NOT NULL,
	direction VARCHAR(8) NOT NULL,
	study_id INTEGER NOT NULL,
	objective INTEGER NOT NULL,
	PRIMARY KEY (study_direction_id),
	UNIQUE (study_id, objective),
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE IF NOT EXISTS study_user_attributes (
	study_user_attribute_id INTEGER NOT NULL,
	study_id INTEGER,
	"key" VARCHAR(512),
	value_json TEXT,
	PRIMARY KEY (study_user_attribute_id),
	UNIQUE (study_id, "key"),
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE IF NOT EXISTS study_system_attributes (
	study_system_attribute_id INTEGER NOT NULL,
	study_id INTEGER,
	"key" VARCHAR(512),
	value_json TEXT,
	PRIMARY KEY (study_system_attribute_id),
	UNIQUE (study_id, "key"),
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE IF NOT EXISTS trials (
	trial_id INTEGER NOT NULL,
	number INTEGER,
	study_id INTEGER,
	state VARCHAR(8) NOT NULL,
	datetime_start DATETIME,
	datetime_complete DATETIME,
	PRIMARY KEY (trial_id),
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE IF NOT EXISTS trial_user_attributes (
	trial_user_attribute_id INTEGER NOT NULL,
	trial_id INTEGER,
	"key" VARCHAR(512),
	value_json TEXT,
	PRIMARY KEY (trial_user_attribute_id),
	UNIQUE (trial_id, "key"),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE IF NOT EXISTS trial_system_attributes (
	trial_system_attribute_id INTEGER NOT NULL,
	trial_id INTEGER,
	"key" VARCHAR(512),
	value_json TEXT,
	PRIMARY KEY (trial_system_attribute_id),
	UNIQUE (trial_id, "key"),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE IF NOT EXISTS trial_params (
	param_id INTEGER NOT NULL,
	trial_id INTEGER,
	param_name VARCHAR(512),
	param_value FLOAT,
	distribution_json TEXT,
	PRIMARY KEY (param_id),
	UNIQUE (trial_id, param_name),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE IF NOT EXISTS trial_values (
	trial_value_id INTEGER NOT NULL,
	trial_id INTEGER NOT NULL,
	objective INTEGER NOT NULL,
	value FLOAT,
	value_type VARCHAR(7) NOT NULL,
	PRIMARY KEY (trial_value_id),
	UNIQUE (trial_id, objective),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE IF NOT EXISTS trial_intermediate_values (
	trial_intermediate_value_id INTEGER NOT NULL,
	trial_id INTEGER NOT NULL,
	step INTEGER NOT NULL,
	intermediate_value FLOAT,
	intermediate_value_type VARCHAR(7) NOT NULL,
	PRIMARY KEY (trial_intermediate_value_id),
	UNIQUE (trial_id, step),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE IF NOT EXISTS trial_heartbeats (
	trial_heartbeat_id INTEGER NOT NULL,
	trial_id INTEGER NOT NULL,
	heartbeat DATETIME NOT NULL,
	PRIMARY KEY (trial_heartbeat_id),
	UNIQUE (trial_id),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE IF NOT EXISTS alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
)SQL";

// One prepared statement; reset on destruction so it can be reused from the cache.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, const std::string& where)
      : db_(db), stmt_(stmt), where_(where) {}
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement(const Statement&) = delete;

  Statement& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Statement& bind(int i, const std::string& v) {
    return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Statement& bind_null(int i) { return check(sqlite3_bind_null(stmt_, i)); }
  Statement& bind(int i, const SqlValue& v) {
    return std::visit([&](const auto& x) -> Statement& {
      if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::monostate>) return bind_null(i);
      else return bind(i, x);
    }, v);
  }

  // Steps once; true if a row is available.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_error(rc);
    return false;
  }

  std::int64_t integer(int col) { return sqlite3_column_int64(stmt_, col); }
  double real(int col) { return sqlite3_column_double(stmt_, col); }
  std::string text(int col) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
  }
  // The current row, each cell as SQLite typed it.
  std::vector<SqlValue> row() {
    std::vector<SqlValue> cells(static_cast<std::size_t>(sqlite3_column_count(stmt_)));
    for (int c = 0; c < static_cast<int>(cells.size()); ++c) {
      switch (sqlite3_column_type(stmt_, c)) {
        case SQLITE_NULL: break;
        case SQLITE_INTEGER: cells[c] = integer(c); break;
        case SQLITE_FLOAT: cells[c] = real(c); break;
        default: cells[c] = text(c);
      }
    }
    return cells;
  }

  [[noreturn]] void throw_error(int rc) {
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) throw detail::SqliteBusy();
    throw StorageError(where_, fmt::format("SQLite error {}: {}", rc, sqlite3_errmsg(db_)));
  }

 private:
  Statement& check(int rc) {
    if (rc != SQLITE_OK) throw_error(rc);
    return *this;
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string where_;
};

class SqliteStorage final : public detail::SqlStorage {
 public:
 public:
  SqliteStorage(const std::string& path, const std::string& schema, OpenMode mode) : path_(path) {
    namespace fs = std::filesystem;
    bool existed = fs::exists(path) && fs::file_size(path) > 0;
    if (!existed && mode != OpenMode::Create)
      throw StorageError(path, fs::exists(path) ? "an empty file, with nothing stored in it yet"
                                                : "no such database file");
    if (!existed) {
      auto dir = fs::path(path).parent_path();
      if (!dir.empty() && !fs::is_directory(dir))
        throw StorageError(path, "cannot create the database: folder '" + dir.string() +
                                     "' does not exist");
    }
    int rc = sqlite3_open_v2(path.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                                 (mode == OpenMode::Create ? SQLITE_OPEN_CREATE : 0),
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw StorageError(path, "cannot open: " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
    if (mode == OpenMode::ReadOnly) {
      sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
      sqlite3_exec(db_, "PRAGMA query_only = 1", nullptr, nullptr, nullptr);
    }
    try {
      check_kind(existed);
      if (mode == OpenMode::Create) {
        create_schema(schema);
      } else {  // only read: the file stays as it is (no WAL switch, no tables)
        const std::string revision = read([&] { return revision_locked(); });
        if (revision.empty())
          throw StorageError(path_, "a SQLite database without caviar's tables: nothing has been stored in it yet");
        detail::check_revision(path_, revision);
      }
      file_id_ = file_identity();
    } catch (...) {
      finalize_all();
      sqlite3_close(db_);
      db_ = nullptr;
      throw;
    }
  }

  ~SqliteStorage() override {
    finalize_all();
    if (db_) sqlite3_close(db_);
  }

 protected:
  SqlRows query(const std::string& sql, std::initializer_list<SqlArg> args = {}) override {
    Statement st = prepare(sql);
    int i = 1;
    for (const SqlArg& a : args) st.bind(i++, a.value);
    SqlRows out;
    while (st.step()) out.rows.push_back(st.row());
    return out;
  }

  // BEGIN IMMEDIATE ... COMMIT, the whole transaction run again while the file is busy.
  // The first write switches the file to WAL, so that merely reading an Optuna database
  // (which uses a rollback journal) leaves it as it was.
  void in_write(const std::function<void()>& fn) override {
    std::lock_guard lock(mutex_);
    if (file_id_ != std::pair<dev_t, ino_t>{}) check_still_there();
    if (!wal_) {
      exec_retry("PRAGMA journal_mode=WAL");
      exec_retry("PRAGMA synchronous=NORMAL");
      wal_ = true;
      add_indexes();
    }
    transaction("BEGIN IMMEDIATE", fn);
  }

  void in_read(const std::function<void()>& fn) override {
    std::lock_guard lock(mutex_);
    transaction("BEGIN", fn);
  }

  // Heartbeats are UTC, as Optuna's. A trial that finished meanwhile gets no row back.
  void beat_locked(std::int64_t trial_id, Clock::time_point now) override {
    query("INSERT INTO trial_heartbeats (trial_id, heartbeat) SELECT ?, ? WHERE EXISTS "
          "(SELECT 1 FROM trials WHERE trial_id = ? AND state = 'RUNNING') "
          "ON CONFLICT(trial_id) DO UPDATE SET heartbeat = excluded.heartbeat",
          {trial_id, format_time(now, true), trial_id});
  }

  std::vector<std::pair<std::int64_t, Clock::duration>> silences_locked(std::int64_t study_id,
                                                                        Clock::time_point now) override {
    // Only running trials have heartbeat rows (finishing deletes them): start from those.
    SqlRows r = query("SELECT t.trial_id, h.heartbeat FROM trial_heartbeats h CROSS JOIN trials t "
                      "ON t.trial_id = h.trial_id WHERE t.study_id = ? AND t.state = 'RUNNING'",
                      {study_id});
    std::vector<std::pair<std::int64_t, Clock::duration>> out;
    for (int i = 0; i < r.size(); ++i)
      if (auto beat = parse_time(r.text(i, 1), true)) out.emplace_back(r.integer(i, 0), now - *beat);
    return out;
  }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  std::recursive_mutex mutex_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
  bool wal_ = false;
  std::pair<dev_t, ino_t> file_id_{};  // the file we opened; see check_still_there()

  std::pair<dev_t, ino_t> file_identity() const {
    struct stat st;
    if (stat(path_.c_str(), &st) != 0) return {};
    return {st.st_dev, st.st_ino};
  }

  // A database that goes away (deleted, or replaced by another file) must not swallow
  // results silently: SQLite would go on writing to the unlinked file.
  void check_still_there() {
    if (file_identity() != file_id_)
      throw StorageError(path_, "the database file was removed or replaced while caviar was using it; "
                                "results from now on could not be stored");
  }

  Statement prepare(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* stmt = nullptr;
      int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) throw detail::SqliteBusy();
      if (rc == SQLITE_NOTADB)
        throw StorageError(path_, "not a SQLite database, so neither a caviar nor an Optuna study store");
      if (rc != SQLITE_OK)
        throw StorageError(path_, fmt::format("cannot prepare statement ({}): {}", sqlite3_errmsg(db_), sql));
      it = statements_.emplace(sql, stmt).first;
    }
    return Statement(db_, it->second, path_);
  }

  void finalize_all() {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    statements_.clear();
  }

  void exec(const char* sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    std::string why = message ? message : "";
    sqlite3_free(message);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) throw detail::SqliteBusy();
    if (rc == SQLITE_NOTADB)
      throw StorageError(path_, "not a SQLite database, so neither a caviar nor an Optuna study store");
    if (rc != SQLITE_OK) throw StorageError(path_, fmt::format("SQLite error {}: {}", rc, why));
  }

  // Retries `fn` while SQLite reports the database busy, for up to ten minutes. After
  // stop_waiting() it is tried once, and SQLite's own wait in each statement is cut from
  // 5 s to 1 s (enough for other processes' ordinary writes); a statement already waiting
  // finishes its wait.
  template <class F>
  std::invoke_result_t<F&> with_retry(F&& fn) {
    if (waiting_stopped()) sqlite3_busy_timeout(db_, 1000);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
    for (int attempt = 0;; ++attempt) {
      try {
        return fn();
      } catch (const detail::SqliteBusy&) {
        if (waiting_stopped())
          throw StorageError(path_, "gave up waiting for the database, which other processes keep locked, as told");
        if (std::chrono::steady_clock::now() > deadline)
          throw StorageError(path_, "the database stayed locked by other processes for 10 minutes");
        std::this_thread::sleep_for(std::chrono::milliseconds(1 + (attempt % 20) * (attempt % 7)));
      }
    }
  }

  void exec_retry(const char* sql) { with_retry([&] { exec(sql); return 0; }); }

  // `begin` ... COMMIT around `fn`, all of it run again while SQLite reports the file busy.
  void transaction(const char* begin, const std::function<void()>& fn) {
    with_retry([&] {
      exec(begin);
      try {
        fn();
        exec("COMMIT");
        return 0;
      } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        rolled_back();
        throw;
      }
    });
  }

  void check_kind(bool existed) {
    if (!existed) return;
    bool has_studies = false, has_alembic = false, has_tables = false;
    read([&] {
      SqlRows r = query("SELECT name FROM sqlite_master WHERE type = 'table'");
      for (int i = 0; i < r.size(); ++i) {
        const std::string name = r.text(i, 0);
        has_tables = true;
        has_studies |= name == "studies";
        has_alembic |= name == "alembic_version";
      }
      return 0;
    });
    if (has_tables && !(has_studies && has_alembic))
      throw StorageError(path_, "a SQLite database, but neither a caviar nor an Optuna one "
                                "(it has no 'studies' and 'alembic_version' tables)");
  }

  // Indexes that Optuna's schema lacks and caviar's queries need (a waiting trial, the
  // budget, uncounted failures). Extra indexes are invisible to Optuna; the names are
  // caviar's own so that Optuna's migrations never clash with them.
  void add_indexes() {
    with_retry([&] {
      std::string revision = revision_locked();
      if (revision.empty()) return 0;  // the schema is created (with them) in this write
      exec("CREATE INDEX IF NOT EXISTS ix_caviar_trials_study_state ON trials (study_id, state)");
      exec("CREATE INDEX IF NOT EXISTS ix_caviar_trial_system_attributes_key ON trial_system_attributes (key)");
      return 0;
    });
  }

  // The Optuna schema revision stored in the file, or "" if there is none yet.
  std::string revision_locked() {
    if (query("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'").integer(0, 0) == 0) return "";
    SqlRows r = query("SELECT version_num FROM alembic_version");
    return r.size() ? r.text(0, 0) : "";
  }

  void create_schema(const std::string& schema) {
    std::string revision = read([&] { return revision_locked(); });
    if (!revision.empty()) return detail::check_revision(path_, revision);
    write([&] {
      if (!revision_locked().empty()) return 0;  // another process created it meanwhile
      exec(kSchema);
      exec("CREATE INDEX IF NOT EXISTS ix_caviar_trials_study_state ON trials (study_id, state)");
      exec("CREATE INDEX IF NOT EXISTS ix_caviar_trial_system_attributes_key ON trial_system_attributes (key)");
      if (schema == "v3.0.0.d") {
        // Optuna 3.2's upgrade adds trials_study_id_key itself; ours must not clash.
        exec("CREATE INDEX IF NOT EXISTS ix_caviar_trials_study_id ON trials (study_id)");
        exec("INSERT INTO version_info (version_info_id, schema_version, library_version) "
             "VALUES (1, 12, '3.1.0')");
      } else {
        exec("CREATE INDEX IF NOT EXISTS trials_study_id_key ON trials (study_id)");
        exec("INSERT INTO version_info (version_info_id, schema_version, library_version) "
             "VALUES (1, 12, '3.2.0')");
      }
      query("INSERT INTO alembic_version (version_num) VALUES (?)", {schema});
      return 0;
    });
  }
};

}  // namespace

std::shared_ptr<Storage> detail::make_sqlite_storage(const std::string& path,
                                                     const std::string& schema, OpenMode mode) {
  return std::make_shared<SqliteStorage>(path, schema, mode);
}

}  // namespace caviar
