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
// The state changes themselves are storage/sql_storage.h, shared with the SQLite store.
#include "storage/postgres_storage.h"

#include <libpq-fe.h>
#include <poll.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <regex>
#include <thread>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/storage.h"
#include "storage/common.h"
#include "storage/sql_storage.h"

namespace caviar {
namespace {

using detail::SqlArg;
using detail::SqlRows;
using detail::SqlValue;

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

// libpq's messages on one line: "...failed: No such file\n\tIs the server running...\n".
std::string one_line(std::string message) {
  message = std::regex_replace(message, std::regex(R"(\s*\n\s*)"), " ");
  while (!message.empty() && message.back() == ' ') message.pop_back();
  return message;
}

// The URL as it may be shown: without a password (the one redaction, storage.h).
std::string redacted(const std::string& url) { return redacted_url(url); }

// Thrown inside a transaction when it should run again: the connection dropped, or the
// server asked for a retry (serialization failure, deadlock).
struct PgRetry {
  std::string why;
};

// `?` placeholders numbered as PostgreSQL wants them ($1, $2, ...), outside '...' literals
// (caviar's statements have no other quoting, comments or jsonb `?` operators).
std::string numbered(const std::string& sql) {
  std::string out;
  bool quoted = false;
  int n = 0;
  for (char c : sql) {
    if (c == '\'') quoted = !quoted;
    if (c == '?' && !quoted)
      out += "$" + std::to_string(++n);
    else
      out += c;
  }
  return out;
}

// A parameter as the text PostgreSQL parses (it infers the type from the context).
std::optional<std::string> as_text(const SqlValue& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return std::nullopt;
}

class PostgresStorage final : public detail::SqlStorage {
 public:
  PostgresStorage(const std::string& url, const std::string& schema, OpenMode mode)
      : url_(url), where_(redacted(url)), read_only_(mode == OpenMode::ReadOnly) {
    connect();
    try {
      const bool has_tables = check_kind();
      if (mode == OpenMode::Create) {
        create_schema(schema);
      } else if (has_tables) {  // only read: no write transaction, no lock
        detail::check_revision(where_, read([&] { return revision_locked(); }));
      } else {
        throw StorageError(where_, "a PostgreSQL database without caviar's tables: nothing has been stored "
                                   "in it yet");
      }
    } catch (...) {  // no destructor runs for a half-built store
      PQfinish(conn_);
      conn_ = nullptr;
      throw;
    }
  }

  ~PostgresStorage() override {
    if (conn_) PQfinish(conn_);
  }

 protected:
  SqlRows query(const std::string& sql, std::initializer_list<SqlArg> args = {}) override {
    std::vector<std::optional<std::string>> texts;
    for (const SqlArg& a : args) texts.push_back(as_text(a.value));
    std::vector<const char*> values;
    for (const auto& t : texts) values.push_back(t ? t->c_str() : nullptr);
    PGresult* r = PQsendQueryParams(conn_, numbered(sql).c_str(), static_cast<int>(values.size()), nullptr,
                                    values.data(), nullptr, nullptr, 0)
                      ? result()
                      : nullptr;
    const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) fail(r);
    SqlRows out;
    const int rows = PQntuples(r), cols = PQnfields(r);
    out.rows.resize(static_cast<std::size_t>(rows));
    for (int i = 0; i < rows; ++i) {
      out.rows[i].resize(static_cast<std::size_t>(cols));
      for (int c = 0; c < cols; ++c)
        if (!PQgetisnull(r, i, c))
          out.rows[i][c] = std::string(PQgetvalue(r, i, c), static_cast<std::size_t>(PQgetlength(r, i, c)));
    }
    PQclear(r);
    return out;
  }

  // Every write takes caviar's advisory lock first: one writer at a time.
  void in_write(const std::function<void()>& fn) override {
    transaction("BEGIN", true, [&] {
      query("SELECT pg_advisory_xact_lock(?)", {kWriteLock});
      if (!indexed_) command(kIndexes);
      fn();
    });
    indexed_ = true;
  }

  void in_read(const std::function<void()>& fn) override {
    transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", false, fn);
  }

  // Heartbeats are the server's clock (LOCALTIMESTAMP), as Optuna writes them on
  // PostgreSQL, and so is the stale check: workers on machines whose clocks differ agree.
  // A trial that finished meanwhile gets no row back.
  void beat_locked(std::int64_t trial_id, Clock::time_point) override {
    query("INSERT INTO trial_heartbeats (trial_id, heartbeat) SELECT ?::integer, LOCALTIMESTAMP "
          "WHERE EXISTS (SELECT 1 FROM trials WHERE trial_id = ?::integer AND state = 'RUNNING') "
          "ON CONFLICT (trial_id) DO UPDATE SET heartbeat = EXCLUDED.heartbeat",
          {trial_id, trial_id});
  }

  std::vector<std::pair<std::int64_t, Clock::duration>> silences_locked(std::int64_t study_id,
                                                                        Clock::time_point) override {
    SqlRows r = query("SELECT t.trial_id, EXTRACT(EPOCH FROM LOCALTIMESTAMP - h.heartbeat) FROM "
                      "trial_heartbeats h JOIN trials t ON t.trial_id = h.trial_id "
                      "WHERE t.study_id = ? AND t.state = 'RUNNING'",
                      {study_id});
    std::vector<std::pair<std::int64_t, Clock::duration>> out;
    for (int i = 0; i < r.size(); ++i)
      out.emplace_back(r.integer(i, 0), std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(r.real(i, 1).value_or(0))));
    return out;
  }

 private:
  std::string url_, where_;  // where_: the URL without its password, for messages
  bool read_only_ = false;   // OpenMode::ReadOnly: every transaction read-only (the dashboard)
  PGconn* conn_ = nullptr;
  std::recursive_mutex mutex_;

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
      // libpq may quote a part of the URL (a bad %-escape in the password, say)
      std::string why = conn_ ? without_secrets_of(url_, one_line(PQerrorMessage(conn_))) : "out of memory";
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
    if (read_only_) command("SET default_transaction_read_only = on");
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

  // Statements without parameters (several may be given at once).
  void command(const char* sql) {
    PGresult* r = PQsendQuery(conn_, sql) ? result() : nullptr;
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) fail(r);
    PQclear(r);
  }

  // The result of the statements just sent (the last one's, or the error that ended them),
  // as PQexec returns it; null when the connection failed. The wait for it checks every
  // 100 ms whether the caller was told to stop waiting (Storage::stop_waiting): a server
  // that hangs, or a socket that went half-open, would otherwise hold the call until TCP
  // keepalives notice (about 25 s) or, for a server whose kernel still answers them, for
  // ever. Told to stop, the connection is closed (the server rolls back what it had begun)
  // and the call throws PgRetry, which transaction() turns into "gave up waiting".
  PGresult* result() {
    PGresult* last = nullptr;
    for (;;) {
      while (PQisBusy(conn_)) {
        if (waiting_stopped()) {
          PQclear(last);
          PQfinish(conn_);
          conn_ = nullptr;  // PQstatus(nullptr) is CONNECTION_BAD: no call uses it again
          throw PgRetry{"stopped waiting for the server's reply"};
        }
        pollfd socket{PQsocket(conn_), POLLIN, 0};
        if (poll(&socket, 1, 100) < 0 && errno != EINTR) break;  // PQgetResult reports it
        if (!PQconsumeInput(conn_)) break;
      }
      PGresult* next = PQgetResult(conn_);
      if (!next) return last;
      PQclear(last);
      last = next;
    }
  }

  // Runs `fn` inside `begin` ... COMMIT; runs it again after a dropped connection (opened
  // anew) or a retry the server asked for, until the server has been unreachable for
  // kReconnectFor. A write whose COMMIT got no reply is not simply run again (it may have
  // been saved: a trial would be started twice): its transaction id tells, once the
  // connection is back, whether it was committed (then what `fn` did stands, and so does
  // what it left in the caller's variables) or not (then it runs again).
  void transaction(const char* begin, bool writes, const std::function<void()>& fn) {
    std::lock_guard lock(mutex_);
    std::optional<std::string> unconfirmed;  // the transaction id of a COMMIT without reply
    for (int attempt = 0;; ++attempt) {
      try {
        if (PQstatus(conn_) != CONNECTION_OK) {
          // Told to stop waiting: no new connection either (it can take the connect
          // time-out of 10 s).
          if (waiting_stopped()) throw PgRetry{"the connection is down"};
          PQreset(conn_);
          if (PQstatus(conn_) != CONNECTION_OK) throw PgRetry{PQerrorMessage(conn_)};
          session_settings();
        }
        if (unconfirmed) {
          const std::string status = query("SELECT txid_status(?::bigint)", {*unconfirmed}).text(0, 0);
          if (status == "committed") {
            unreachable_since_.reset();
            return;
          }
          // The old session may not have ended yet (its server process still holds the
          // transaction open): wait for it, on the same clock as for a lost connection.
          if (status == "in progress") throw PgRetry{"the transaction of a lost COMMIT is still in progress"};
          if (status != "aborted")
            throw StorageError(where_, fmt::format("the connection dropped while a change was committed, and "
                                                   "PostgreSQL cannot tell whether it was (transaction {}: '{}')",
                                                   *unconfirmed, status));
          unconfirmed.reset();  // rolled back: run it again
        }
        command(begin);
        unreachable_since_.reset();
        const std::string xid = writes ? query("SELECT txid_current()").text(0, 0) : "";
        try {
          fn();
          try {
            command("COMMIT");
          } catch (const PgRetry&) {
            if (writes) unconfirmed = xid;
            throw;
          }
          return;
        } catch (...) {
          rolled_back();
          if (PQstatus(conn_) == CONNECTION_OK && PQsendQuery(conn_, "ROLLBACK")) PQclear(result());
          throw;
        }
      } catch (const PgRetry& e) {
        const auto now = std::chrono::steady_clock::now();
        if (!unreachable_since_) unreachable_since_ = now;
        if (waiting_stopped())
          throw StorageError(where_, fmt::format("gave up waiting for PostgreSQL, as told (last error: {}){}",
                                                 one_line(e.why),
                                                 unconfirmed ? fmt::format("; a change whose COMMIT got no reply "
                                                                           "(transaction {}) may still be committed",
                                                                           *unconfirmed)
                                                             : ""));
        if (now - *unreachable_since_ >= kReconnectFor && unconfirmed)
          throw StorageError(where_, fmt::format("a change whose COMMIT got no reply was neither committed nor "
                                                 "rolled back within {} s (transaction {}; last: {}); it may "
                                                 "still be committed",
                                                 kReconnectFor.count(), *unconfirmed, one_line(e.why)));
        if (now - *unreachable_since_ >= kReconnectFor)
          throw StorageError(where_, fmt::format("PostgreSQL did not answer for {} s (last error: {})",
                                                 kReconnectFor.count(), one_line(e.why)));
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 10 << std::min(attempt, 7))));
      }
    }
  }

  // Indexes that Optuna's schema lacks and caviar's queries need (a waiting trial, the
  // budget, uncounted failures). Tables that caviar makes have them; a database that Optuna
  // made gets them with caviar's first write to it, so that only reading it changes nothing.
  static constexpr const char* kIndexes =
      "CREATE INDEX IF NOT EXISTS ix_caviar_trials_study_state ON trials (study_id, state); "
      "CREATE INDEX IF NOT EXISTS ix_caviar_trial_system_attributes_key ON trial_system_attributes (key)";
  std::atomic<bool> indexed_{false};  // read inside a write, set after its commit (any thread)

  // A database with tables of its own is not ours to add Optuna's to. Returns whether it
  // has tables (ours, then).
  bool check_kind() {
    return read([&] {
      SqlRows r = query("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()");
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
    SqlRows r = query("SELECT version_num FROM alembic_version");
    return r.size() ? r.text(0, 0) : "";
  }

  // Creates the tables in revision `schema` if the database has none yet.
  void create_schema(const std::string& schema) {
    std::string revision;
    transaction("BEGIN", true, [&] {
      query("SELECT pg_advisory_xact_lock(?)", {kWriteLock});
      revision = revision_locked();
      if (revision.empty()) {  // under the lock: no other caviar creates them too
        command(kSchema);
        command(schema == "v3.0.0.d" ? kRevision30 : kRevision32);
      }
    });
    indexed_ = revision.empty();  // made here, with them
    if (!revision.empty()) detail::check_revision(where_, revision);
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
