// Bad configs and storages: exit 2, a place: cause message, the database as it was.
#include "support/cli_process.h"

// ---------------------------------------------------------------- bad input

namespace {

// A folder with study.db holding study "good" with two complete trials.
class CliBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = "sqlite:///" + (tmp_.path() / "study.db").string();
    auto storage = caviar::open_storage(url_);
    caviar::StudyOptions so;
    so.name = "good";
    caviar::Parameter x;
    x.name = "x";
    so.space = caviar::SearchSpace({x});
    caviar::Study study(storage, so);
    for (int i = 0; i < 2; ++i) {
      auto t = study.ask(false);
      ASSERT_TRUE(t);
      study.tell(*t, 0.1 * i);
    }
  }

  int trial_count() {
    auto storage = caviar::open_storage(url_);
    auto record = storage->find_study("good");
    if (!record) return -1;
    EXPECT_EQ(storage->studies().size(), 1u);
    return storage->counts(record->id).total();
  }

  // Runs `caviar tune` on a config with these parts; expects exit 2, every needle in
  // stderr, and the database as it was.
  void expect_rejected(const std::string& parameters, const std::vector<std::string>& needles,
                       const std::string& command = "[sh, -c, 'echo value=1']",
                       const std::string& storage = "sqlite:///study.db") {
    std::string text = "study: good\nstorage: " + storage + "\nmetric: value\n"
                       "objective:\n  command: " + command + "\n"
                       "parameters:\n" + parameters + "budget: {trials: 5}\n";
    fs::path cfg = write_config(tmp_.path(), text);
    int before = trial_count();
    ASSERT_EQ(before, 2);
    CliResult r = run_caviar(tmp_.path(), {"tune", cfg.string(), "-q"});
    EXPECT_EQ(r.rc, 2) << r.describe();
    for (const auto& needle : needles) EXPECT_TRUE(contains(r.err, needle)) << "no '" << needle << "' in:\n" << r.err;
    EXPECT_FALSE(contains(r.err, "error: ")) << "not a place: cause message:\n" << r.err;
    EXPECT_EQ(trial_count(), before) << "a rejected config changed the database";
    EXPECT_FALSE(fs::exists(tmp_.path() / "caviar-runs")) << "a rejected config ran something";
  }

  TempDir tmp_;
  std::string url_;
};

}  // namespace

TEST_F(CliBadInput, UnknownKeySuggests) {
  expect_rejected("  lr: {type: float, low: 1e-5, high: 1, sclae: log}\n",
                  {"parameters.lr.sclae", "unknown key", "did you mean 'scale'"});
}

TEST_F(CliBadInput, LowNotBelowHigh) {
  expect_rejected("  lr: {type: float, low: 1, high: 0.5}\n", {"parameters.lr", "low", "high"});
  expect_rejected("  n: {type: int, low: 4, high: 4}\n", {"parameters.n", "low", "high"});
}

TEST_F(CliBadInput, LogNeedsPositiveLow) {
  expect_rejected("  lr: {type: float, low: 0, high: 1, scale: log}\n", {"parameters.lr", "log", "low > 0"});
}

TEST_F(CliBadInput, ReverseLogNeedsHighBelowOne) {
  expect_rejected("  beta: {type: float, low: 0.9, high: 1, scale: reverse_log}\n",
                  {"parameters.beta", "reverse_log", "high < 1"});
}

TEST_F(CliBadInput, EmptyChoiceList) {
  expect_rejected("  opt: {type: choice, values: []}\n", {"parameters.opt", "empty"});
}

TEST_F(CliBadInput, DuplicateParameterName) {
  expect_rejected("  lr: {type: float, low: 0.1, high: 1}\n  lr: {type: float, low: 0.2, high: 1}\n",
                  {"parameters.lr", "twice"});
}

TEST_F(CliBadInput, PlaceholderNamesNoParameter) {
  expect_rejected("  lr: {type: float, low: 0.1, high: 1}\n", {"objective.command[3]", "'{lrr}'", "did you mean '{lr}'"},
                  "[sh, -c, 'echo value=1', '--lr={lrr}']");
}

TEST_F(CliBadInput, WhenOnUnknownParameter) {
  expect_rejected("  opt: {type: choice, values: [sgd, adam]}\n"
                  "  beta1: {type: float, low: 0.8, high: 0.99, when: \"optimizer == adam\"}\n",
                  {"parameters.beta1.when", "'optimizer'", "not a parameter"});
}

TEST_F(CliBadInput, CommandNotFound) {
  expect_rejected("  x: {type: float, low: 0, high: 1}\n", {"objective.command[0]", "caviar-no-such-program", "not found"},
                  "[caviar-no-such-program, '{x}']");
  expect_rejected("  x: {type: float, low: 0, high: 1}\n", {"objective.command[0]", "./missing.sh", "not found"},
                  "[./missing.sh, '{x}']");
}

TEST_F(CliBadInput, StorageCannotBeOpened) {
  expect_rejected("  x: {type: float, low: 0, high: 1}\n", {"nonexistent-dir", "does not exist"},
                  "[sh, -c, 'echo value=1']", "sqlite:///nonexistent-dir/x.db");
  EXPECT_FALSE(fs::exists(tmp_.path() / "nonexistent-dir"));
}

TEST_F(CliBadInput, TextFileAsStorage) {
  write_file(tmp_.path() / "notes.txt", "these are my notes, not a database\n");
  expect_rejected("  x: {type: float, low: 0, high: 1}\n", {"notes.txt", "not a SQLite database"},
                  "[sh, -c, 'echo value=1']", "sqlite:///notes.txt");
  EXPECT_EQ(read_file(tmp_.path() / "notes.txt"), "these are my notes, not a database\n");
  EXPECT_FALSE(fs::exists(tmp_.path() / "notes.txt-wal"));
  CliResult trials = run_caviar(tmp_.path(), {"trials", "--storage", "sqlite:///notes.txt", "--study", "good"});
  EXPECT_EQ(trials.rc, 2) << trials.describe();
  EXPECT_EQ(read_file(tmp_.path() / "notes.txt"), "these are my notes, not a database\n");
}

TEST_F(CliBadInput, ForeignSqliteDatabaseAsStorage) {
  fs::path other = tmp_.path() / "other.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);"
                             "INSERT INTO invoices (total) VALUES (12.5);", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  expect_rejected("  x: {type: float, low: 0, high: 1}\n", {"other.db", "neither a caviar nor an Optuna"},
                  "[sh, -c, 'echo value=1']", "sqlite:///other.db");
  ASSERT_EQ(sqlite3_open(other.c_str(), &db), SQLITE_OK);
  int tables = -1;
  sqlite3_exec(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
               [](void* out, int, char** values, char**) { *static_cast<int*>(out) = std::atoi(values[0]); return 0; },
               &tables, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(tables, 1) << "caviar added tables to a database that is not its own";
}

// Commands that only read (studies, trials, best, ...) create nothing: no SQLite file where
// there is none, no tables in an empty PostgreSQL database; they say there is nothing yet.
TEST_F(CliBadInput, ReadingCreatesNoStorage) {
  const fs::path missing = tmp_.path() / "missing.db";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"studies", "--storage", "sqlite:///" + missing.string()},
        std::vector<std::string>{"trials", "--storage", "sqlite:///" + missing.string(), "--study", "good"},
        std::vector<std::string>{"best", "--storage", "sqlite:///" + missing.string(), "--study", "good"}}) {
    CliResult r = run_caviar(tmp_.path(), args);
    EXPECT_EQ(r.rc, 2) << r.describe();
    EXPECT_TRUE(contains(r.err, "missing.db") && contains(r.err, "no such database file")) << r.err;
    EXPECT_FALSE(fs::exists(missing)) << args[0] << " created the file";
  }
  write_file(missing, "");
  CliResult empty = run_caviar(tmp_.path(), {"trials", "--storage", "sqlite:///" + missing.string(), "--study", "good"});
  EXPECT_EQ(empty.rc, 2) << empty.describe();
  EXPECT_TRUE(contains(empty.err, "nothing stored in it yet")) << empty.err;
  EXPECT_EQ(fs::file_size(missing), 0u);
}

TEST_F(CliBadInput, ReadingCreatesNoTablesOnPostgres) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  for (const char* command : {"studies", "trials"}) {
    std::vector<std::string> args{command, "--storage", db.url()};
    if (std::string(command) == "trials") args.insert(args.end(), {"--study", "good"});
    CliResult r = run_caviar(tmp_.path(), args);
    EXPECT_EQ(r.rc, 2) << r.describe();
    EXPECT_TRUE(contains(r.err, "nothing has been stored in it yet")) << r.err;
  }
  EXPECT_EQ(caviar::testing::postgres_query("SELECT count(*) FROM information_schema.tables WHERE "
                                            "table_schema = 'public'", db.name()),
            "0") << "a reading command made tables";
}

// Reading an existing PostgreSQL study takes no part in writing: with caviar's write lock
// held by another session, and the indexes caviar adds on its first write missing, `trials`
// answers at once and adds nothing.
TEST_F(CliBadInput, ReadingTakesNoLockAndAddsNoIndexOnPostgres) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  {
    caviar::StudyOptions so;
    so.name = "good";
    caviar::Parameter x;
    x.name = "x";
    so.space = caviar::SearchSpace({x});
    caviar::Study study(caviar::open_storage(db.url()), so);
    auto t = study.ask(false);
    ASSERT_TRUE(t);
    study.tell(*t, 0.5);
  }
  caviar::testing::postgres_query("DROP INDEX ix_caviar_trials_study_state; "
                                  "DROP INDEX ix_caviar_trial_system_attributes_key", db.name());
  PGconn* holder = PQconnectdb(("dbname=" + db.name()).c_str());
  ASSERT_EQ(PQstatus(holder), CONNECTION_OK);
  PQclear(PQexec(holder, "SELECT pg_advisory_lock(1667331689)"));  // caviar's write lock, "cavi"
  CliResult r = run_caviar(tmp_.path(), {"trials", "--storage", db.url(), "--study", "good", "--format", "csv"},
                     std::chrono::seconds(20));
  PQfinish(holder);
  EXPECT_EQ(r.rc, 0) << r.describe();
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
  EXPECT_EQ(caviar::testing::postgres_query("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'ix_caviar%'",
                                            db.name()),
            "0");
}
