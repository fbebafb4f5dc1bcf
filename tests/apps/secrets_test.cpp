// Secrets stay secret (issue 29): a storage URL's password shows in no output of any
// subcommand and in no stored field, whether the URL works, points nowhere, is misspelt or
// names a missing study. Runs the real binary against the real PostgreSQL server that
// scripts/test.sh starts (trust authentication: it ignores the password in the URL).
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "caviar/storage.h"
#include "support/cli.h"
#include "support/files.h"
#include "support/postgres.h"

namespace fs = std::filesystem;
using caviar::testing::CliResult;
using caviar::testing::PostgresDatabase;
using caviar::testing::postgres_available;
using caviar::testing::postgres_query;
using caviar::testing::read_file;
using caviar::testing::run_caviar;
using caviar::testing::TempDir;
using caviar::testing::write_file;

namespace {

const std::string kSecret = "Hunter2Secret9";

std::string config(const std::string& storage, const std::string& study = "secret-study") {
  return "study: " + study + "\n"
         "storage: \"" + storage + "\"\n"
         "metric: value\n"
         "objective: {command: [sh, -c, 'echo value=$CAVIAR_PARAM_X']}\n"
         "parameters: {x: {type: float, low: 0, high: 1}}\n"
         "budget: {trials: 10}\n";
}

// Every file under `dir` (configs aside), as text.
std::string all_files(const fs::path& dir) {
  std::string out;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file() && entry.path().extension() != ".yaml") out += read_file(entry.path());
  return out;
}

// Every row of every table of a PostgreSQL database, as text.
std::string all_rows(const std::string& database) {
  std::string tables = postgres_query(
      "SELECT string_agg(table_name, ' ') FROM information_schema.tables WHERE table_schema = 'public'",
      database);
  EXPECT_FALSE(tables.empty());
  std::string out;
  std::size_t at = 0;
  while (at < tables.size()) {
    std::size_t end = tables.find(' ', at);
    if (end == std::string::npos) end = tables.size();
    const std::string table = tables.substr(at, end - at);
    out += postgres_query("SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM \"" + table + "\" t", database);
    at = end + 1;
  }
  return out;
}

// Every text of every table of a SQLite file.
std::string all_rows_sqlite(const fs::path& file) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << file;
    sqlite3_close(db);
    return out;
  }
  std::vector<std::string> tables;
  sqlite3_exec(db, "SELECT name FROM sqlite_master WHERE type = 'table'",
               [](void* list, int, char** values, char**) {
                 static_cast<std::vector<std::string>*>(list)->push_back(values[0]);
                 return 0;
               }, &tables, nullptr);
  EXPECT_FALSE(tables.empty());
  for (const auto& table : tables)
    sqlite3_exec(db, ("SELECT * FROM \"" + table + "\"").c_str(),
                 [](void* text, int n, char** values, char**) {
                   for (int i = 0; i < n; ++i)
                     if (values[i]) *static_cast<std::string*>(text) += std::string(values[i]) + "\n";
                   return 0;
                 }, &out, nullptr);
  sqlite3_close(db);
  return out;
}

// Every subcommand (caviar --help) that takes a storage, with `url` given as --storage,
// or through the config (which names it) where the subcommand takes one.
std::vector<std::vector<std::string>> every_subcommand(const std::string& url, const std::string& study) {
  return {
      {"tune", "cfg.yaml", "-q", "--trials", "3"},
      {"tune", "cfg.yaml", "--storage", url, "--study", study, "-q", "--trials", "3"},
      {"studies", "--storage", url},
      {"studies", "--storage", url, "--format", "json"},
      {"trials", "--storage", url, "--study", study},
      {"trials", "cfg.yaml", "--format", "json"},
      {"trials", "--storage", url, "--study", study, "--lineage"},
      {"best", "--storage", url, "--study", study},
      {"best", "cfg.yaml", "--format", "json"},
      {"export", "--storage", url, "--study", study},
      {"export", "cfg.yaml", "--format", "csv", "-o", "export.csv"},
      {"importance", "--storage", url, "--study", study},
      {"report", "--storage", url, "--study", study, "--out", "report.html"},
      {"zoom", "--storage", url, "--study", study, "--out", "zoom-a.yaml", "--force"},
      {"ask", "cfg.yaml", "--storage", url, "--study", study},
      {"ask", "cfg.yaml"},
      {"tell", "cfg.yaml", "--trial", "3", "--value", "0.5"},
      {"tell", "cfg.yaml", "--storage", url, "--study", study, "--trial", "4", "--failed", "why"},
      {"studies", url},  // the URL where no argument is wanted: CLI11's own message quotes it
  };
}

// Runs them all in `dir`; returns what they printed, after checking each exit status.
std::string run_all(const TempDir& dir, const std::string& url, const std::string& study, bool works) {
  std::string printed;
  for (const auto& args : every_subcommand(url, study)) {
    CliResult r = run_caviar(dir.path(), args, std::chrono::seconds(90));
    printed += r.out + r.err;
    std::string line;
    for (const auto& a : args) line += a + " ";
    if (!works || args[1] == url) {
      EXPECT_EQ(r.rc, 2) << line << "\n" << r.describe();
      EXPECT_TRUE(caviar::testing::one_error_line(r, "caviar: ")) << line;
    } else {
      EXPECT_EQ(r.rc, 0) << line << "\n" << r.describe();
    }
    EXPECT_EQ(r.out.find(kSecret), std::string::npos) << line << "\n" << r.describe();
    EXPECT_EQ(r.err.find(kSecret), std::string::npos) << line << "\n" << r.describe();
  }
  return printed;
}

TEST(Secrets, AWorkingPostgresUrlsPasswordShowsNowhere) {
  ASSERT_TRUE(postgres_available());
  PostgresDatabase db;
  const char* user = std::getenv("PGUSER");
  const std::string url = "postgresql://" + std::string(user ? user : "caviar") + ":" + kSecret + "@/" + db.name();
  TempDir dir;
  write_file(dir / "cfg.yaml", config(url));
  const std::string printed = run_all(dir, url, "secret-study", true);
  // the banner, the listings and the errors did print the URL, redacted
  EXPECT_NE(printed.find(":***@/" + db.name()), std::string::npos) << printed;
  EXPECT_EQ(all_rows(db.name()).find(kSecret), std::string::npos);
  EXPECT_EQ(all_files(dir.path()).find(kSecret), std::string::npos);
  // zoom's config has no password (libpq takes it from PGPASSWORD or ~/.pgpass)
  const std::string zoomed = read_file(dir / "zoom-a.yaml");
  EXPECT_NE(zoomed.find("postgresql://" + std::string(user ? user : "caviar") + "@/" + db.name()), std::string::npos) << zoomed;

  // a study that is not there: "not found in <url>" and the list of those that are
  for (const auto& command : {"trials", "best", "export", "importance", "report", "zoom"}) {
    std::vector<std::string> args = {command, "--storage", url, "--study", "missing"};
    if (std::string(command) == "report" || std::string(command) == "zoom") args.insert(args.end(), {"--out", "x.out"});
    CliResult r = run_caviar(dir.path(), args);
    EXPECT_EQ(r.rc, 2) << command << "\n" << r.describe();
    EXPECT_NE(r.err.find("not found in postgresql://"), std::string::npos) << command << "\n" << r.describe();
    EXPECT_NE(r.err.find(":***@"), std::string::npos) << command << "\n" << r.describe();
    EXPECT_EQ(r.err.find(kSecret), std::string::npos) << command << "\n" << r.describe();
  }
}

TEST(Secrets, BrokenUrlsPasswordsShowNowhere) {
  const std::vector<std::string> urls = {
      "postgresql://caviar:" + kSecret + "@127.0.0.1:1/nowhere?connect_timeout=3",  // nothing listens
      "postgresq://caviar:" + kSecret + "@localhost/db",                            // misspelt scheme
      "postgres:/caviar:" + kSecret + "@localhost/db",                              // misspelt, one slash
      "postgresql://caviar:" + kSecret + "@localhost/db?schema=v9",                 // unknown schema
      "postgresql://caviar:" + kSecret + "%zz@127.0.0.1:1/db",                      // a bad %-escape libpq quotes
      "postgresql://caviar:" + kSecret + "/x@127.0.0.1:1/db",                       // an unescaped '/'
      "postgresql://caviar@127.0.0.1:1/db?password=" + kSecret + "&connect_timeout=3",
      "sqlite:///no/such/folder/x.db?password=" + kSecret,
  };
  for (const auto& url : urls) {
    SCOPED_TRACE(url);
    TempDir dir;
    write_file(dir / "cfg.yaml", config(url));
    run_all(dir, url, "secret-study", false);
    EXPECT_EQ(all_files(dir.path()).find(kSecret), std::string::npos);
  }
}

TEST(Secrets, AStorageThatIsNotATextIsNotQuoted) {
  TempDir dir;
  std::string text = config("x");
  text.replace(text.find("storage: \"x\""), 12, "storage: {url: \"postgresql://caviar:" + kSecret + "@h/db\"}");
  write_file(dir / "cfg.yaml", text);
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml"});
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(caviar::testing::one_error_line(r, "storage: must be a URL"));
  EXPECT_EQ(r.err.find(kSecret), std::string::npos) << r.err;
}

TEST(Secrets, APostgresUrlInAConfigDoesNotReachASqliteStudy) {
  // The config names PostgreSQL (with a password); --storage sends the study to SQLite.
  TempDir dir;
  write_file(dir / "cfg.yaml", config("postgresql://caviar:" + kSecret + "@127.0.0.1:1/db"));
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "--storage", "sqlite:///local.db", "-q"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_EQ(all_rows_sqlite(dir / "local.db").find(kSecret), std::string::npos);
  EXPECT_EQ(all_files(dir.path()).find(kSecret), std::string::npos);
}

TEST(Secrets, RedactedUrlMasksEveryForm) {
  using caviar::redacted_url;
  EXPECT_EQ(redacted_url("postgresql://u:pw@host:5432/db"), "postgresql://u:***@host:5432/db");
  EXPECT_EQ(redacted_url("postgres://u:p/w@d@host/db?x=1"), "postgres://u:***@host/db?x=1");
  EXPECT_EQ(redacted_url("postgresq://u:pw@host/db"), "postgresq://u:***@host/db");
  EXPECT_EQ(redacted_url("postgresql://u@host/db?password=pw&sslmode=require"),
            "postgresql://u@host/db?password=***&sslmode=require");
  EXPECT_EQ(redacted_url("host=h PassWord = 'p w' dbname=d"), "host=h PassWord = *** dbname=d");
  EXPECT_EQ(redacted_url("postgresql://u@host/db"), "postgresql://u@host/db");
  EXPECT_EQ(redacted_url("sqlite:///a:b@c.db"), "sqlite:///a:b@c.db");
  EXPECT_EQ(redacted_url("postgres:/u:pw@host/db"), "postgres:/u:***@host/db");
  EXPECT_EQ(redacted_url("u:pw@host/db"), "u:***@host/db");
  EXPECT_EQ(redacted_url("postgresql://u@host:5432/db?application_name=a@b"),
            "postgresql://u@host:5432/db?application_name=a@b");
  EXPECT_EQ(caviar::url_without_password("postgresql://u:pw@h/db?password=x&a=b"), "postgresql://u@h/db?a=b");
  EXPECT_EQ(caviar::url_without_password("postgresql://u@h/db?a=b&password=x"), "postgresql://u@h/db?a=b");
  EXPECT_EQ(caviar::without_secrets_of("postgresql://u:se%41cret@h/db", "bad: \"seAcret\", \"se%41cret\""),
            "bad: \"***\", \"***\"");
}

}  // namespace
