// A study's search space may not change under it unnoticed (issue 29): `caviar tune` on a
// study stored with other parameters is refused with what changed, unless
// --allow-space-change, which keeps the old space in the study. The real binary and SQLite.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "caviar/study.h"
#include "support/cli.h"
#include "support/files.h"

using json = nlohmann::json;
using caviar::testing::CliResult;
using caviar::testing::one_error_line;
using caviar::testing::run_caviar;
using caviar::testing::TempDir;
using caviar::testing::write_file;

namespace {

std::string config(const std::string& parameters, int trials = 2) {
  return "study: space\n"
         "storage: sqlite:///study.db\n"
         "metric: value\n"
         "objective: {command: [sh, -c, \"echo value=1\"]}\n"
         "parameters:\n" + parameters +
         "budget: {trials: " + std::to_string(trials) + "}\n";
}

const std::string kOld = "  lr: {type: float, low: 1e-5, high: 1, scale: log}\n"
                         "  opt: {type: choice, values: [sgd, adam]}\n";

json exported(const TempDir& dir) {
  CliResult r = run_caviar(dir.path(), {"export", "cfg.yaml"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  return json::parse(r.out);
}

TEST(SpaceChange, IsRefusedWithWhatChanged) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config(kOld));
  ASSERT_EQ(run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"}).rc, 0);
  const json before = exported(dir);

  write_file(dir / "cfg.yaml", config("  lr: {type: int, low: 1, high: 10}\n"
                                      "  wd: {type: float, low: 0, high: 0.1}\n", 4));
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"});
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(one_error_line(r, "caviar: parameters: study 'space' was run with other parameters"));
  EXPECT_NE(r.err.find("parameters.lr: was float [1e-05, 1] log, now int [1, 10]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("parameters.wd: new, float [0, 0.1]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("parameters.opt: removed (was choice [sgd, adam])"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow-space-change"), std::string::npos) << r.err;
  // nothing stored changed: no trial run, the old space kept
  EXPECT_EQ(exported(dir), before);

  // ask starts trials too: the same refusal
  r = run_caviar(dir.path(), {"ask", "cfg.yaml"});
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(one_error_line(r, "parameters.lr: was float"));
  EXPECT_EQ(exported(dir), before);
}

TEST(SpaceChange, AllowedWhenAskedForAndRecorded) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config(kOld));
  ASSERT_EQ(run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"}).rc, 0);
  const json old_space = exported(dir)["system_attrs"]["caviar:space"];

  write_file(dir / "cfg.yaml", config("  lr: {type: float, low: 1e-4, high: 1, scale: log}\n"
                                      "  opt: {type: choice, values: [sgd, adam]}\n", 4));
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "-q", "--allow-space-change"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  const json doc = exported(dir);
  EXPECT_EQ(doc["trials"].size(), 4u);
  const json& attrs = doc["system_attrs"];
  EXPECT_EQ(attrs["caviar:space"][0]["low"], 1e-4);
  ASSERT_TRUE(attrs.contains("caviar:space_changes")) << attrs.dump(2);
  const json& changes = attrs["caviar:space_changes"];
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0]["old"], old_space);
  EXPECT_EQ(changes[0]["changes"], json::array({"parameters.lr: was float [1e-05, 1] log, now float [1e-04, 1] log"}));
  const std::string when = changes[0].value("changed", "");
  EXPECT_EQ(when.size(), 20u) << when;  // 2025-01-31T12:00:00Z
  EXPECT_EQ(when.back(), 'Z') << when;

  // From then on the new space is the study's: no flag needed, and nothing more recorded.
  write_file(dir / "cfg.yaml", config("  lr: {type: float, low: 1e-4, high: 1, scale: log}\n"
                                      "  opt: {type: choice, values: [sgd, adam]}\n", 5));
  r = run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  EXPECT_EQ(exported(dir)["system_attrs"]["caviar:space_changes"].size(), 1u);
}

TEST(SpaceChange, TheSameParametersInAnotherOrderAreNoChange) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config(kOld));
  ASSERT_EQ(run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"}).rc, 0);
  write_file(dir / "cfg.yaml", config("  opt: {type: choice, values: [sgd, adam]}\n"
                                      "  lr: {type: float, low: 0.00001, high: 1.0, scale: log}\n", 3));
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  EXPECT_FALSE(exported(dir)["system_attrs"].contains("caviar:space_changes"));
}

TEST(SpaceChange, DescribesEveryKindOfChange) {
  const json before = json::parse(R"([
    {"name": "a", "type": "float", "low": 0.0, "high": 0.5, "step": 0.05},
    {"name": "b", "type": "int", "low": 1, "high": 8},
    {"name": "c", "type": "float", "low": 0.9, "high": 0.999, "scale": "reverse_log", "when": "o == adam"},
    {"name": "o", "type": "choice", "values": ["sgd", "adam", 3]}])");
  const json after = json::parse(R"([
    {"name": "a", "type": "float", "low": 0.0, "high": 0.5},
    {"name": "b", "type": "int", "low": 1, "high": 8},
    {"name": "c", "type": "float", "low": 0.9, "high": 0.999, "scale": "reverse_log"},
    {"name": "o", "type": "choice", "values": ["sgd", "adam"]}])");
  EXPECT_EQ(caviar::space_changes(before, after),
            (std::vector<std::string>{
                "parameters.a: was float [0, 0.5] step 0.05, now float [0, 0.5]",
                "parameters.c: was float [0.9, 0.999] reverse_log when \"o == adam\", now float [0.9, 0.999] reverse_log",
                "parameters.o: was choice [sgd, adam, 3], now choice [sgd, adam]"}));
  EXPECT_TRUE(caviar::space_changes(before, before).empty());
}

}  // namespace
