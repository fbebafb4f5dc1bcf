// Optuna interoperability: real SQLite files written by one side and read (and continued)
// by the other, with Debian's Optuna 3.1 (/usr/bin/python3) run as a real subprocess.
// Also: files that are not study stores are refused with a clear error and left untouched.
#include <gtest/gtest.h>

#include <unistd.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "support/files.h"
#include "support/postgres.h"
#include "caviar/error.h"
#include "caviar/export.h"
#include "caviar/space.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/trial.h"

using namespace caviar;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

using caviar::testing::read_file;
using caviar::testing::write_file;

// A fresh folder per test, removed afterwards.
struct TempDir {
  caviar::testing::TempDir dir;
  fs::path path = dir.path();
  fs::path operator/(const std::string& leaf) const { return path / leaf; }
};

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Result {
  int code = -1;
  std::string out, err;
};

// Runs a command line (argv words, each quoted) with stdout and stderr captured to files.
Result run(const fs::path& dir, const std::vector<std::string>& argv) {
  static std::atomic<int> counter{0};
  int n = counter++;
  fs::path out = dir / ("out" + std::to_string(n) + ".txt");
  fs::path err = dir / ("err" + std::to_string(n) + ".txt");
  std::string line;
  for (const auto& a : argv) line += quote(a) + " ";
  line += ">" + quote(out.string()) + " 2>" + quote(err.string()) + " </dev/null";
  int status = std::system(line.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

// Writes `script` into `dir` and runs it with Optuna's Python; fails the test on a
// non-zero exit.
Result python(const TempDir& dir, const std::string& name, const std::string& script,
              const std::vector<std::string>& args) {
  fs::path file = dir / (name + ".py");
  write_file(file, script);
  std::vector<std::string> argv = {kPython, file.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  Result r = run(dir.path, argv);
  EXPECT_EQ(r.code, 0) << name << ".py failed:\n" << r.err;
  return r;
}

// Prints the study as Optuna sees it: direction, trials (number, state, value, params with
// their Python types, intermediate values) and the best trial.
const char* kReadStudy = R"PY(
import json, sys
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name=sys.argv[2], storage=sys.argv[1])
out = {"direction": study.direction.name, "trials": [], "best_number": None, "best_value": None}
for t in study.get_trials(deepcopy=False):
    out["trials"].append({
        "number": t.number, "state": t.state.name, "value": t.value,
        "params": t.params,
        "types": {k: type(v).__name__ for k, v in t.params.items()},
        "intermediate": {str(k): v for k, v in t.intermediate_values.items()},
    })
try:
    best = study.best_trial
    out["best_number"] = best.number
    out["best_value"] = best.value
except ValueError:
    pass
print(json.dumps(out))
)PY";

json read_with_optuna(const TempDir& dir, const std::string& url, const std::string& study) {
  Result r = python(dir, "read_study", kReadStudy, {url, study});
  json doc = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << "not JSON: " << r.out << r.err;
  return doc;
}

std::string optuna_state(TrialState s) {
  switch (s) {
    case TrialState::Running: return "RUNNING";
    case TrialState::Complete: return "COMPLETE";
    case TrialState::Pruned: return "PRUNED";
    case TrialState::Failed: return "FAIL";
    case TrialState::Waiting: return "WAITING";
  }
  return "?";
}

std::string url_of(const fs::path& db, const std::string& query = "") {
  return "sqlite:///" + db.string() + query;  // db is absolute: sqlite:////tmp/...
}

// Checks that Optuna's view of each trial equals caviar's record of it.
void expect_same_trials(const std::vector<TrialRecord>& mine, const json& theirs) {
  ASSERT_EQ(theirs["trials"].size(), mine.size());
  std::map<int, json> by_number;
  for (const auto& t : theirs["trials"]) by_number[t["number"].get<int>()] = t;
  for (const auto& r : mine) {
    SCOPED_TRACE("trial " + std::to_string(r.number));
    ASSERT_TRUE(by_number.count(r.number));
    const json& py = by_number[r.number];
    json j = trial_to_json(r);
    EXPECT_EQ(py["state"], optuna_state(r.state));
    if (r.value) {
      ASSERT_TRUE(py["value"].is_number());
      EXPECT_EQ(py["value"].get<double>(), *r.value);  // bit-exact through the file
    } else {
      EXPECT_TRUE(py["value"].is_null()) << py["value"];
    }
    EXPECT_EQ(py["params"], j["params"]);
    EXPECT_EQ(py["intermediate"], j["intermediate"]);
  }
}

SearchSpace mixed_space() {
  return SearchSpace::from_config_json(json::parse(R"({
    "lr":        {"type": "float",  "low": 1e-5, "high": 1, "scale": "log"},
    "momentum":  {"type": "float",  "low": 0.9, "high": 0.999, "scale": "reverse_log"},
    "layers":    {"type": "int",    "low": 1, "high": 4},
    "units":     {"type": "int",    "low": 16, "high": 1024, "scale": "log"},
    "batch":     {"type": "choice", "values": [32, 64, 128]},
    "optimizer": {"type": "choice", "values": ["sgd", "adam"]},
    "beta1":     {"type": "float",  "low": 0.8, "high": 0.99, "when": "optimizer == adam"}
  })"));
}

// Wires a trial asked outside optimize() so that report() is stored.
void wire(Study& study, Trial& trial) {
  Storage* storage = &study.storage();
  std::int64_t id = trial.id();
  trial.set_sinks([storage, id](std::int64_t step, double v) { storage->report(id, step, v); },
                  [] { return false; });
}

// The Optuna 3.1 objective equivalent to mixed_space().
const char* kContinueMixed = R"PY(
import json, sys
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name=sys.argv[2], storage=sys.argv[1],
                          sampler=optuna.samplers.RandomSampler(seed=7))
def objective(t):
    lr = t.suggest_float("lr", 1e-5, 1, log=True)
    t.suggest_float("momentum", 0.9, 0.999)
    layers = t.suggest_int("layers", 1, 4)
    t.suggest_int("units", 16, 1024, log=True)
    t.suggest_categorical("batch", [32, 64, 128])
    if t.suggest_categorical("optimizer", ["sgd", "adam"]) == "adam":
        t.suggest_float("beta1", 0.8, 0.99)
    t.report(lr, 0)
    return lr * layers
study.optimize(objective, n_trials=3)
print(json.dumps([t.number for t in study.get_trials(deepcopy=False)]))
)PY";

}  // namespace

// 1. caviar writes (Optuna 3.1's schema), Optuna reads and continues, caviar reads back.
// caviar writes a study at `url` (a new store, in Optuna 3.1's schema), Optuna reads and
// continues it at `optuna_url`, and caviar reads it all back at `plain_url`.
void optuna_reads_and_continues_a_caviar_study(const TempDir& dir, const std::string& url,
                                               const std::string& plain_url,
                                               const std::string& optuna_url) {
  StudyOptions options;
  options.name = "caviar-made";
  options.direction = Direction::Minimize;
  options.space = mixed_space();
  options.sampler.seed = 11;

  std::map<int, json> asked;  // number -> user params at ask time
  {
    Study study(open_storage(url), options);
    // Both branches of the condition, whatever the sampler draws.
    study.enqueue({{"optimizer", "adam"}, {"batch", 64}});
    study.enqueue({{"optimizer", "sgd"}, {"layers", 3}});
    auto ask = [&] {
      auto t = study.ask();
      EXPECT_TRUE(t.has_value());
      wire(study, *t);
      asked[t->number()] = t->params_json();
      return std::move(*t);
    };
    { auto t = ask(); study.tell(t, 1.5); }                       // 0: complete
    { auto t = ask(); t.report(0, 3.0); t.report(1, 2.0); study.tell(t, 2.5); }  // 1: reports
    { auto t = ask(); study.tell_failed(t, "boom"); }            // 2: failed
    { auto t = ask(); t.report(0, 9.0); t.report(1, 8.0); study.tell_pruned(t); }  // 3: pruned
    { auto t = ask(); study.tell(t, 0.25); }                      // 4: the best
    { auto t = ask(); study.tell(t, 7.0); }                       // 5
  }
  ASSERT_EQ(asked.at(0)["optimizer"], "adam");
  ASSERT_TRUE(asked.at(0).contains("beta1"));
  ASSERT_EQ(asked.at(0)["batch"], 64);
  ASSERT_EQ(asked.at(1)["optimizer"], "sgd");
  ASSERT_FALSE(asked.at(1).contains("beta1"));
  ASSERT_EQ(asked.at(1)["layers"], 3);

  json py = read_with_optuna(dir, optuna_url, "caviar-made");
  ASSERT_EQ(py["trials"].size(), 6u);
  EXPECT_EQ(py["direction"], "MINIMIZE");
  EXPECT_EQ(py["best_number"], 4);
  EXPECT_EQ(py["best_value"], 0.25);
  const json& ts = py["trials"];
  std::vector<std::string> states;
  for (const auto& t : ts) states.push_back(t["state"]);
  EXPECT_EQ(states, (std::vector<std::string>{"COMPLETE", "COMPLETE", "FAIL", "PRUNED",
                                              "COMPLETE", "COMPLETE"}));
  EXPECT_EQ(ts[0]["value"], 1.5);
  EXPECT_EQ(ts[1]["value"], 2.5);
  EXPECT_TRUE(ts[2]["value"].is_null());
  EXPECT_EQ(ts[3]["value"], 8.0);  // a pruned trial keeps its last report, as in Optuna
  EXPECT_EQ(ts[1]["intermediate"], json({{"0", 3.0}, {"1", 2.0}}));
  EXPECT_EQ(ts[3]["intermediate"], json({{"0", 9.0}, {"1", 8.0}}));
  EXPECT_EQ(ts[0]["intermediate"], json::object());
  for (const auto& t : ts) {
    int n = t["number"];
    SCOPED_TRACE("trial " + std::to_string(n));
    EXPECT_EQ(t["params"], asked.at(n));  // user values, exactly
    EXPECT_EQ(t["types"]["layers"], "int");
    EXPECT_EQ(t["types"]["units"], "int");
    EXPECT_EQ(t["types"]["batch"], "int");
    EXPECT_EQ(t["types"]["optimizer"], "str");
    EXPECT_EQ(t["types"]["lr"], "float");
    EXPECT_EQ(t["types"]["momentum"], "float");
    EXPECT_EQ(t["params"].contains("beta1"), t["params"]["optimizer"] == "adam");
  }

  // Optuna continues the study with the same distributions.
  Result cont = python(dir, "continue", kContinueMixed, {optuna_url, "caviar-made"});
  EXPECT_EQ(json::parse(cont.out, nullptr, false), json({0, 1, 2, 3, 4, 5, 6, 7, 8}));
  json after = read_with_optuna(dir, optuna_url, "caviar-made");
  ASSERT_EQ(after["trials"].size(), 9u);

  // caviar reads everything back, Optuna's trials included, and numbers on from there.
  Study study(open_storage(plain_url), options);
  auto trials = study.trials();
  ASSERT_EQ(trials.size(), 9u);
  std::set<int> numbers;
  for (const auto& t : trials) numbers.insert(t.number);
  EXPECT_EQ(numbers, (std::set<int>{0, 1, 2, 3, 4, 5, 6, 7, 8}));
  expect_same_trials(trials, after);
  for (int n = 6; n < 9; ++n) {
    json j = trial_to_json(trials[n]);
    EXPECT_EQ(j["state"], "complete");
    EXPECT_TRUE(j["params"]["layers"].is_number_integer());
    EXPECT_TRUE(j["params"]["batch"].is_number_integer());
    EXPECT_TRUE(j["params"]["optimizer"].is_string());
    EXPECT_EQ(j["intermediate"].size(), 1u);
  }
  auto next = study.ask();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->number(), 9);
  study.tell(*next, 0.5);
  EXPECT_EQ(read_with_optuna(dir, optuna_url, "caviar-made")["trials"].size(), 10u);
}

TEST(OptunaInterop, OptunaReadsAndContinuesACaviarStudy) {
  TempDir dir;
  optuna_reads_and_continues_a_caviar_study(dir, url_of(dir / "a.db", "?schema=v3.0.0.d"), url_of(dir / "a.db"),
                                            url_of(dir / "a.db"));
}

// The same on a real PostgreSQL server (scripts/test.sh), Optuna through psycopg2; the
// libpq and SQLAlchemy URLs both take the server from PGHOST and PGUSER.
TEST(OptunaInterop, OptunaReadsAndContinuesACaviarStudyOnPostgres) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  TempDir dir;
  optuna_reads_and_continues_a_caviar_study(dir, db.url() + "?schema=v3.0.0.d", db.url(),
                                            "postgresql+psycopg2:///" + db.name());
}

// 2. Optuna writes, caviar continues, Optuna reads it all back; Optuna's enqueue_trial is
// claimed by caviar's ask().
// Optuna creates the store (its own tables) at `optuna_url`; caviar opens it at `url`.
void caviar_continues_an_optuna_study(const TempDir& dir, const std::string& optuna_url, const std::string& url) {
  const char* write_study = R"PY(
import sys
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(study_name="optuna-made", storage=sys.argv[1], direction="maximize",
                            sampler=optuna.samplers.RandomSampler(seed=3))
def suggest(t):
    lr = t.suggest_float("lr", 1e-4, 1, log=True)
    n = t.suggest_int("n", 1, 10)
    kind = t.suggest_categorical("kind", ["a", "b", "c"])
    return lr, n, kind
for i in range(5):
    t = study.ask()
    lr, n, kind = suggest(t)
    if i == 0:
        t.report(0.1, 0); t.report(0.2, 1)
        study.tell(t, 0.3)
    elif i == 2:
        t.report(0.05, 0); t.report(0.04, 1)
        study.tell(t, state=optuna.trial.TrialState.PRUNED)
    elif i == 3:
        study.tell(t, state=optuna.trial.TrialState.FAIL)
    else:
        study.tell(t, lr * n)
)PY";
  python(dir, "write", write_study, {optuna_url});
  json before = read_with_optuna(dir, optuna_url, "optuna-made");
  ASSERT_EQ(before["trials"].size(), 5u);

  StudyOptions options;
  options.name = "optuna-made";
  options.direction = Direction::Maximize;
  options.space = SearchSpace::from_config_json(json::parse(R"({
    "lr":   {"type": "float",  "low": 1e-4, "high": 1, "scale": "log"},
    "n":    {"type": "int",    "low": 1, "high": 10},
    "kind": {"type": "choice", "values": ["a", "b", "c"]}
  })"));
  options.sampler.seed = 5;
  auto storage = open_storage(url);
  Study study(storage, options);
  {
    auto trials = study.trials();
    ASSERT_EQ(trials.size(), 5u);
    expect_same_trials(trials, before);
    EXPECT_EQ(trials[0].intermediate, (std::map<std::int64_t, double>{{0, 0.1}, {1, 0.2}}));
    EXPECT_EQ(trials[2].state, TrialState::Pruned);
    EXPECT_EQ(trials[3].state, TrialState::Failed);
    json p = trial_to_json(trials[1])["params"];
    EXPECT_TRUE(p["n"].is_number_integer());
    EXPECT_TRUE(p["kind"].is_string());
  }
  for (int i = 0; i < 3; ++i) {
    auto t = study.ask();
    ASSERT_TRUE(t);
    EXPECT_EQ(t->number(), 5 + i);
    wire(study, *t);
    t->report(0, 0.5 * i);
    double v = t->float_param("lr") * static_cast<double>(t->int_param("n"));
    if (t->choice("kind") == "c") v += 1;
    study.tell(*t, v);
  }
  json after = read_with_optuna(dir, optuna_url, "optuna-made");
  EXPECT_EQ(after["direction"], "MAXIMIZE");
  ASSERT_EQ(after["trials"].size(), 8u);
  expect_same_trials(study.trials(), after);
  auto best = study.best();
  ASSERT_TRUE(best);
  EXPECT_EQ(after["best_number"], best->number);
  EXPECT_EQ(after["best_value"], *best->value);

  // Optuna enqueues; caviar's next ask() claims exactly that trial and those params.
  const char* enqueue = R"PY(
import sys
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.load_study(study_name="optuna-made", storage=sys.argv[1])
study.enqueue_trial({"lr": 0.00123, "n": 7, "kind": "b"})
)PY";
  python(dir, "enqueue", enqueue, {optuna_url});
  EXPECT_EQ(study.counts().waiting, 1);
  auto t = study.ask();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->number(), 8);
  EXPECT_EQ(t->params_json(), json({{"lr", 0.00123}, {"n", 7}, {"kind", "b"}}));
  EXPECT_EQ(t->float_param("lr"), 0.00123);
  EXPECT_EQ(t->int_param("n"), 7);
  study.tell(*t, 42.0);
  EXPECT_EQ(study.counts().waiting, 0);
  json last = read_with_optuna(dir, optuna_url, "optuna-made");
  ASSERT_EQ(last["trials"].size(), 9u);
  const json& claimed = last["trials"][8];
  EXPECT_EQ(claimed["number"], 8);
  EXPECT_EQ(claimed["state"], "COMPLETE");
  EXPECT_EQ(claimed["value"], 42.0);
  EXPECT_EQ(claimed["params"], json({{"lr", 0.00123}, {"n", 7}, {"kind", "b"}}));
  EXPECT_EQ(claimed["types"]["n"], "int");
  EXPECT_EQ(last["best_number"], 8);
  expect_same_trials(study.trials(), last);
}

// 3. Files that are not study stores: refused with the file named, by the library and the
// command line (exit 2, "caviar: <path>: ..."), and never changed.

TEST(OptunaInterop, CaviarContinuesAnOptunaStudy) {
  TempDir dir;
  caviar_continues_an_optuna_study(dir, url_of(dir / "b.db"), url_of(dir / "b.db"));
}

// Optuna's tables as SQLAlchemy makes them on PostgreSQL (enum types, its own sequences).
TEST(OptunaInterop, CaviarContinuesAnOptunaStudyOnPostgres) {
  ASSERT_TRUE(caviar::testing::postgres_available());
  caviar::testing::PostgresDatabase db;
  TempDir dir;
  caviar_continues_an_optuna_study(dir, "postgresql+psycopg2:///" + db.name(), db.url());
  // caviar's first write added the indexes its queries need.
  EXPECT_EQ(caviar::testing::postgres_query("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'ix_caviar_%'",
                                            db.name()),
            "2");
}

TEST(OptunaInterop, TextFileIsRefused) {
  TempDir dir;
  fs::path file = dir / "notes.db";
  std::string text = "these are my notes, not a database\n";
  for (int i = 0; i < 6; ++i) text += text;
  write_file(file, text);
  try {
    open_storage(url_of(file));
    FAIL() << "no StorageError";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a SQLite database"), std::string::npos) << e.what();
  }
  Result r = run(dir.path, {CAVIAR_BINARY, "trials", "--storage", url_of(file), "--study", "x"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("caviar: " + file.string() + ": ", 0), 0u) << r.err;
  EXPECT_EQ(read_file(file), text);  // untouched
  EXPECT_FALSE(fs::exists(file.string() + "-wal"));
}

TEST(OptunaInterop, UnrelatedSqliteDatabaseIsRefused) {
  TempDir dir;
  fs::path file = dir / "other.db";
  python(dir, "make_other", R"PY(
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("CREATE TABLE recipes (name TEXT, minutes INTEGER)")
c.execute("INSERT INTO recipes VALUES ('soup', 30)")
c.commit()
c.close()
)PY", {file.string()});
  std::string bytes = read_file(file);
  ASSERT_FALSE(bytes.empty());
  try {
    open_storage(url_of(file));
    FAIL() << "no StorageError";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.where(), file.string());
    EXPECT_NE(e.why().find("neither a caviar nor an Optuna"), std::string::npos) << e.what();
  }
  Result r = run(dir.path, {CAVIAR_BINARY, "trials", "--storage", url_of(file), "--study", "x"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("caviar: " + file.string() + ": ", 0), 0u) << r.err;
  EXPECT_EQ(read_file(file), bytes);  // not even switched to WAL
}

TEST(OptunaInterop, MissingFolderIsRefused) {
  TempDir dir;
  fs::path file = dir / "no" / "such" / "folder" / "c.db";
  try {
    open_storage(url_of(file));
    FAIL() << "no StorageError";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "no" / "such" / "folder").string()), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "no"));
  Result r = run(dir.path, {CAVIAR_BINARY, "trials", "--storage", url_of(file), "--study", "x"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("caviar: ", 0), 0u) << r.err;
  EXPECT_FALSE(fs::exists(dir / "no"));
}

// An Optuna database that caviar cannot use (a schema revision it does not know) and one it
// can, asked for a study that is not there: both commands fail, and the data stay as Optuna
// wrote them.
TEST(OptunaInterop, FailedCommandsLeaveAnOptunaDatabaseAlone) {
  TempDir dir;
  fs::path file = dir / "optuna.db";
  const std::string url = url_of(file);
  python(dir, "write", R"PY(
import sys
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(study_name="mine", storage=sys.argv[1])
study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=4)
)PY", {url});
  const char* dump = R"PY(
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for line in c.iterdump():
    print(line)
)PY";
  auto content = [&] { return python(dir, "dump", dump, {file.string()}).out; };
  const std::string original = content();
  ASSERT_NE(original.find("INSERT INTO \"trials\""), std::string::npos);
  const std::string original_bytes = read_file(file);

  // A study that is not there: exit 2, nothing written.
  Result r = run(dir.path, {CAVIAR_BINARY, "trials", "--storage", url, "--study", "yours"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("caviar: study 'yours': not found", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("mine"), std::string::npos) << r.err;  // names the studies it holds
  EXPECT_EQ(content(), original);
  // The bytes too: a read-only command that fails must not even switch the journal mode
  // (a regression test: caviar once switched every file it opened to WAL before looking
  // anything up, turning Optuna's rollback-journal file into a WAL file, which breaks users
  // who share it over NFS; it now switches on the first write only).
  EXPECT_TRUE(read_file(file) == original_bytes)
      << "the file's bytes changed (journal mode switched to WAL by a failed read-only command)";
  EXPECT_FALSE(fs::exists(file.string() + "-wal"));
  EXPECT_EQ(read_with_optuna(dir, url, "mine")["trials"].size(), 4u);

  // An unknown schema revision: refused by name, data unchanged.
  python(dir, "revise", R"PY(
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("UPDATE alembic_version SET version_num = 'v9.9.9.z'")
c.commit()
)PY", {file.string()});
  const std::string revised = content();
  try {
    open_storage(url);
    FAIL() << "no StorageError";
  } catch (const StorageError& e) {
    EXPECT_EQ(e.where(), file.string());
    EXPECT_NE(e.why().find("v9.9.9.z"), std::string::npos) << e.what();
  }
  r = run(dir.path, {CAVIAR_BINARY, "trials", "--storage", url, "--study", "mine"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("caviar: " + file.string() + ": ", 0), 0u) << r.err;
  EXPECT_EQ(content(), revised);
}
