// The PostgreSQL storage: Optuna's RDB schema (revision v3.2.0.a, or v3.0.0.d for Optuna
// 3.0/3.1, with the enum types that SQLAlchemy creates on PostgreSQL), for one study shared
// by workers on many machines.
//
// Every state change is one transaction that first takes a transaction-level advisory lock
// (one for all of caviar's writers to that database), so a trial's number, the budget and
// the claim of a waiting trial are decided by one writer at a time, as BEGIN IMMEDIATE does
// for a SQLite file; each statement after the lock sees every earlier commit (READ
// COMMITTED). A read is one REPEATABLE READ snapshot. A connection that drops (a server
// restart, a network cut) is opened again and the transaction run again, for up to a
// minute; after that the call throws StorageError and nothing half-written is left behind.
#include "storage/postgres_storage.h"

#include <libpq-fe.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <regex>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/storage.h"
#include "storage/common.h"

namespace caviar {
namespace {

using detail::format_time;
using detail::optuna_state;
using detail::optuna_value_type;
using detail::parse_time;
using detail::state_from_optuna;
using detail::value_from_optuna;

constexpr const char* kSchema = R"SQL(
CREATE TYPE studydirection AS ENUM ('NOT_SET', 'MINIMIZE', 'MAXIMIZE');
CREATE TYPE trialstate AS ENUM ('RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING');
CREATE TYPE trialvaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG');
CREATE TYPE trialintermediatevaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG', 'NAN');
CREATE TABLE studies (
	study_id SERIAL NOT NULL,
	study_name VARCHAR(512) NOT NULL,
	PRIMARY KEY (study_id)
);
CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name);
CREATE TABLE version_info (
	version_info_id INTEGER NOT NULL,
	schema_version INTEGER,
	library_version VARCHAR(256),
	PRIMARY KEY (version_info_id),
	CHECK (version_info_id=1)
);
CREATE TABLE study_directions (
	study_direction_id SERIAL NOT NULL,
	direction studydirection NOT NULL,
	study_id INTEGER NOT NULL,
	objective INTEGER NOT NULL,
	PRIMARY KEY (study_direction_id),
	UNIQUE (study_id, objective),
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE study_user_attributes (
	study_user_attribute_id SERIAL NOT NULL,
	study_id INTEGER,
	key VARCHAR(512),
	value_json TEXT,
	PRIMARY KEY (study_user_attribute_id),
	UNIQUE (study_id, key),
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE study_system_attributes (
	study_system_attribute_id SERIAL NOT NULL,
	study_id INTEGER,
	key VARCHAR(512),
	value_json TEXT,
	PRIMARY KEY (study_system_attribute_id),
	UNIQUE (study_id, key),
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE trials (
	trial_id SERIAL NOT NULL,
	number INTEGER,
	study_id INTEGER,
	state trialstate NOT NULL,
	datetime_start TIMESTAMP WITHOUT TIME ZONE,
	datetime_complete TIMESTAMP WITHOUT TIME ZONE,
	PRIMARY KEY (trial_id),
	FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE trial_user_attributes (
	trial_user_attribute_id SERIAL NOT NULL,
	trial_id INTEGER,
	key VARCHAR(512),
	value_json TEXT,
	PRIMARY KEY (trial_user_attribute_id),
	UNIQUE (trial_id, key),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_system_attributes (
	trial_system_attribute_id SERIAL NOT NULL,
	trial_id INTEGER,
	key VARCHAR(512),
	value_json TEXT,
	PRIMARY KEY (trial_system_attribute_id),
	UNIQUE (trial_id, key),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_params (
	param_id SERIAL NOT NULL,
	trial_id INTEGER,
	param_name VARCHAR(512),
	param_value FLOAT,
	distribution_json TEXT,
	PRIMARY KEY (param_id),
	UNIQUE (trial_id, param_name),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_values (
	trial_value_id SERIAL NOT NULL,
	trial_id INTEGER NOT NULL,
	objective INTEGER NOT NULL,
	value FLOAT,
	value_type trialvaluetype NOT NULL,
	PRIMARY KEY (trial_value_id),
	UNIQUE (trial_id, objective),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_intermediate_values (
	trial_intermediate_value_id SERIAL NOT NULL,
	trial_id INTEGER NOT NULL,
	step INTEGER NOT NULL,
	intermediate_value FLOAT,
	intermediate_value_type trialintermediatevaluetype NOT NULL,
	PRIMARY KEY (trial_intermediate_value_id),
	UNIQUE (trial_id, step),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_heartbeats (
	trial_heartbeat_id SERIAL NOT NULL,
	trial_id INTEGER NOT NULL,
	heartbeat TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (trial_heartbeat_id),
	UNIQUE (trial_id),
	FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL,
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
CREATE INDEX ix_caviar_trials_study_state ON trials (study_id, state);
CREATE INDEX ix_caviar_trial_system_attributes_key ON trial_system_attributes (key);
)SQL";

// What differs between the two revisions (as in the SQLite store): Optuna 3.2's upgrade
// adds trials_study_id_key itself, so under v3.0.0.d caviar's own index must not clash.
constexpr const char* kRevision30 = R"SQL(
CREATE INDEX ix_caviar_trials_study_id ON trials (study_id);
INSERT INTO version_info (version_info_id, schema_version, library_version) VALUES (1, 12, '3.1.0');
INSERT INTO alembic_version (version_num) VALUES ('v3.0.0.d');
)SQL";
constexpr const char* kRevision32 = R"SQL(
CREATE INDEX trials_study_id_key ON trials (study_id);
INSERT INTO version_info (version_info_id, schema_version, library_version) VALUES (1, 12, '3.2.0');
INSERT INTO alembic_version (version_num) VALUES ('v3.2.0.a');
)SQL";

// The advisory lock every caviar write transaction holds ("cavi" in ASCII).
constexpr std::int64_t kWriteLock = 0x63617669;

// A final value's type: Optuna's PostgreSQL enum for final values has no NAN, so a NaN is
// stored as NULL with type FINITE (which reads back as NaN).
const char* final_value_type(double v) { return std::isnan(v) ? "FINITE" : optuna_value_type(v); }

// libpq's messages on one line: "...failed: No such file\n\tIs the server running...\n".
std::string one_line(std::string message) {
  message = std::regex_replace(message, std::regex(R"(\s*\n\s*)"), " ");
  while (!message.empty() && message.back() == ' ') message.pop_back();
  return message;
}

// The URL as it may be shown: without a password.
std::string redacted(const std::string& url) {
  static const std::regex in_authority(R"(^(postgres(?:ql)?://[^:/@]*):[^@]*@)");
  static const std::regex in_query(R"(([?&]password=)[^&]*)");
  return std::regex_replace(std::regex_replace(url, in_authority, "$1:***@"), in_query, "$1***");
}

// Thrown inside a transaction when it should run again: the connection dropped, or the
// server asked for a retry (serialization failure, deadlock).
struct PgRetry {
  std::string why;
};

// One statement's parameter, sent as text (the server infers its type from the context).
struct Arg {
  std::optional<std::string> text;
  Arg(std::nullptr_t) {}
  Arg(std::int64_t v) : text(std::to_string(v)) {}
  Arg(int v) : text(std::to_string(v)) {}
  Arg(double v) : text(std::isfinite(v) ? std::optional<std::string>(fmt::format("{}", v)) : std::nullopt) {}
  Arg(std::optional<double> v) : Arg(v ? Arg(*v) : Arg(nullptr)) {}
  Arg(std::string v) : text(std::move(v)) {}
  Arg(const char* v) : text(std::string(v)) {}
};

// A statement's rows (text format).
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r, &PQclear) {}
  int size() const { return PQntuples(r_.get()); }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col); }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
  }
  std::int64_t integer(int row, int col) const { return std::strtoll(PQgetvalue(r_.get(), row, col), nullptr, 10); }
  std::optional<double> real(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return std::strtod(PQgetvalue(r_.get(), row, col), nullptr);
  }

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

class PostgresStorage final : public Storage {
 public:
  PostgresStorage(const std::string& url, const std::string& schema, OpenMode mode)
      : url_(url), where_(redacted(url)) {
    connect();
    try {
      if (!check_kind() && mode == OpenMode::Existing)
        throw StorageError(where_, "a PostgreSQL database without caviar's tables: nothing has been stored "
                                   "in it yet");
      create_schema(schema);
    } catch (...) {  // no destructor runs for a half-built store
      PQfinish(conn_);
      conn_ = nullptr;
      throw;
    }
  }

  ~PostgresStorage() override {
    if (conn_) PQfinish(conn_);
  }

  StudyRecord open_study(const std::string& name, Direction direction) override {
    return write([&] {
      if (auto s = find_study_locked(name)) {
        detail::check_direction(*s, direction);
        return *s;
      }
      Rows r = query("INSERT INTO studies (study_name) VALUES ($1) RETURNING study_id", {name});
      query("INSERT INTO study_directions (direction, study_id, objective) VALUES ($1, $2, 0)",
            {direction == Direction::Minimize ? "MINIMIZE" : "MAXIMIZE", r.integer(0, 0)});
      return *find_study_locked(name);
    });
  }

  std::optional<StudyRecord> find_study(const std::string& name) override {
    return read([&] { return find_study_locked(name); });
  }

  std::vector<StudyRecord> studies() override {
    return read([&] {
      Rows r = query("SELECT study_name FROM studies ORDER BY study_id");
      std::vector<StudyRecord> out;
      for (int i = 0; i < r.size(); ++i) out.push_back(*find_study_locked(r.text(i, 0)));
      return out;
    });
  }

  void set_study_attr(std::int64_t study_id, const std::string& key, const json& value) override {
    write([&] {
      query("INSERT INTO study_system_attributes (study_id, key, value_json) VALUES ($1, $2, $3) "
            "ON CONFLICT (study_id, key) DO UPDATE SET value_json = EXCLUDED.value_json",
            {study_id, key, value.dump()});
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
        Rows r = query("SELECT trial_id, number FROM trials WHERE study_id = $1 AND "
                       "state = 'WAITING' ORDER BY trial_id LIMIT 1",
                       {request.study_id});
        if (r.size()) waiting = {r.integer(0, 0), static_cast<int>(r.integer(0, 1))};
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
        query("UPDATE trials SET state = 'RUNNING', datetime_start = $1 WHERE trial_id = $2", {started, id});
      } else {
        Rows r = query("INSERT INTO trials (number, study_id, state, datetime_start) "
                       "VALUES ($1, $2, 'RUNNING', $3) RETURNING trial_id",
                       {number, request.study_id, started});
        id = r.integer(0, 0);
      }
      static const std::map<std::string, json> none;
      auto distributions = request.space ? request.space->optuna_distributions() : nullptr;
      const auto& all = distributions ? *distributions : none;
      for (const auto& [name, value] : draft->params) {
        auto d = all.find(name);
        query("INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) "
              "VALUES ($1, $2, $3, $4) ON CONFLICT (trial_id, param_name) DO UPDATE SET "
              "param_value = EXCLUDED.param_value, distribution_json = EXCLUDED.distribution_json",
              {id, name, value, d != all.end() ? d->second.dump() : std::string("{}")});
      }
      for (const auto& [key, value] : draft->system_attrs.items()) set_attr_locked(id, key, value);
      if (request.heartbeat) beat_locked(id);
      if (waiting) return load_trial(id);
      return detail::running_trial(id, number, std::move(*draft), std::move(distributions), started);
    });
  }

  TrialRecord enqueue_trial(std::int64_t study_id, const json& fixed_params,
                            const json& system_attrs) override {
    return write([&] { return enqueue_locked(study_id, fixed_params, system_attrs); });
  }

  void report(std::int64_t trial_id, std::int64_t step, double value) override {
    write([&] {
      query("INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, "
            "intermediate_value_type) VALUES ($1, $2, $3, $4) ON CONFLICT (trial_id, step) DO "
            "UPDATE SET intermediate_value = EXCLUDED.intermediate_value, "
            "intermediate_value_type = EXCLUDED.intermediate_value_type",
            {trial_id, step, value, optuna_value_type(value)});
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
      for (auto id : trial_ids) beat_locked(id);
      return 0;
    });
  }

  bool finish_trial(std::int64_t trial_id, TrialState state, std::optional<double> value,
                    const json& system_attrs, const std::optional<Requeue>& requeue) override {
    return write([&] {
      Rows r = query("SELECT state, study_id FROM trials WHERE trial_id = $1", {trial_id});
      if (!r.size()) throw UsageError("trial", fmt::format("no trial with id {}", trial_id));
      if (r.text(0, 0) != "RUNNING") return false;
      const std::int64_t study_id = r.integer(0, 1);
      query("UPDATE trials SET state = $1, datetime_complete = $2 WHERE trial_id = $3",
            {optuna_state(state), format_time(Clock::now()), trial_id});
      if (value)
        query("INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES ($1, 0, $2, $3) "
              "ON CONFLICT (trial_id, objective) DO UPDATE SET value = EXCLUDED.value, "
              "value_type = EXCLUDED.value_type",
              {trial_id, *value, final_value_type(*value)});
      if (system_attrs.is_object())
        for (const auto& [key, v] : system_attrs.items()) set_attr_locked(trial_id, key, v);
      query("DELETE FROM trial_heartbeats WHERE trial_id = $1", {trial_id});
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
      Rows r = query("SELECT trial_id FROM trials WHERE study_id = $1 AND number = $2", {study_id, number});
      if (!r.size()) return std::nullopt;
      return load_trial(r.integer(0, 0));
    });
  }

  TrialCounts counts(std::int64_t study_id) override {
    return read([&] {
      TrialCounts c;
      Rows r = query("SELECT state, count(*) FROM trials WHERE study_id = $1 GROUP BY state", {study_id});
      for (int i = 0; i < r.size(); ++i) c.of(state_from_optuna(r.text(i, 0))) = static_cast<int>(r.integer(i, 1));
      c.counted = counted_locked(study_id);
      return c;
    });
  }

 private:
  std::string url_, where_;  // where_: the URL without its password, for messages
  PGconn* conn_ = nullptr;
  std::recursive_mutex mutex_;
  std::unordered_map<std::int64_t, TrialRecord> cache_;  // finished trials only

  // How long a dropped connection is tried again before calls give up. The clock starts at
  // the first failure and stops at the next success, so that once the server has been gone
  // that long every call fails at once (not each after a minute of its own).
  static constexpr std::chrono::seconds kReconnectFor{60};
  std::optional<std::chrono::steady_clock::time_point> unreachable_since_;

  // A server that does not answer is noticed within seconds, not after the system's TCP
  // time-outs (minutes): defaults that the URL's own settings override.
  void connect() {
    const char* keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                          "dbname", nullptr};
    const char* values[] = {"10", "10", "5", "3", url_.c_str(), nullptr};
    conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string why = conn_ ? one_line(PQerrorMessage(conn_)) : "out of memory";
      PQfinish(conn_);
      conn_ = nullptr;
      throw StorageError(where_, "cannot connect to PostgreSQL: " + why);
    }
    session_settings();
  }

  // Timestamps as Optuna writes them and doubles in full on any server version; NOTICEs
  // ("relation exists") kept off stderr. On the server's side: a session whose client went
  // silent inside a transaction (its machine died while holding the write lock) is ended
  // after 5 minutes, and a dead TCP peer is noticed in about 25 s, not the system's 2 hours.
  void session_settings() {
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    command("SET datestyle = 'ISO, YMD'; SET extra_float_digits = 3; "
            "SET idle_in_transaction_session_timeout = '5min'; SET tcp_keepalives_idle = 10; "
            "SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3");
  }

  [[noreturn]] void fail(PGresult* result) {
    std::string state, message = PQerrorMessage(conn_);
    if (result) {
      if (const char* s = PQresultErrorField(result, PG_DIAG_SQLSTATE)) state = s;
      if (const char* m = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) message = m;
      PQclear(result);
    }
    message = one_line(message);
    // Class 08: connection exceptions; 40001 and 40P01: run the transaction again; 57P01-03:
    // the server is shutting down or restarting.
    if (PQstatus(conn_) != CONNECTION_OK || state.rfind("08", 0) == 0 || state == "40001" ||
        state == "40P01" || state.rfind("57P0", 0) == 0)
      throw PgRetry{message};
    throw StorageError(where_, fmt::format("PostgreSQL error{}: {}", state.empty() ? "" : " " + state, message));
  }

  // One statement with text parameters $1, $2, ...
  Rows query(const std::string& sql, std::initializer_list<Arg> args = {}) {
    std::vector<const char*> values;
    for (const Arg& a : args) values.push_back(a.text ? a.text->c_str() : nullptr);
    PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
    const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) fail(r);
    return Rows(r);
  }

  // Statements without parameters (several may be given at once).
  void command(const char* sql) {
    PGresult* r = PQexec(conn_, sql);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) fail(r);
    PQclear(r);
  }

  // Runs `fn` inside `begin` ... COMMIT; runs it again after a dropped connection (opened
  // anew) or a retry the server asked for, until the server has been unreachable for
  // kReconnectFor. A write whose COMMIT got no reply is not simply run again (it may have
  // been saved: a trial would be started twice): its transaction id tells, once the
  // connection is back, whether it was committed (then its result stands) or not (then it
  // runs again).
  template <class F>
  std::invoke_result_t<F&> transaction(const char* begin, bool writes, F&& fn) {
    using Result = std::invoke_result_t<F&>;
    std::lock_guard lock(mutex_);
    std::optional<std::pair<std::string, Result>> unconfirmed;  // transaction id, result
    for (int attempt = 0;; ++attempt) {
      try {
        if (PQstatus(conn_) != CONNECTION_OK) {
          PQreset(conn_);
          if (PQstatus(conn_) != CONNECTION_OK) throw PgRetry{PQerrorMessage(conn_)};
          session_settings();
        }
        if (unconfirmed) {
          const std::string status =
              query("SELECT txid_status($1::bigint)", {unconfirmed->first}).text(0, 0);
          if (status == "committed") {
            unreachable_since_.reset();
            return std::move(unconfirmed->second);
          }
          // The old session may not have ended yet (its server process still holds the
          // transaction open): wait for it, on the same clock as for a lost connection.
          if (status == "in progress") throw PgRetry{"the transaction of a lost COMMIT is still in progress"};
          if (status != "aborted")
            throw StorageError(where_, fmt::format("the connection dropped while a change was committed, and "
                                                   "PostgreSQL cannot tell whether it was (transaction {}: '{}')",
                                                   unconfirmed->first, status));
          unconfirmed.reset();  // rolled back: run it again
        }
        command(begin);
        unreachable_since_.reset();
        const std::string xid = writes ? query("SELECT txid_current()").text(0, 0) : "";
        try {
          auto result = fn();
          try {
            command("COMMIT");
          } catch (const PgRetry&) {
            if (writes) unconfirmed.emplace(xid, std::move(result));
            throw;
          }
          return result;
        } catch (...) {
          cache_.clear();
          if (PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
          throw;
        }
      } catch (const PgRetry& e) {
        const auto now = std::chrono::steady_clock::now();
        if (!unreachable_since_) unreachable_since_ = now;
        if (now - *unreachable_since_ >= kReconnectFor) {
          throw StorageError(where_, fmt::format("PostgreSQL did not answer for {} s (last error: {})",
                                                 kReconnectFor.count(), one_line(e.why)));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 10 << std::min(attempt, 7))));
      }
    }
  }

  template <class F>
  std::invoke_result_t<F&> write(F&& fn) {
    auto result = transaction("BEGIN", true, [&] {
      query("SELECT pg_advisory_xact_lock($1)", {kWriteLock});
      if (!indexed_) command(kIndexes);
      return fn();
    });
    indexed_ = true;
    return result;
  }

  // Indexes that Optuna's schema lacks and caviar's queries need (a waiting trial, the
  // budget, uncounted failures). Tables that caviar makes have them; a database that Optuna
  // made gets them with caviar's first write to it, so that only reading it changes nothing.
  static constexpr const char* kIndexes =
      "CREATE INDEX IF NOT EXISTS ix_caviar_trials_study_state ON trials (study_id, state); "
      "CREATE INDEX IF NOT EXISTS ix_caviar_trial_system_attributes_key ON trial_system_attributes (key)";
  bool indexed_ = false;

  template <class F>
  std::invoke_result_t<F&> read(F&& fn) {
    return transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", false, fn);
  }

  // A database with tables of its own is not ours to add Optuna's to. Returns whether it
  // has tables (ours, then).
  bool check_kind() {
    return read([&] {
      Rows r = query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()");
      bool studies = false, alembic = false;
      for (int i = 0; i < r.size(); ++i) {
        studies |= r.text(i, 0) == "studies";
        alembic |= r.text(i, 0) == "alembic_version";
      }
      if (r.size() && !(studies && alembic))
        throw StorageError(where_, "a PostgreSQL database, but neither a caviar nor an Optuna one "
                                   "(it has tables, but no 'studies' and 'alembic_version')");
      return r.size() > 0;
    });
  }

  // The Optuna schema revision in the database, or "" if there is none yet.
  std::string revision_locked() {
    if (query("SELECT to_regclass('alembic_version')").is_null(0, 0)) return "";
    Rows r = query("SELECT version_num FROM alembic_version");
    return r.size() ? r.text(0, 0) : "";
  }

  // Creates the tables in revision `schema` if the database has none yet.
  void create_schema(const std::string& schema) {
    std::string revision = transaction("BEGIN", true, [&] {
      query("SELECT pg_advisory_xact_lock($1)", {kWriteLock});
      std::string found = revision_locked();
      if (found.empty()) {  // under the lock: no other caviar creates them too
        command(kSchema);
        command(schema == "v3.0.0.d" ? kRevision30 : kRevision32);
      }
      return found;
    });
    indexed_ = revision.empty();  // made here, with them
    if (!revision.empty() && revision != "v3.0.0.d" && revision != "v3.2.0.a")
      throw StorageError(where_, fmt::format("Optuna schema revision '{}'; caviar reads v3.0.0.d "
                                             "(Optuna 3.0-3.1) and v3.2.0.a (Optuna 3.2-5.x)", revision));
  }

  std::optional<StudyRecord> find_study_locked(const std::string& name) {
    Rows r = query("SELECT s.study_id, d.direction FROM studies s LEFT JOIN study_directions d "
                   "ON d.study_id = s.study_id AND d.objective = 0 WHERE s.study_name = $1",
                   {name});
    if (!r.size()) return std::nullopt;
    StudyRecord s;
    s.id = r.integer(0, 0);
    s.name = name;
    s.direction = r.text(0, 1) == "MAXIMIZE" ? Direction::Maximize : Direction::Minimize;
    s.system_attrs = load_attrs("SELECT key, value_json FROM study_system_attributes WHERE study_id = $1", s.id);
    s.user_attrs = load_attrs("SELECT key, value_json FROM study_user_attributes WHERE study_id = $1", s.id);
    return s;
  }

  json load_attrs(const char* sql, std::int64_t id) {
    json out = json::object();
    Rows r = query(sql, {id});
    for (int i = 0; i < r.size(); ++i) out[r.text(i, 0)] = json::parse(r.text(i, 1), nullptr, false);
    return out;
  }

  void set_attr_locked(std::int64_t trial_id, const std::string& key, const json& value) {
    query("INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES ($1, $2, $3) "
          "ON CONFLICT (trial_id, key) DO UPDATE SET value_json = EXCLUDED.value_json",
          {trial_id, key, value.dump()});
  }

  TrialRecord enqueue_locked(std::int64_t study_id, const json& fixed_params, const json& system_attrs) {
    Rows r = query("INSERT INTO trials (number, study_id, state) VALUES ($1, $2, 'WAITING') RETURNING trial_id",
                   {count_locked(study_id), study_id});
    const std::int64_t id = r.integer(0, 0);
    set_attr_locked(id, "fixed_params", fixed_params);
    if (system_attrs.is_object())
      for (const auto& [key, value] : system_attrs.items()) set_attr_locked(id, key, value);
    return load_trial(id);
  }

  // Heartbeats are the server's clock (LOCALTIMESTAMP), as Optuna writes them on
  // PostgreSQL, and so is the stale check: workers on machines whose clocks differ agree.
  // A trial that finished meanwhile gets no row back.
  void beat_locked(std::int64_t trial_id) {
    query("INSERT INTO trial_heartbeats (trial_id, heartbeat) SELECT $1::integer, LOCALTIMESTAMP "
          "WHERE EXISTS (SELECT 1 FROM trials WHERE trial_id = $1::integer AND state = 'RUNNING') "
          "ON CONFLICT (trial_id) DO UPDATE SET heartbeat = EXCLUDED.heartbeat",
          {trial_id});
  }

  // The number the next trial gets: Optuna numbers trials by their count in the study.
  int count_locked(std::int64_t study_id) {
    return static_cast<int>(query("SELECT count(*) FROM trials WHERE study_id = $1", {study_id}).integer(0, 0));
  }

  // Trials that use up the budget: all but the failures marked uncounted.
  int counted_locked(std::int64_t study_id) {
    Rows r = query("SELECT count(*) FROM trial_system_attributes a JOIN trials t ON t.trial_id = a.trial_id "
                   "WHERE a.key = 'caviar:uncounted' AND a.value_json = 'true' AND t.study_id = $1 "
                   "AND t.state = 'FAIL'",
                   {study_id});
    return count_locked(study_id) - static_cast<int>(r.integer(0, 0));
  }

  std::vector<TrialRecord> fail_stale_locked(std::int64_t study_id, std::chrono::milliseconds grace,
                                             Clock::time_point now) {
    std::vector<std::pair<std::int64_t, Clock::duration>> stale;
    {
      Rows r = query("SELECT t.trial_id, EXTRACT(EPOCH FROM LOCALTIMESTAMP - h.heartbeat) FROM "
                     "trial_heartbeats h JOIN trials t ON t.trial_id = h.trial_id "
                     "WHERE t.study_id = $1 AND t.state = 'RUNNING'",
                     {study_id});
      for (int i = 0; i < r.size(); ++i) {
        const auto silence = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(r.real(i, 1).value_or(0)));
        if (silence > grace) stale.emplace_back(r.integer(i, 0), silence);
      }
    }
    std::vector<TrialRecord> out;
    for (auto [id, silence] : stale) {
      out.push_back(load_trial(id));
      query("UPDATE trials SET state = 'FAIL', datetime_complete = $1 WHERE trial_id = $2", {format_time(now), id});
      const json attrs = detail::stale_attrs(silence);
      for (const auto& [key, value] : attrs.items()) set_attr_locked(id, key, value);
      query("DELETE FROM trial_heartbeats WHERE trial_id = $1", {id});
    }
    return out;
  }

  TrialRecord load_trial(std::int64_t id) {
    auto cached = cache_.find(id);
    if (cached != cache_.end()) return cached->second;
    TrialRecord t;
    {
      Rows r = query("SELECT number, state, datetime_start, datetime_complete FROM trials WHERE trial_id = $1", {id});
      if (!r.size()) throw UsageError("trial", fmt::format("no trial with id {}", id));
      t.id = id;
      t.number = static_cast<int>(r.integer(0, 0));
      t.state = state_from_optuna(r.text(0, 1));
      if (!r.is_null(0, 2)) t.started = parse_time(r.text(0, 2));
      if (!r.is_null(0, 3)) t.finished = parse_time(r.text(0, 3));
    }
    {
      Rows r = query("SELECT param_name, param_value, distribution_json FROM trial_params WHERE trial_id = $1", {id});
      auto distributions = std::make_shared<std::map<std::string, json>>();
      for (int i = 0; i < r.size(); ++i) {
        t.params[r.text(i, 0)] = r.real(i, 1).value_or(std::nan(""));
        (*distributions)[r.text(i, 0)] = json::parse(r.text(i, 2), nullptr, false);
      }
      t.distributions = std::move(distributions);
    }
    {
      Rows r = query("SELECT value, value_type FROM trial_values WHERE trial_id = $1 AND objective = 0", {id});
      if (r.size()) t.value = value_from_optuna(r.real(0, 0), r.text(0, 1));
    }
    {
      Rows r = query("SELECT step, intermediate_value, intermediate_value_type FROM trial_intermediate_values "
                     "WHERE trial_id = $1",
                     {id});
      for (int i = 0; i < r.size(); ++i) t.intermediate[r.integer(i, 0)] = value_from_optuna(r.real(i, 1), r.text(i, 2));
    }
    t.system_attrs = load_attrs("SELECT key, value_json FROM trial_system_attributes WHERE trial_id = $1", id);
    t.user_attrs = load_attrs("SELECT key, value_json FROM trial_user_attributes WHERE trial_id = $1", id);
    if (is_finished(t.state)) cache_[id] = t;
    return t;
  }

  std::vector<TrialRecord> load_trials(std::int64_t study_id) {
    Rows r = query("SELECT trial_id FROM trials WHERE study_id = $1 ORDER BY number, trial_id", {study_id});
    std::vector<TrialRecord> out;
    out.reserve(static_cast<std::size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) out.push_back(load_trial(r.integer(i, 0)));
    return out;
  }
};

}  // namespace

std::shared_ptr<Storage> detail::make_postgres_storage(const std::string& url, OpenMode mode) {
  // caviar's one option, `schema=`, is taken out of the query; the rest goes to libpq.
  static const std::regex option(R"(([?&])schema=([^&]*)(&?))");
  std::smatch m;
  if (!std::regex_search(url, m, option)) return std::make_shared<PostgresStorage>(url, "v3.2.0.a", mode);
  const std::string schema = m[2];
  if (schema != "v3.0.0.d" && schema != "v3.2.0.a")
    throw StorageError(redacted(url), fmt::format("unknown schema '{}'; use schema=v3.0.0.d or schema=v3.2.0.a",
                                                  schema));
  return std::make_shared<PostgresStorage>(m.prefix().str() + (m[3].length() ? m[1].str() : "") + m.suffix().str(),
                                           schema, mode);
}

}  // namespace caviar
