// No input aborts caviar (issue 29): configs that are too big, endless, self-multiplying
// (YAML aliases), or that ask for absurd numbers are refused with one line "caviar:
// where: why" and exit 2, before anything is stored or started. The real binary, real
// files, a real FIFO.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/cli.h"
#include "support/files.h"

namespace fs = std::filesystem;
using caviar::testing::CliResult;
using caviar::testing::one_error_line;
using caviar::testing::run_caviar;
using caviar::testing::TempDir;
using caviar::testing::write_file;

namespace {

std::string config(const std::string& budget = "{trials: 1}", const std::string& extra = "",
                   const std::string& command = "[sh, -c, \"echo value=1\"]",
                   const std::string& study = "limits") {
  return "study: " + study + "\n"
         "storage: sqlite:///study.db\n"
         "metric: value\n"
         "objective:\n"
         "  command: " + command + "\n"
         "parameters:\n"
         "  x: {type: float, low: 0, high: 1}\n"
         "budget: " + budget + "\n" + extra;
}

// A refused config: exit 2, one line naming `where`, and no storage touched.
void expect_refused(const TempDir& dir, const std::vector<std::string>& args, const std::string& where) {
  CliResult r = run_caviar(dir.path(), args, std::chrono::seconds(30));
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(one_error_line(r, where));
  EXPECT_FALSE(fs::exists(dir / "study.db")) << "the study was written for a refused config";
  EXPECT_FALSE(fs::exists(dir / "caviar-runs")) << "trial folders were made for a refused config";
}

TEST(InputLimits, AGoodConfigRuns) {  // the baseline the refusals below differ from
  TempDir dir;
  write_file(dir / "cfg.yaml", config());
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  EXPECT_TRUE(fs::exists(dir / "study.db"));
}

TEST(InputLimits, AConfigOverOneMiBIsRefused) {
  TempDir dir;
  std::string text = config();
  while (text.size() <= (1 << 20)) text += "# filler filler filler filler filler filler filler filler\n";
  write_file(dir / "cfg.yaml", text);
  expect_refused(dir, {"tune", "cfg.yaml"}, "cfg.yaml: larger than 1024 KiB");
}

TEST(InputLimits, ExactlyOneMiBIsRead) {
  TempDir dir;
  std::string text = config();
  text += "#" + std::string((1 << 20) - text.size() - 2, 'x') + "\n";
  ASSERT_EQ(text.size(), std::size_t{1} << 20);
  write_file(dir / "cfg.yaml", text);
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"});
  EXPECT_EQ(r.rc, 0) << r.describe();
}

TEST(InputLimits, DevZeroIsReadOnlyUpToTheLimit) {
  TempDir dir;
  CliResult r = run_caviar(dir.path(), {"tune", "/dev/zero"}, std::chrono::seconds(20));
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(one_error_line(r, "/dev/zero: larger than 1024 KiB"));
  EXPECT_LT(r.seconds, 10);
  for (const char* command : {"trials", "best", "zoom", "ask"}) {
    std::vector<std::string> args = {command, "/dev/zero"};
    if (std::string(command) == "zoom") args.insert(args.end(), {"--out", "z.yaml"});
    r = run_caviar(dir.path(), args, std::chrono::seconds(20));
    EXPECT_EQ(r.rc, 2) << command << ": " << r.describe();
    EXPECT_TRUE(one_error_line(r, "/dev/zero")) << command;
  }
  EXPECT_FALSE(fs::exists(dir / "caviar.db"));
}

TEST(InputLimits, AFifoThatNeverEndsIsReadOnlyUpToTheLimit) {
  TempDir dir;
  const fs::path fifo = dir / "cfg.yaml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // A writer that never stops (`yes`); it dies of SIGPIPE once caviar closes its end.
  pid_t writer = fork();
  if (writer == 0) {
    int fd = open(fifo.c_str(), O_WRONLY);
    if (fd < 0) _exit(1);
    dup2(fd, 1);
    execlp("yes", "yes", "# an endless config", static_cast<char*>(nullptr));
    _exit(127);
  }
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml"}, std::chrono::seconds(20));
  kill(writer, SIGKILL);
  waitpid(writer, nullptr, 0);
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(one_error_line(r, "cfg.yaml: larger than 1024 KiB"));
  EXPECT_FALSE(fs::exists(dir / "caviar.db"));
}

TEST(InputLimits, AFifoWithAConfigIsRead) {  // process substitution, <(generate-config)
  TempDir dir;
  const fs::path fifo = dir / "cfg.yaml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string text = config();
  pid_t writer = fork();
  if (writer == 0) {
    int fd = open(fifo.c_str(), O_WRONLY);
    if (fd < 0) _exit(1);
    const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    _exit(ok ? 0 : 1);
  }
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"}, std::chrono::seconds(30));
  waitpid(writer, nullptr, 0);
  EXPECT_EQ(r.rc, 0) << r.describe();
}

TEST(InputLimits, AYamlAliasBombIsRefusedQuickly) {
  TempDir dir;
  // Nine levels of nine aliases of the level below: 9^9 = 387 million values once expanded.
  std::string bomb = "bomb:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int level = 1; level < 9; ++level) {
    std::string below = "*l" + std::to_string(level - 1);
    bomb += "  l" + std::to_string(level) + ": &l" + std::to_string(level) + " [";
    for (int i = 0; i < 9; ++i) bomb += (i ? ", " : "") + below;
    bomb += "]\n";
  }
  write_file(dir / "cfg.yaml", config("{trials: 1}", bomb));
  expect_refused(dir, {"tune", "cfg.yaml"}, "more than 100000 values");
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml"});
  EXPECT_LT(r.seconds, 10);
}

TEST(InputLimits, ManyAliasesOfALongTextAreRefused) {
  // A 1 MiB config holds 512 KiB aliased 100,000 times (under the count of values), 50 GB once
  // expanded. Here 64 KiB 1000 times: 64 MB, over the 16 MiB that a config's text may be.
  TempDir dir;
  std::string aliases = "long: &t " + std::string(64 * 1024, 'x') + "\nmany: [";
  for (int i = 0; i < 1000; ++i) aliases += i ? ",*t" : "*t";
  write_file(dir / "cfg.yaml", config("{trials: 1}", aliases + "]\n"));
  expect_refused(dir, {"tune", "cfg.yaml"}, "more than 16 MiB of text");
}

TEST(InputLimits, TextThatIsNotUtf8IsRefused) {
  TempDir dir;  // it would reach JSON, which throws on it (found by fuzzing)
  write_file(dir / "cfg.yaml", config("{trials: 1}", "note: caf\xe9\n"));
  expect_refused(dir, {"tune", "cfg.yaml"}, "note: not UTF-8 text (line 9)");
  write_file(dir / "cfg.yaml", config("{trials: 1}", "\"\\ud800\": 1\n"));  // yaml-cpp's own check
  expect_refused(dir, {"tune", "cfg.yaml"}, "not valid YAML: invalid unicode");
}

TEST(InputLimits, AliasesWithinReasonStillWork) {
  TempDir dir;
  write_file(dir / "cfg.yaml",
             "study: aliases\nstorage: sqlite:///study.db\nmetric: value\n"
             "objective: {command: [sh, -c, \"echo value=1\"]}\n"
             "parameters:\n  x: &unit {type: float, low: 0, high: 1}\n  y: *unit\n"
             "budget: {trials: 1}\n");
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"});
  EXPECT_EQ(r.rc, 0) << r.describe();
}

TEST(InputLimits, NestingIsBounded) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config("{trials: 1}", "deep: " + std::string(100, '[') + std::string(100, ']') + "\n"));
  expect_refused(dir, {"tune", "cfg.yaml"}, "nested more than 64 levels deep");
}

TEST(InputLimits, ParallelIsBoundedBeforeTheStudyIsWritten) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config("{trials: 1, parallel: 1000000}"));
  expect_refused(dir, {"tune", "cfg.yaml"}, "budget.parallel: must be a whole number from 1 to 1024");
  write_file(dir / "cfg.yaml", config("{trials: 1, parallel: 1025}"));
  expect_refused(dir, {"tune", "cfg.yaml"}, "budget.parallel");
  write_file(dir / "cfg.yaml", config());
  expect_refused(dir, {"tune", "cfg.yaml", "--parallel", "1000000"}, "--parallel: must be a whole number from 1 to 1024");
}

TEST(InputLimits, TrialsAreBounded) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config("{trials: 1000000000000}"));
  expect_refused(dir, {"tune", "cfg.yaml"}, "budget.trials: must be a whole number from 1 to 1000000");
  write_file(dir / "cfg.yaml", config());
  expect_refused(dir, {"tune", "cfg.yaml", "--trials", "1000001"}, "--trials");
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "--trials", "99999999999999999999999"});
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_FALSE(fs::exists(dir / "study.db"));
}

TEST(InputLimits, APbtPopulationIsBounded) {
  TempDir dir;  // a billion members hung caviar (looped over, never trained)
  write_file(dir / "cfg.yaml", config("{trials: 3}", "scheduler: {name: pbt, population: 1000000000, max_steps: 2}\n"));
  expect_refused(dir, {"tune", "cfg.yaml"}, "scheduler.population: at most 10000");
}

TEST(InputLimits, DurationsAreBoundedAndOverflowChecked) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config("{trials: 1, time: 9999999999999d}"));
  expect_refused(dir, {"tune", "cfg.yaml"}, "budget.time: at most 366d");
  write_file(dir / "cfg.yaml", config("{trials: 1, time: 1e300}"));
  expect_refused(dir, {"tune", "cfg.yaml"}, "budget.time");
  write_file(dir / "cfg.yaml", config("{trials: 1}", "heartbeat: 367d\n"));
  expect_refused(dir, {"tune", "cfg.yaml"}, "heartbeat");
  // 300,000 digits: std::regex overflowed its stack on this (SIGSEGV).
  write_file(dir / "cfg.yaml", config("{trials: 1, time: \"" + std::string(300000, '9') + "s\"}"));
  expect_refused(dir, {"tune", "cfg.yaml"}, "budget.time");
  // and a year is still a duration
  write_file(dir / "cfg.yaml", config("{trials: 1, time: 366d}"));
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"});
  EXPECT_EQ(r.rc, 0) << r.describe();
}

TEST(InputLimits, ALongPlaceholderNameIsRefusedNotACrash) {
  TempDir dir;  // the executor's std::regex overflowed its stack on this (SIGSEGV)
  write_file(dir / "cfg.yaml", config("{trials: 1}", "", "[sh, -c, \"echo value=1\", \"{" + std::string(60000, 'a') + "\"]"));
  expect_refused(dir, {"tune", "cfg.yaml"}, "objective.command[3]: a '{' followed by 60000 name characters");
}

TEST(InputLimits, StudyNamesAreBounded) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config("{trials: 1}", "", "[sh, -c, \"echo value=1\"]", std::string(513, 'n')));
  expect_refused(dir, {"tune", "cfg.yaml"}, "study: a name of 513 characters; a study's name is at most 512");
  write_file(dir / "cfg.yaml", config());
  expect_refused(dir, {"tune", "cfg.yaml", "--study", std::string(100000, 'n')}, "--study");
  expect_refused(dir, {"tune", "cfg.yaml", "--study", "two\nlines"}, "--study: the name holds a control character");
}

TEST(InputLimits, ANulByteIsNotText) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config() + std::string("\0\0\n", 3));
  expect_refused(dir, {"tune", "cfg.yaml"}, "cfg.yaml: not a text file");
}

TEST(InputLimits, OverridesLeaveAStoredStudyAsItWas) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config("{trials: 2}"));
  ASSERT_EQ(run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"}).rc, 0);
  CliResult before = run_caviar(dir.path(), {"export", "cfg.yaml"});
  ASSERT_EQ(before.rc, 0) << before.describe();
  for (std::vector<std::string> bad : {std::vector<std::string>{"--parallel", "5000"},
                                       std::vector<std::string>{"--trials", "2000000"}}) {
    std::vector<std::string> args = {"tune", "cfg.yaml"};
    args.insert(args.end(), bad.begin(), bad.end());
    CliResult r = run_caviar(dir.path(), args);
    EXPECT_EQ(r.rc, 2) << r.describe();
    EXPECT_TRUE(one_error_line(r, bad[0]));
  }
  EXPECT_EQ(run_caviar(dir.path(), {"export", "cfg.yaml"}).out, before.out);
}

TEST(InputLimits, NoThreadsLeftIsAnErrorNotAnAbort) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config("{trials: 1, parallel: 1024}"));
  // 2 GiB of address space holds nowhere near 1024 thread stacks of 8 MiB.
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"}, std::chrono::seconds(60), [] {
    rlimit limit{rlim_t{2} << 30, rlim_t{2} << 30};
    setrlimit(RLIMIT_AS, &limit);
  });
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(one_error_line(r, "parallel: the system refused thread"));
}

}  // namespace
