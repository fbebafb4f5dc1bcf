// A step must be a whole number that fits an int64 (issue 29): `epoch=nan` or `epoch=1e300`
// was stored as step -9223372036854775808. Now such a line is malformed like any other: the
// trial fails at once, saying which token. The real binary, real trial processes.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "support/cli.h"
#include "support/files.h"

using json = nlohmann::json;
using caviar::testing::CliResult;
using caviar::testing::run_caviar;
using caviar::testing::TempDir;
using caviar::testing::write_file;

namespace {

// The one trial of a study whose command prints `lines`.
json run_printing(const std::string& lines) {
  TempDir dir;
  write_file(dir / "cfg.yaml", "study: steps\nstorage: sqlite:///study.db\nmetric: value\n"
                               "objective: {command: [sh, -c, 'printf \"" + lines + "\"']}\n"
                               "parameters: {x: {type: float, low: 0, high: 1}}\n"
                               "budget: {trials: 1}\n");
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"});
  EXPECT_TRUE(r.rc == 0 || r.rc == 1) << r.describe();
  CliResult t = run_caviar(dir.path(), {"trials", "cfg.yaml", "--format", "json"});
  EXPECT_EQ(t.rc, 0) << t.describe();
  json trials = json::parse(t.out);
  EXPECT_EQ(trials.size(), 1u);
  return trials.empty() ? json::object() : trials[0];
}

TEST(MalformedSteps, NotAWholeNumberFailsTheTrialNamingTheToken) {
  for (const std::string token : {"epoch=nan", "epoch=inf", "epoch=-inf", "epoch=1e300", "epoch=-1e19",
                                  "epoch=9223372036854775808", "epoch=1.5"}) {
    const json trial = run_printing("epoch=1 value=0.5\\n" + token + " value=0.4\\nepoch=3 value=0.3\\n");
    EXPECT_EQ(trial.value("state", ""), "failed") << token << ": " << trial.dump(2);
    const std::string reason = trial.value("reason", "");
    EXPECT_NE(reason.find("stdout line 2"), std::string::npos) << token << ": " << reason;
    EXPECT_NE(reason.find("'" + token + "' is not a whole number of steps"), std::string::npos) << token << ": " << reason;
    // the good report before it is kept; nothing at a made-up step
    EXPECT_EQ(trial["intermediate"], json({{"1", 0.5}})) << token << ": " << trial.dump(2);
  }
}

TEST(MalformedSteps, WholeNumbersAreSteps) {
  const json trial = run_printing("epoch=1 value=0.5\\nepoch=2.0 value=0.4\\nepoch=1e3 value=0.3\\n"
                                  "epoch=-4 value=0.2\\nepoch=9007199254740992 value=0.1\\n");
  EXPECT_EQ(trial.value("state", ""), "complete") << trial.dump(2);
  EXPECT_EQ(trial["intermediate"], json({{"1", 0.5}, {"2", 0.4}, {"1000", 0.3}, {"-4", 0.2},
                                         {"9007199254740992", 0.1}}))
      << trial.dump(2);
}

}  // namespace
