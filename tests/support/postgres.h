// Test support: a fresh database on the real PostgreSQL server that scripts/test.sh starts
// (it exports PGHOST, PGUSER and CAVIAR_TEST_POSTGRESQL=1). Without that server the test
// fails and says how to get one: a storage test that quietly skips tests nothing.
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace caviar::testing {

// Whether the test run has a PostgreSQL server: ASSERT_TRUE(postgres_available()).
inline ::testing::AssertionResult postgres_available() {
  if (std::getenv("CAVIAR_TEST_POSTGRESQL")) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "no PostgreSQL server for this test: run the tests with `make test` "
            "(scripts/test.sh starts one and sets PGHOST, PGUSER, CAVIAR_TEST_POSTGRESQL)";
}

// Runs one statement on a database of the server (by default `postgres`, from where
// databases are made and dropped); returns the first value of the first row, or "".
inline std::string postgres_query(const std::string& sql, const std::string& database = "postgres") {
  PGconn* c = PQconnectdb(("dbname=" + database).c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("cannot reach the test PostgreSQL server: " + why);
  }
  PGresult* r = PQexec(c, sql.c_str());
  const auto status = PQresultStatus(r);
  std::string out = status == PGRES_TUPLES_OK && PQntuples(r) ? PQgetvalue(r, 0, 0) : "";
  std::string why = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
    throw std::runtime_error("PostgreSQL: " + why + " in: " + sql);
  return out;
}

// A database of its own for one test, dropped (with whatever still uses it) at the end.
class PostgresDatabase {
 public:
  PostgresDatabase() {
    static std::atomic<int> counter{0};
    name_ = "caviar_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    postgres_query("CREATE DATABASE " + name_);
  }
  ~PostgresDatabase() {
    try {
      postgres_query("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
    }
  }
  PostgresDatabase(const PostgresDatabase&) = delete;
  const std::string& name() const { return name_; }
  // The storage URL (host and user come from PGHOST and PGUSER).
  std::string url() const { return "postgresql:///" + name_; }

 private:
  std::string name_;
};

}  // namespace caviar::testing
