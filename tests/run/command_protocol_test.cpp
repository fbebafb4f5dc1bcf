// The trial command protocol (docs/protocol.md), end to end through the library: real
// subprocesses, real signals, real process groups, a real SQLite file where it matters.
//
// Each test runs a CommandObjective with make_command_executor under a Tuner, on a Study
// in a fresh temporary folder, and checks what the child saw (argv, environment, params
// file) and what the storage kept (state, value, intermediate values, failure reason).
#include <gtest/gtest.h>

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "caviar/config.h"
#include "caviar/error.h"
#include "caviar/executor.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "support/files.h"
#include "support/processes.h"
#include "caviar/tuner.h"

using namespace caviar;
namespace fs = std::filesystem;

namespace {

using caviar::testing::TempDir;
using caviar::testing::wait_gone;
using caviar::testing::read_file;
using caviar::testing::write_file;

using SteadyClock = std::chrono::steady_clock;

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

Parameter float_param(std::string name, double low, double high, Scale scale = Scale::Linear) {
  Parameter p;
  p.name = std::move(name);
  p.type = ParamType::Float;
  p.low = low, p.high = high, p.scale = scale;
  return p;
}

Parameter int_param(std::string name, double low, double high) {
  Parameter p;
  p.name = std::move(name);
  p.type = ParamType::Int;
  p.low = low, p.high = high;
  return p;
}

Parameter choice_param(std::string name, std::vector<json> choices) {
  Parameter p;
  p.name = std::move(name);
  p.type = ParamType::Choice;
  p.choices = std::move(choices);
  return p;
}

CommandObjective objective(std::vector<std::string> argv, std::string metric = "val_loss") {
  CommandObjective o;
  o.argv = std::move(argv);
  o.metric = std::move(metric);
  o.grace = std::chrono::milliseconds(1000);
  return o;
}

CommandObjective shell(const std::string& script, std::string metric = "val_loss") {
  return objective({"/bin/sh", "-c", script}, std::move(metric));
}

// Runs `queue.size()` trials (with those fixed params, or `n` sampled ones) of `obj`
// on a study in `dir` and returns the stored trials, by number.
struct Outcome {
  std::vector<TrialRecord> trials;
  double seconds = 0;
  fs::path trial_root;
  fs::path dir(int number) const {
    char name[16];
    std::snprintf(name, sizeof name, "%04d", number);
    return trial_root / name;
  }
};

Outcome run_study(const fs::path& dir, const CommandObjective& obj, const SearchSpace& space,
                  const std::vector<json>& queue, int n = 0, std::shared_ptr<Storage> storage = nullptr,
                  const std::string& study_name = "proto") {
  if (!storage) storage = make_memory_storage();
  StudyOptions so;
  so.name = study_name;
  so.space = space;
  so.budget = queue.empty() ? n : static_cast<int>(queue.size());
  so.sampler.seed = 7;
  Study study(storage, so);
  for (const auto& q : queue) study.enqueue(q);
  auto executor = make_command_executor(obj, space);
  TuneOptions to;
  to.parallel = 1;
  to.trial_root = dir / "runs";
  Tuner tuner(study, *executor, to);
  auto start = SteadyClock::now();
  tuner.run();
  Outcome out;
  out.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  out.trials = study.trials();
  std::sort(out.trials.begin(), out.trials.end(),
            [](const TrialRecord& a, const TrialRecord& b) { return a.number < b.number; });
  out.trial_root = to.trial_root;
  return out;
}

SearchSpace one_float_space() { return SearchSpace({float_param("x", 0, 1)}); }

TrialRecord run_one(const fs::path& dir, const CommandObjective& obj, double* seconds = nullptr) {
  Outcome out = run_study(dir, obj, one_float_space(), {json{{"x", 0.5}}});
  EXPECT_EQ(out.trials.size(), 1u);
  if (seconds) *seconds = out.seconds;
  return out.trials.empty() ? TrialRecord{} : out.trials[0];
}

pid_t read_pid(const fs::path& file) {
  std::string text = read_file(file);
  return text.empty() ? 0 : static_cast<pid_t>(std::stol(text));
}

}  // namespace

// ---------------------------------------------------------------- argv placeholders

TEST(ProtocolArgv, PlaceholdersFilledVerbatimWithoutAShell) {
  TempDir tmp;
  SearchSpace space({float_param("lr", 1e-5, 1, Scale::Log), choice_param("batch", {32, 64, 128}),
                     choice_param("opt", {"sgd", "adam"})});
  // The arguments reach the child as they are: had caviar gone through a shell, $HOME,
  // `id` and * would be expanded and "a b" split.
  CommandObjective obj = shell(R"(printf '%s\n' "$@" > "$CAVIAR_TRIAL_DIR/argv.txt"; echo val_loss=1)");
  obj.argv.insert(obj.argv.end(), {"sh", "--lr", "{lr}", "--batch", "{batch}", "--opt", "{opt}",
                                   "--trial", "{trial}", "--study", "{study}", "--dir", "{trial_dir}",
                                   "a b $HOME `id` ;|*", "pre{lr}-{batch}post", "{{notaplaceholder"});
  std::vector<json> queue = {json{{"lr", 0.0125}, {"batch", 64}, {"opt", "adam"}}};
  Outcome fixed = run_study(tmp.path() / "fixed", obj, space, queue, 0, nullptr, "argv-study");
  ASSERT_EQ(fixed.trials.size(), 1u);
  ASSERT_EQ(fixed.trials[0].state, TrialState::Complete) << fixed.trials[0].reason();
  fs::path dir = fixed.dir(0);
  std::vector<std::string> args = read_lines(dir / "argv.txt");
  std::vector<std::string> want = {"--lr", "0.0125", "--batch", "64", "--opt", "adam",
                                   "--trial", "0", "--study", "argv-study", "--dir", dir.string(),
                                   "a b $HOME `id` ;|*", "pre0.0125-64post", "{{notaplaceholder"};
  EXPECT_EQ(args, want);
}

TEST(ProtocolArgv, SampledLogFloatIsShortestRoundTripText) {
  TempDir tmp;
  SearchSpace space({float_param("lr", 1e-5, 1, Scale::Log)});
  CommandObjective obj = shell(R"(printf '%s\n' "$1" > "$CAVIAR_TRIAL_DIR/lr.txt"; echo val_loss=1)");
  obj.argv.insert(obj.argv.end(), {"sh", "{lr}"});
  Outcome out = run_study(tmp.path(), obj, space, {}, 5);
  ASSERT_EQ(out.trials.size(), 5u);
  for (const auto& t : out.trials) {
    ASSERT_EQ(t.state, TrialState::Complete) << t.reason();
    double stored = t.params.at("lr");
    std::vector<std::string> lines = read_lines(out.dir(t.number) / "lr.txt");
    ASSERT_EQ(lines.size(), 1u);
    const std::string& text = lines[0];
    // Round-trips exactly ...
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), stored) << text;
    // ... and no shorter text would: it is the shortest such form (%.17g is not).
    char shortest[64] = {};
    for (int digits = 1; digits <= 17; ++digits) {
      std::snprintf(shortest, sizeof shortest, "%.*g", digits, stored);
      if (std::strtod(shortest, nullptr) == stored) break;
    }
    std::string digits_text = text.substr(0, text.find_first_of("eE"));
    std::string digits_short = std::string(shortest).substr(0, std::string(shortest).find_first_of("eE"));
    auto count_digits = [](const std::string& s) {
      std::string d;
      for (char c : s) if (std::isdigit(static_cast<unsigned char>(c))) d += c;
      d.erase(0, d.find_first_not_of('0'));
      d.erase(d.find_last_not_of('0') + 1);
      return d.size();
    };
    EXPECT_EQ(count_digits(digits_text), count_digits(digits_short)) << text << " vs " << shortest;
  }
}

// ---------------------------------------------------------------- environment and files

TEST(ProtocolEnv, ParamsInEnvironmentAndParamsFileAndLogs) {
  TempDir tmp;
  SearchSpace space({int_param("hidden_units", 16, 1024), float_param("lr", 1e-5, 1, Scale::Log),
                     choice_param("opt", {"sgd", "adam"})});
  fs::path script = tmp.path() / "dump_env.py";
  write_file(script, R"(import json, os, sys
env = {k: v for k, v in os.environ.items() if k.startswith("CAVIAR_")}
with open(os.path.join(os.environ["CAVIAR_TRIAL_DIR"], "env.json"), "w") as f:
    json.dump(env, f)
print("hello from stdout")
print("warning from stderr", file=sys.stderr)
print("val_loss=0.25")
)");
  CommandObjective obj = objective({"/usr/bin/python3", script.string()});
  // A value inherited from a parent trial must not leak into this one.
  setenv("CAVIAR_PARAM_STALE_FROM_PARENT", "1", 1);
  Outcome out = run_study(tmp.path(), obj, space,
                          {json{{"hidden_units", 128}, {"lr", 0.001}, {"opt", "adam"}}}, 0, nullptr, "env-study");
  unsetenv("CAVIAR_PARAM_STALE_FROM_PARENT");
  ASSERT_EQ(out.trials.size(), 1u);
  const TrialRecord& t = out.trials[0];
  ASSERT_EQ(t.state, TrialState::Complete) << t.reason();
  EXPECT_EQ(t.value, 0.25);
  fs::path dir = out.dir(0);
  json env = json::parse(read_file(dir / "env.json"));
  EXPECT_EQ(env.value("CAVIAR_PARAM_HIDDEN_UNITS", ""), "128");
  EXPECT_EQ(env.value("CAVIAR_PARAM_LR", ""), "0.001");
  EXPECT_EQ(env.value("CAVIAR_PARAM_OPT", ""), "adam");
  EXPECT_EQ(env.value("CAVIAR_STUDY", ""), "env-study");
  EXPECT_EQ(env.value("CAVIAR_TRIAL", ""), "0");
  EXPECT_EQ(fs::weakly_canonical(env.value("CAVIAR_TRIAL_DIR", "")), fs::weakly_canonical(dir));
  EXPECT_FALSE(env.contains("CAVIAR_PARAM_STALE_FROM_PARENT"));
  ASSERT_TRUE(env.contains("CAVIAR_PARAMS_FILE"));
  json params = json::parse(read_file(env["CAVIAR_PARAMS_FILE"].get<std::string>()));
  EXPECT_EQ(params, (json{{"hidden_units", 128}, {"lr", 0.001}, {"opt", "adam"}}));
  EXPECT_TRUE(params["hidden_units"].is_number_integer()) << params.dump();
  std::string stdout_log = read_file(dir / "stdout.log"), stderr_log = read_file(dir / "stderr.log");
  EXPECT_NE(stdout_log.find("hello from stdout"), std::string::npos) << stdout_log;
  EXPECT_NE(stdout_log.find("val_loss=0.25"), std::string::npos) << stdout_log;
  EXPECT_EQ(stdout_log.find("warning from stderr"), std::string::npos) << stdout_log;
  EXPECT_NE(stderr_log.find("warning from stderr"), std::string::npos) << stderr_log;
  EXPECT_EQ(stderr_log.find("hello"), std::string::npos) << stderr_log;
}

// ---------------------------------------------------------------- metric lines

TEST(ProtocolMetrics, IntermediateValuesAtStepsAndLastValueInSqlite) {
  TempDir tmp;
  auto storage = open_storage("sqlite:///" + (tmp.path() / "study.db").string());
  CommandObjective obj = shell(
      "echo 'starting up'; echo 'epoch=1 val_loss=0.5 val_acc=0.7'; echo 'loss is going down';"
      "echo 'epoch=2 val_loss=0.4 val_acc=0.8'; echo 'epoch=3 val_loss=0.31 val_acc=0.88'; echo 'done'");
  Outcome out = run_study(tmp.path(), obj, one_float_space(), {json{{"x", 0.5}}}, 0, storage);
  ASSERT_EQ(out.trials.size(), 1u);
  // Read back through a second connection: the values are in the file, not in memory.
  auto reread = open_storage("sqlite:///" + (tmp.path() / "study.db").string());
  auto record = reread->find_study("proto");
  ASSERT_TRUE(record);
  auto t = reread->trial(record->id, 0);
  ASSERT_TRUE(t);
  ASSERT_EQ(t->state, TrialState::Complete) << t->reason();
  ASSERT_TRUE(t->value);
  EXPECT_DOUBLE_EQ(*t->value, 0.31);
  std::map<std::int64_t, double> want = {{1, 0.5}, {2, 0.4}, {3, 0.31}};
  EXPECT_EQ(t->intermediate, want);
  std::string log = read_file(out.dir(0) / "stdout.log");
  EXPECT_NE(log.find("starting up"), std::string::npos);
  EXPECT_NE(log.find("loss is going down"), std::string::npos);
  EXPECT_NE(log.find("done"), std::string::npos);
}

TEST(ProtocolMetrics, StepsAutoNumberWithoutStepKey) {
  TempDir tmp;
  CommandObjective obj = shell("echo val_loss=0.9; echo noise=3; echo 'val_loss=0.8 val_acc=0.1'; echo val_loss=0.7");
  TrialRecord t = run_one(tmp.path(), obj);
  ASSERT_EQ(t.state, TrialState::Complete) << t.reason();
  EXPECT_EQ(t.value, 0.7);
  std::map<std::int64_t, double> want = {{1, 0.9}, {2, 0.8}, {3, 0.7}};
  EXPECT_EQ(t.intermediate, want);
}

TEST(ProtocolMetrics, MetricKeyMustMatchExactly) {
  TempDir tmp;
  // "val_loss_ema" and "my_val_loss" are other keys; only val_loss counts.
  CommandObjective obj = shell("echo 'val_loss_ema=5 my_val_loss=6'; echo 'val_loss=0.125'");
  TrialRecord t = run_one(tmp.path(), obj);
  ASSERT_EQ(t.state, TrialState::Complete) << t.reason();
  EXPECT_EQ(t.value, 0.125);
  EXPECT_EQ(t.intermediate.size(), 1u);
}

// ---------------------------------------------------------------- failures

TEST(ProtocolFailure, NonZeroExitStoresCodeAndLastStderrLines) {
  TempDir tmp;
  CommandObjective obj = shell("echo val_loss=0.1; echo 'first problem' >&2; echo 'CUDA out of memory' >&2; exit 3");
  TrialRecord t = run_one(tmp.path(), obj);
  EXPECT_EQ(t.state, TrialState::Failed);
  std::string reason = t.reason();
  EXPECT_NE(reason.find("exit code 3"), std::string::npos) << reason;
  EXPECT_NE(reason.find("CUDA out of memory"), std::string::npos) << reason;
  EXPECT_NE(reason.find("first problem"), std::string::npos) << reason;
  EXPECT_TRUE(t.counted());
}

TEST(ProtocolFailure, KilledBySignalNamesTheSignal) {
  TempDir tmp;
  TrialRecord t = run_one(tmp.path(), shell("echo val_loss=0.1; kill -KILL $$"));
  EXPECT_EQ(t.state, TrialState::Failed);
  EXPECT_NE(t.reason().find("SIGKILL"), std::string::npos) << t.reason();
  TempDir tmp2;
  TrialRecord u = run_one(tmp2.path(), shell("kill -SEGV $$"));
  EXPECT_EQ(u.state, TrialState::Failed);
  EXPECT_NE(u.reason().find("SIGSEGV"), std::string::npos) << u.reason();
}

TEST(ProtocolFailure, MetricNeverPrinted) {
  TempDir tmp;
  TrialRecord t = run_one(tmp.path(), shell("echo 'val_acc=0.9'; echo 'loss=0.3'"));
  EXPECT_EQ(t.state, TrialState::Failed);
  EXPECT_FALSE(t.value);
  EXPECT_NE(t.reason().find("val_loss"), std::string::npos) << t.reason();
  EXPECT_NE(t.reason().find("never"), std::string::npos) << t.reason();
}

TEST(ProtocolFailure, NanValueFails) {
  TempDir tmp;
  TrialRecord t = run_one(tmp.path(), shell("echo epoch=1 val_loss=0.5; echo epoch=2 val_loss=nan"));
  EXPECT_EQ(t.state, TrialState::Failed);
  EXPECT_FALSE(t.value);
  std::string reason = t.reason();
  EXPECT_NE(reason.find("nan"), std::string::npos) << reason;
  EXPECT_NE(reason.find("val_loss"), std::string::npos) << reason;
}

TEST(ProtocolFailure, InfiniteValueFails) {
  TempDir tmp;
  TrialRecord t = run_one(tmp.path(), shell("echo val_loss=inf"));
  EXPECT_EQ(t.state, TrialState::Failed);
  EXPECT_FALSE(t.value);
  EXPECT_NE(t.reason().find("inf"), std::string::npos) << t.reason();
  TempDir tmp2;
  TrialRecord u = run_one(tmp2.path(), shell("echo val_loss=-inf"));
  EXPECT_EQ(u.state, TrialState::Failed);
  EXPECT_FALSE(u.value);
}

TEST(ProtocolFailure, MalformedMetricNamesTheLine) {
  TempDir tmp;
  double seconds = 0;
  // The trial would run 30 s more: a malformed metric ends it at once.
  TrialRecord t = run_one(tmp.path(), shell("echo hello; echo 'epoch=1 val_loss=abc'; sleep 30; echo val_loss=1"), &seconds);
  EXPECT_EQ(t.state, TrialState::Failed);
  std::string reason = t.reason();
  EXPECT_NE(reason.find("val_loss=abc"), std::string::npos) << reason;
  EXPECT_NE(reason.find("line 2"), std::string::npos) << reason;
  EXPECT_LT(seconds, 5.0);
  TempDir tmp2;
  TrialRecord u = run_one(tmp2.path(), shell("echo 'epoch=x1 val_loss=0.5'"));
  EXPECT_EQ(u.state, TrialState::Failed);
  EXPECT_NE(u.reason().find("epoch=x1"), std::string::npos) << u.reason();
}

TEST(ProtocolFailure, TimeoutEndsTheTrial) {
  TempDir tmp;
  CommandObjective obj = objective({"sleep", "30"});
  obj.timeout = std::chrono::milliseconds(1000);
  obj.grace = std::chrono::milliseconds(1000);
  double seconds = 0;
  TrialRecord t = run_one(tmp.path(), obj, &seconds);
  EXPECT_EQ(t.state, TrialState::Failed);
  EXPECT_EQ(t.reason().rfind("timeout", 0), 0u) << t.reason();
  EXPECT_GE(seconds, 0.95);
  EXPECT_LT(seconds, 1.0 + 1.0 + 1.5);  // timeout + grace + slack
}

TEST(ProtocolFailure, TimeoutEscalatesToSigkillAfterGrace) {
  TempDir tmp;
  // Ignores SIGTERM: only SIGKILL after the grace period ends it.
  CommandObjective obj = shell("trap '' TERM; echo started; while :; do sleep 0.05; done");
  obj.timeout = std::chrono::milliseconds(500);
  obj.grace = std::chrono::milliseconds(700);
  double seconds = 0;
  TrialRecord t = run_one(tmp.path(), obj, &seconds);
  EXPECT_EQ(t.state, TrialState::Failed);
  EXPECT_EQ(t.reason().rfind("timeout", 0), 0u) << t.reason();
  EXPECT_GE(seconds, 1.1);
  EXPECT_LT(seconds, 3.5);
}

// ---------------------------------------------------------------- process groups

TEST(ProtocolProcessGroup, TimeoutEndsGrandchildrenToo) {
  TempDir tmp;
  CommandObjective obj = shell(R"(sleep 60 & echo $! > "$CAVIAR_TRIAL_DIR/pid"; wait)");
  obj.timeout = std::chrono::milliseconds(1000);
  TrialRecord t = run_one(tmp.path(), obj);
  EXPECT_EQ(t.state, TrialState::Failed);
  EXPECT_EQ(t.reason().rfind("timeout", 0), 0u) << t.reason();
  pid_t grandchild = read_pid(tmp.path() / "runs" / "0000" / "pid");
  ASSERT_GT(grandchild, 1);
  bool gone = wait_gone(grandchild, std::chrono::milliseconds(2000));
  if (!gone) kill(grandchild, SIGKILL);
  EXPECT_TRUE(gone) << "grandchild " << grandchild << " survived the trial's timeout";
}

TEST(ProtocolProcessGroup, LeftoverHoldingStdoutIsEndedAfterMainExits) {
  TempDir tmp;
  // The main process finishes with a value; a background child keeps the pipe open.
  CommandObjective obj = shell(R"(sleep 60 & echo $! > "$CAVIAR_TRIAL_DIR/pid"; echo val_loss=0.5)");
  double seconds = 0;
  TrialRecord t = run_one(tmp.path(), obj, &seconds);
  EXPECT_EQ(t.state, TrialState::Complete) << t.reason();
  EXPECT_EQ(t.value, 0.5);
  EXPECT_LT(seconds, 4.0);
  pid_t leftover = read_pid(tmp.path() / "runs" / "0000" / "pid");
  ASSERT_GT(leftover, 1);
  bool gone = wait_gone(leftover, std::chrono::milliseconds(2000));
  if (!gone) kill(leftover, SIGKILL);
  EXPECT_TRUE(gone);
}

TEST(ProtocolProcessGroup, TrialRunsInItsOwnProcessGroup) {
  TempDir tmp;
  // Field 5 of /proc/PID/stat is the process group.
  CommandObjective obj = shell(R"sh(set -- $(sed 's/.*) //' /proc/$$/stat); echo $3 > "$CAVIAR_TRIAL_DIR/pgid"; echo $$ > "$CAVIAR_TRIAL_DIR/pid"; echo val_loss=1)sh");
  TrialRecord t = run_one(tmp.path(), obj);
  ASSERT_EQ(t.state, TrialState::Complete) << t.reason();
  pid_t pid = read_pid(tmp.path() / "runs" / "0000" / "pid");
  pid_t pgid = read_pid(tmp.path() / "runs" / "0000" / "pgid");
  EXPECT_EQ(pid, pgid);
  EXPECT_NE(pgid, getpgrp());
}

// ---------------------------------------------------------------- conditional parameters

TEST(ProtocolConditional, AbsentParameterDropsFlagAndValue) {
  TempDir tmp;
  Parameter beta1 = float_param("beta1", 0.8, 0.99, Scale::ReverseLog);
  beta1.when = Condition::parse("opt == adam", "parameters.beta1.when");
  SearchSpace space({choice_param("opt", {"sgd", "adam"}), beta1});
  CommandObjective obj = shell(
      R"(printf '%s\n' "$@" > "$CAVIAR_TRIAL_DIR/argv.txt"; env | grep '^CAVIAR_PARAM_' | sort > "$CAVIAR_TRIAL_DIR/env.txt"; echo val_loss=1)");
  obj.argv.insert(obj.argv.end(), {"sh", "--opt", "{opt}", "--beta1", "{beta1}", "--last"});
  Outcome out = run_study(tmp.path(), obj, space,
                          {json{{"opt", "sgd"}}, json{{"opt", "adam"}, {"beta1", 0.9}}});
  ASSERT_EQ(out.trials.size(), 2u);
  ASSERT_EQ(out.trials[0].state, TrialState::Complete) << out.trials[0].reason();
  ASSERT_EQ(out.trials[1].state, TrialState::Complete) << out.trials[1].reason();
  EXPECT_EQ(read_lines(out.dir(0) / "argv.txt"), (std::vector<std::string>{"--opt", "sgd", "--last"}));
  EXPECT_EQ(read_lines(out.dir(1) / "argv.txt"),
            (std::vector<std::string>{"--opt", "adam", "--beta1", "0.9", "--last"}));
  EXPECT_EQ(read_lines(out.dir(0) / "env.txt"), (std::vector<std::string>{"CAVIAR_PARAM_OPT=sgd"}));
  EXPECT_EQ(read_lines(out.dir(1) / "env.txt"),
            (std::vector<std::string>{"CAVIAR_PARAM_BETA1=0.9", "CAVIAR_PARAM_OPT=adam"}));
  EXPECT_EQ(json::parse(read_file(out.dir(0) / "params.json")), (json{{"opt", "sgd"}}));
}

// ---------------------------------------------------------------- construction

TEST(ProtocolExecutor, MissingProgramIsAConfigError) {
  CommandObjective obj = objective({"caviar-no-such-program-xyz", "{x}"});
  try {
    make_command_executor(obj, one_float_space());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "objective.command[0]");
    EXPECT_NE(std::string(e.what()).find("caviar-no-such-program-xyz"), std::string::npos) << e.what();
  }
}
