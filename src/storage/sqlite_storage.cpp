// The SQLite storage: Optuna's RDB schema in one file, WAL mode, one transaction per state
// change (BEGIN IMMEDIATE with a busy timeout and retries), so many processes can share
// one study without "database is locked".
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
#include "storage/sqlite_storage.h"

namespace caviar {
namespace {

using detail::format_time;
using detail::optuna_state;
using detail::optuna_value_type;
using detail::parse_time;
using detail::state_from_optuna;
using detail::value_from_optuna;

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
  Statement& bind(int i, int v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  Statement& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  Statement& bind(int i, const std::string& v) {
    return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Statement& bind(int i, const char* v) { return bind(i, std::string(v)); }
  Statement& bind_null(int i) { return check(sqlite3_bind_null(stmt_, i)); }
  Statement& bind(int i, std::optional<double> v) { return v ? bind(i, *v) : bind_null(i); }

  // Steps once; true if a row is available.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_error(rc);
    return false;
  }
  void run() { while (step()) {} }

  std::int64_t integer(int col) { return sqlite3_column_int64(stmt_, col); }
  double real(int col) { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<double> optional_real(int col) {
    return is_null(col) ? std::nullopt : std::optional<double>(real(col));
  }
  std::string text(int col) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, col)) : std::string();
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

class SqliteStorage final : public Storage {
 public:
  SqliteStorage(const std::string& path, const std::string& schema, OpenMode mode) : path_(path) {
    namespace fs = std::filesystem;
    bool existed = fs::exists(path) && fs::file_size(path) > 0;
    if (!existed && mode == OpenMode::Existing)
      throw StorageError(path, fs::exists(path) ? "an empty file, with nothing stored in it yet"
                                                : "no such database file");
    if (!existed) {
      auto dir = fs::path(path).parent_path();
      if (!dir.empty() && !fs::is_directory(dir))
        throw StorageError(path, "cannot create the database: folder '" + dir.string() +
                                     "' does not exist");
    }
    int rc = sqlite3_open_v2(path.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw StorageError(path, "cannot open: " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
    try {
      check_kind(existed);
      create_schema(schema);
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

  StudyRecord open_study(const std::string& name, Direction direction) override {
    return write([&] {
      if (auto s = find_study_locked(name)) {
        detail::check_direction(*s, direction);
        return *s;
      }
      prepare("INSERT INTO studies (study_name) VALUES (?)").bind(1, name).run();
      std::int64_t id = sqlite3_last_insert_rowid(db_);
      prepare("INSERT INTO study_directions (direction, study_id, objective) VALUES (?, ?, 0)")
          .bind(1, direction == Direction::Minimize ? "MINIMIZE" : "MAXIMIZE")
          .bind(2, id)
          .run();
      return *find_study_locked(name);
    });
  }

  std::optional<StudyRecord> find_study(const std::string& name) override {
    return read([&] { return find_study_locked(name); });
  }

  std::vector<StudyRecord> studies() override {
    return read([&] {
      std::vector<std::string> names;
      auto st = prepare("SELECT study_name FROM studies ORDER BY study_id");
      while (st.step()) names.push_back(st.text(0));
      std::vector<StudyRecord> out;
      for (const auto& n : names) out.push_back(*find_study_locked(n));
      return out;
    });
  }

  void set_study_attr(std::int64_t study_id, const std::string& key, const json& value) override {
    write([&] {
      prepare("INSERT INTO study_system_attributes (study_id, key, value_json) VALUES (?, ?, ?) "
              "ON CONFLICT(study_id, key) DO UPDATE SET value_json = excluded.value_json")
          .bind(1, study_id).bind(2, key).bind(3, value.dump()).run();
      return 0;
    });
  }

  std::optional<TrialRecord> start_trial(const StartRequest& request) override {
    return write([&]() -> std::optional<TrialRecord> {
      auto now = Clock::now();
      for (const auto& stale : fail_stale_locked(request.study_id, stale_grace(), now)) {
        json attrs = detail::retry_attrs(stale, request.retry);
        if (!attrs.is_null() && request.space)
          enqueue_locked(request.study_id, request.space->to_json(stale.params), attrs);
      }
      std::optional<std::pair<std::int64_t, int>> waiting;
      {
        auto st = prepare("SELECT trial_id, number FROM trials WHERE study_id = ? AND "
                          "state = 'WAITING' ORDER BY trial_id LIMIT 1");
        st.bind(1, request.study_id);
        if (st.step()) waiting = {st.integer(0), static_cast<int>(st.integer(1))};
      }
      if (!waiting && request.budget && counted_locked(request.study_id) >= *request.budget)
        return std::nullopt;
      Params fixed;
      if (waiting) fixed = detail::fixed_params(load_trial(waiting->first), request.space);
      std::vector<TrialRecord> history;
      if (request.needs_history) history = load_trials(request.study_id);
      int number = waiting ? waiting->second : count_locked(request.study_id);
      auto draft = request.propose(history, fixed, number);
      if (!draft) return std::nullopt;
      std::string started = format_time(now);
      std::int64_t id;
      if (waiting) {
        id = waiting->first;
        prepare("UPDATE trials SET state = 'RUNNING', datetime_start = ? WHERE trial_id = ?")
            .bind(1, started).bind(2, id).run();
      } else {
        prepare("INSERT INTO trials (number, study_id, state, datetime_start) "
                "VALUES (?, ?, 'RUNNING', ?)")
            .bind(1, number).bind(2, request.study_id).bind(3, started).run();
        id = sqlite3_last_insert_rowid(db_);
      }
      static const std::map<std::string, json> none;
      auto distributions = request.space ? request.space->optuna_distributions() : nullptr;
      for (const auto& [name, value] : draft->params) {
        const auto& all = distributions ? *distributions : none;
        auto d = all.find(name);
        prepare("INSERT OR REPLACE INTO trial_params (trial_id, param_name, param_value, "
                "distribution_json) VALUES (?, ?, ?, ?)")
            .bind(1, id).bind(2, name).bind(3, value)
            .bind(4, d != all.end() ? d->second.dump() : std::string("{}"))
            .run();
      }
      for (const auto& [key, value] : draft->system_attrs.items()) set_attr_locked(id, key, value);
      if (request.heartbeat) beat_locked(id, now);
      if (waiting) return load_trial(id);
      return detail::running_trial(id, number, std::move(*draft), std::move(distributions), started);
    });
  }

  TrialRecord enqueue_trial(std::int64_t study_id, const json& fixed_params,
                            const json& system_attrs) override {
    return write([&] { return enqueue_locked(study_id, fixed_params, system_attrs); });
  }

  TrialRecord enqueue_locked(std::int64_t study_id, const json& fixed_params,
                             const json& system_attrs) {
    int number = count_locked(study_id);
    prepare("INSERT INTO trials (number, study_id, state) VALUES (?, ?, 'WAITING')")
        .bind(1, number).bind(2, study_id).run();
    std::int64_t id = sqlite3_last_insert_rowid(db_);
    set_attr_locked(id, "fixed_params", fixed_params);
    if (system_attrs.is_object())
      for (const auto& [key, value] : system_attrs.items()) set_attr_locked(id, key, value);
    return load_trial(id);
  }

  void report(std::int64_t trial_id, std::int64_t step, double value) override {
    write([&] {
      prepare("INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, "
              "intermediate_value_type) VALUES (?, ?, ?, ?) ON CONFLICT(trial_id, step) DO "
              "UPDATE SET intermediate_value = excluded.intermediate_value, "
              "intermediate_value_type = excluded.intermediate_value_type")
          .bind(1, trial_id).bind(2, step)
          .bind(3, std::isfinite(value) ? std::optional<double>(value) : std::nullopt)
          .bind(4, optuna_value_type(value))
          .run();
      return 0;
    });
  }

  void set_trial_attr(std::int64_t trial_id, const std::string& key, const json& value) override {
    write([&] {
      set_attr_locked(trial_id, key, value);
      cache_.erase(trial_id);
      return 0;
    });
  }

  void heartbeat(const std::vector<std::int64_t>& trial_ids) override {
    if (trial_ids.empty()) return;
    write([&] {
      auto now = Clock::now();
      for (auto id : trial_ids) beat_locked(id, now);
      return 0;
    });
  }

  bool finish_trial(std::int64_t trial_id, TrialState state, std::optional<double> value,
                    const json& system_attrs, const std::optional<Requeue>& requeue) override {
    return write([&] {
      std::int64_t study_id;
      {
        auto st = prepare("SELECT state, study_id FROM trials WHERE trial_id = ?");
        st.bind(1, trial_id);
        if (!st.step())
          throw UsageError("trial", fmt::format("no trial with id {}", trial_id));
        if (st.text(0) != "RUNNING") return false;
        study_id = st.integer(1);
      }
      prepare("UPDATE trials SET state = ?, datetime_complete = ? WHERE trial_id = ?")
          .bind(1, optuna_state(state)).bind(2, format_time(Clock::now())).bind(3, trial_id).run();
      if (value) {
        prepare("INSERT OR REPLACE INTO trial_values (trial_id, objective, value, value_type) "
                "VALUES (?, 0, ?, ?)")
            .bind(1, trial_id)
            .bind(2, std::isfinite(*value) ? value : std::nullopt)
            .bind(3, optuna_value_type(*value))
            .run();
      }
      if (system_attrs.is_object())
        for (const auto& [key, v] : system_attrs.items()) set_attr_locked(trial_id, key, v);
      prepare("DELETE FROM trial_heartbeats WHERE trial_id = ?").bind(1, trial_id).run();
      if (requeue) enqueue_locked(study_id, requeue->params, requeue->system_attrs);
      return true;
    });
  }

  std::vector<TrialRecord> fail_stale(std::int64_t study_id,
                                      std::chrono::milliseconds grace) override {
    return write([&] { return fail_stale_locked(study_id, grace, Clock::now()); });
  }

  std::vector<TrialRecord> trials(std::int64_t study_id) override {
    return read([&] { return load_trials(study_id); });
  }

  std::optional<TrialRecord> trial(std::int64_t study_id, int number) override {
    return read([&]() -> std::optional<TrialRecord> {
      auto st = prepare("SELECT trial_id FROM trials WHERE study_id = ? AND number = ?");
      st.bind(1, study_id).bind(2, number);
      if (!st.step()) return std::nullopt;
      std::int64_t id = st.integer(0);
      return load_trial(id);
    });
  }

  TrialCounts counts(std::int64_t study_id) override {
    return read([&] {
      TrialCounts c;
      auto st = prepare("SELECT state, count(*) FROM trials WHERE study_id = ? GROUP BY state");
      st.bind(1, study_id);
      while (st.step()) {
        int n = static_cast<int>(st.integer(1));
        c.of(state_from_optuna(st.text(0))) = n;
      }
      c.counted = counted_locked(study_id);
      return c;
    });
  }

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  std::recursive_mutex mutex_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
  std::unordered_map<std::int64_t, TrialRecord> cache_;  // finished trials only
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

  // Retries `fn` while SQLite reports the database busy, for up to ten minutes.
  template <class F>
  std::invoke_result_t<F&> with_retry(F&& fn) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(10);
    for (int attempt = 0;; ++attempt) {
      try {
        return fn();
      } catch (const detail::SqliteBusy&) {
        if (std::chrono::steady_clock::now() > deadline)
          throw StorageError(path_, "the database stayed locked by other processes for 10 minutes");
        std::this_thread::sleep_for(std::chrono::milliseconds(1 + (attempt % 20) * (attempt % 7)));
      }
    }
  }

  void exec_retry(const char* sql) { with_retry([&] { exec(sql); return 0; }); }

  // Runs `fn` inside BEGIN IMMEDIATE ... COMMIT, retrying the whole transaction when busy.
  // The first write switches the file to WAL, so that merely reading an Optuna database
  // (which uses a rollback journal) leaves it as it was.
  template <class F>
  std::invoke_result_t<F&> write(F&& fn) {
    std::lock_guard lock(mutex_);
    if (file_id_ != std::pair<dev_t, ino_t>{}) check_still_there();
    if (!wal_) {
      exec_retry("PRAGMA journal_mode=WAL");
      exec_retry("PRAGMA synchronous=NORMAL");
      wal_ = true;
      add_indexes();
    }
    return with_retry([&] {
      exec("BEGIN IMMEDIATE");
      try {
        auto result = fn();
        exec("COMMIT");
        return result;
      } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        cache_.clear();
        throw;
      }
    });
  }

  template <class F>
  std::invoke_result_t<F&> read(F&& fn) {
    std::lock_guard lock(mutex_);
    return with_retry([&] {
      exec("BEGIN");
      try {
        auto result = fn();
        exec("COMMIT");
        return result;
      } catch (...) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    });
  }

  void check_kind(bool existed) {
    if (!existed) return;
    bool has_studies = false, has_alembic = false, has_tables = false;
    read([&] {
      auto st = prepare("SELECT name FROM sqlite_master WHERE type = 'table'");
      while (st.step()) {
        std::string name = st.text(0);
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
    auto st = prepare("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'");
    st.step();
    if (st.integer(0) == 0) return "";
    auto v = prepare("SELECT version_num FROM alembic_version");
    return v.step() ? v.text(0) : "";
  }

  void create_schema(const std::string& schema) {
    std::string revision = read([&] { return revision_locked(); });
    if (!revision.empty()) {
      if (revision != "v3.0.0.d" && revision != "v3.2.0.a")
        throw StorageError(path_, fmt::format("Optuna schema revision '{}'; caviar reads "
                                              "v3.0.0.d (Optuna 3.0-3.1) and v3.2.0.a (Optuna 3.2-5.x)",
                                              revision));
      return;
    }
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
      prepare("INSERT INTO alembic_version (version_num) VALUES (?)").bind(1, schema).run();
      return 0;
    });
  }

  std::optional<StudyRecord> find_study_locked(const std::string& name) {
    StudyRecord s;
    {
      auto st = prepare("SELECT s.study_id, d.direction FROM studies s LEFT JOIN study_directions d "
                        "ON d.study_id = s.study_id AND d.objective = 0 WHERE s.study_name = ?");
      st.bind(1, name);
      if (!st.step()) return std::nullopt;
      s.id = st.integer(0);
      s.name = name;
      s.direction = st.text(1) == "MAXIMIZE" ? Direction::Maximize : Direction::Minimize;
    }
    s.system_attrs = load_attrs("SELECT key, value_json FROM study_system_attributes WHERE study_id = ?", s.id);
    s.user_attrs = load_attrs("SELECT key, value_json FROM study_user_attributes WHERE study_id = ?", s.id);
    return s;
  }

  json load_attrs(const std::string& sql, std::int64_t id) {
    json out = json::object();
    auto st = prepare(sql);
    st.bind(1, id);
    while (st.step()) out[st.text(0)] = json::parse(st.text(1), nullptr, false);
    return out;
  }

  void set_attr_locked(std::int64_t trial_id, const std::string& key, const json& value) {
    prepare("INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES (?, ?, ?) "
            "ON CONFLICT(trial_id, key) DO UPDATE SET value_json = excluded.value_json")
        .bind(1, trial_id).bind(2, key).bind(3, value.dump()).run();
  }

  // Heartbeats are UTC, as Optuna's. A trial that finished meanwhile gets no row back.
  void beat_locked(std::int64_t trial_id, Clock::time_point now) {
    prepare("INSERT INTO trial_heartbeats (trial_id, heartbeat) SELECT ?, ? WHERE EXISTS "
            "(SELECT 1 FROM trials WHERE trial_id = ? AND state = 'RUNNING') "
            "ON CONFLICT(trial_id) DO UPDATE SET heartbeat = excluded.heartbeat")
        .bind(1, trial_id).bind(2, format_time(now, true)).bind(3, trial_id).run();
  }

  // The number the next trial gets: Optuna numbers trials by their count in the study.
  int count_locked(std::int64_t study_id) {
    auto st = prepare("SELECT count(*) FROM trials WHERE study_id = ?");
    st.bind(1, study_id).step();
    return static_cast<int>(st.integer(0));
  }

  // Trials that use up the budget: all but the failures marked uncounted (few, found
  // through the attribute-key index).
  int counted_locked(std::int64_t study_id) {
    auto st = prepare(
        "SELECT count(*) FROM trial_system_attributes a CROSS JOIN trials t ON t.trial_id = a.trial_id "
        "WHERE a.key = 'caviar:uncounted' AND a.value_json = 'true' AND t.study_id = ? AND t.state = 'FAIL'");
    st.bind(1, study_id).step();
    return count_locked(study_id) - static_cast<int>(st.integer(0));
  }

  std::vector<TrialRecord> fail_stale_locked(std::int64_t study_id,
                                             std::chrono::milliseconds grace,
                                             Clock::time_point now) {
    std::vector<std::pair<std::int64_t, Clock::duration>> stale;
    {
      // Only running trials have heartbeat rows (finishing deletes them): start from those.
      auto st = prepare("SELECT t.trial_id, h.heartbeat FROM trial_heartbeats h CROSS JOIN trials t "
                        "ON t.trial_id = h.trial_id WHERE t.study_id = ? AND t.state = 'RUNNING'");
      st.bind(1, study_id);
      while (st.step()) {
        auto beat = parse_time(st.text(1), true);
        if (beat && now - *beat > grace) stale.emplace_back(st.integer(0), now - *beat);
      }
    }
    std::vector<TrialRecord> out;
    for (auto [id, silence] : stale) {
      out.push_back(load_trial(id));
      prepare("UPDATE trials SET state = 'FAIL', datetime_complete = ? WHERE trial_id = ?")
          .bind(1, format_time(now)).bind(2, id).run();
      json attrs = detail::stale_attrs(silence);
      for (const auto& [key, value] : attrs.items()) set_attr_locked(id, key, value);
      prepare("DELETE FROM trial_heartbeats WHERE trial_id = ?").bind(1, id).run();
    }
    return out;
  }

  TrialRecord load_trial(std::int64_t id) {
    auto cached = cache_.find(id);
    if (cached != cache_.end()) return cached->second;
    TrialRecord t;
    {
      auto st = prepare("SELECT number, state, datetime_start, datetime_complete FROM trials "
                        "WHERE trial_id = ?");
      st.bind(1, id);
      if (!st.step()) throw UsageError("trial", fmt::format("no trial with id {}", id));
      t.id = id;
      t.number = static_cast<int>(st.integer(0));
      t.state = state_from_optuna(st.text(1));
      if (!st.is_null(2)) t.started = parse_time(st.text(2));
      if (!st.is_null(3)) t.finished = parse_time(st.text(3));
    }
    {
      auto st = prepare("SELECT param_name, param_value, distribution_json FROM trial_params "
                        "WHERE trial_id = ?");
      st.bind(1, id);
      auto distributions = std::make_shared<std::map<std::string, json>>();
      while (st.step()) {
        t.params[st.text(0)] = st.real(1);
        (*distributions)[st.text(0)] = json::parse(st.text(2), nullptr, false);
      }
      t.distributions = std::move(distributions);
    }
    {
      auto st = prepare("SELECT value, value_type FROM trial_values WHERE trial_id = ? AND objective = 0");
      st.bind(1, id);
      if (st.step()) t.value = value_from_optuna(st.optional_real(0), st.text(1));
    }
    {
      auto st = prepare("SELECT step, intermediate_value, intermediate_value_type FROM "
                        "trial_intermediate_values WHERE trial_id = ?");
      st.bind(1, id);
      while (st.step()) t.intermediate[st.integer(0)] = value_from_optuna(st.optional_real(1), st.text(2));
    }
    t.system_attrs = load_attrs("SELECT key, value_json FROM trial_system_attributes WHERE trial_id = ?", id);
    t.user_attrs = load_attrs("SELECT key, value_json FROM trial_user_attributes WHERE trial_id = ?", id);
    if (is_finished(t.state)) cache_[id] = t;
    return t;
  }

  std::vector<TrialRecord> load_trials(std::int64_t study_id) {
    std::vector<std::int64_t> ids;
    {
      auto st = prepare("SELECT trial_id FROM trials WHERE study_id = ? ORDER BY number, trial_id");
      st.bind(1, study_id);
      while (st.step()) ids.push_back(st.integer(0));
    }
    std::vector<TrialRecord> out;
    out.reserve(ids.size());
    for (auto id : ids) out.push_back(load_trial(id));
    return out;
  }
};

}  // namespace

std::shared_ptr<Storage> detail::make_sqlite_storage(const std::string& path,
                                                     const std::string& schema, OpenMode mode) {
  return std::make_shared<SqliteStorage>(path, schema, mode);
}

}  // namespace caviar
