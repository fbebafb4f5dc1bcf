// caviar retune: a new study linked to the old one runs the old best configurations first,
// continues when run again without enqueuing them twice, shows the chain in `caviar
// studies`, and ends with the verdict's exit code.
#include <gtest/gtest.h>

#include "caviar/attributes.h"
#include "caviar/storage.h"
#include "support/checkpoint_objective.h"
#include "support/cli.h"
#include "support/files.h"

namespace caviar {
namespace {

using testing::cli_json;
using testing::CliResult;
using testing::run_caviar;
using testing::TempDir;
using testing::write_file;

std::string config(const std::string& study, const std::string& shift, int trials,
                   const std::string& sampler = "random") {
  return "study: " + study + "\nstorage: sqlite:///rt.db\nmetric: loss\nobjective:\n"
         "  command: [sh, -c, 'awk -v x=\"$CAVIAR_PARAM_X\" -v s=\"$SHIFT\" \"BEGIN { printf \\\"loss=%.9f\\\\n\\\", (x - s) ^ 2 }\"']\n"
         "  env: {SHIFT: '" + shift + "'}\n"
         "parameters:\n  x: {type: float, low: 0, high: 1}\nsampler: {name: " + sampler + ", seed: 3}\n"
         "budget: {trials: " + std::to_string(trials) + "}\n";
}

TEST(Retune, TheOldBestRunFirstThenTheVerdict) {
  TempDir tmp;
  write_file(tmp / "old.yaml", config("before", "0.3", 12));
  write_file(tmp / "new.yaml", config("after", "0.8", 10));
  ASSERT_EQ(run_caviar(tmp.path(), {"tune", "old.yaml", "-q"}).rc, 0);
  CliResult r = run_caviar(tmp.path(), {"retune", "new.yaml", "--from", "before", "--best", "3", "-q"});
  EXPECT_EQ(r.rc, 10) << r.describe() << " (the optimum moved from 0.3 to 0.8: the sampler finds better)";
  EXPECT_NE(r.out.find("verdict: a better configuration was found"), std::string::npos) << r.out;

  const json old_trials = cli_json(tmp.path(), {"trials", "old.yaml", "--format", "json"});
  const json new_trials = cli_json(tmp.path(), {"trials", "new.yaml", "--format", "json"});
  std::vector<std::pair<double, double>> old_by_value;  // (value, x)
  for (const auto& t : old_trials) old_by_value.emplace_back(t["value"].get<double>(), t["params"]["x"].get<double>());
  std::sort(old_by_value.begin(), old_by_value.end());
  ASSERT_EQ(new_trials.size(), 10u);
  for (int i = 0; i < 3; ++i)  // the old three best, best first, as trials 0-2
    EXPECT_EQ(new_trials[i]["params"]["x"].get<double>(), old_by_value[i].second) << i;

  // Again: it continues (nothing enqueued twice), and a lenient tolerance says it holds.
  CliResult again = run_caviar(tmp.path(), {"retune", "new.yaml", "--from", "before", "--trials", "11", "-q",
                                            "--tolerance", "100"});
  EXPECT_EQ(again.rc, 0) << again.describe();
  EXPECT_NE(again.err.find("continuing the re-tuning"), std::string::npos) << again.err;
  EXPECT_EQ(cli_json(tmp.path(), {"trials", "new.yaml", "--format", "json"}).size(), 11u);

  // The chain, and the link as stored.
  CliResult studies = run_caviar(tmp.path(), {"studies", "--storage", "sqlite:///rt.db"});
  EXPECT_NE(studies.out.find("re-tuned from"), std::string::npos) << studies.out;
  const json rows = cli_json(tmp.path(), {"studies", "--storage", "sqlite:///rt.db", "--format", "json"});
  for (const auto& row : rows) EXPECT_EQ(row["retuned_from"], row["name"] == "after" ? json("before") : json(nullptr));
  auto storage = open_storage("sqlite:///" + (tmp / "rt.db").string(), OpenMode::Existing);
  const json link = storage->find_study("after")->system_attrs[attr::kRetune];
  EXPECT_EQ(link["from"], "before");
  EXPECT_EQ(link["runs"].size(), 3u);

  // Bad input: the old study itself, one that is not there; nothing stored.
  CliResult same = run_caviar(tmp.path(), {"retune", "old.yaml", "--from", "before"});
  EXPECT_EQ(same.rc, 2);
  EXPECT_TRUE(testing::one_error_line(same, "--from")) << same.err;
  CliResult missing = run_caviar(tmp.path(), {"retune", "new.yaml", "--from", "nope", "--study", "other"});
  EXPECT_EQ(missing.rc, 2);
  EXPECT_FALSE(storage->find_study("other")) << "nothing is created for a missing old study";
}

// With a model-based sampler the sampling after the old best is warm (its weight stored as
// "caviar:warm_start"), and so it stays in a `caviar tune` of the same study: every process
// tuning a re-tuned study loads the old trials through the link.
TEST(Retune, TheSamplerIsWarmInEveryProcessOfTheStudy) {
  TempDir tmp;
  write_file(tmp / "old.yaml", config("before", "0.3", 15, "tpe"));
  write_file(tmp / "new.yaml", config("after", "0.32", 8, "tpe"));
  ASSERT_EQ(run_caviar(tmp.path(), {"tune", "old.yaml", "-q"}).rc, 0);
  CliResult r = run_caviar(tmp.path(), {"retune", "new.yaml", "--from", "before", "--best", "2", "-q"});
  ASSERT_TRUE(r.rc == 0 || r.rc == 10) << r.describe();
  auto storage = open_storage("sqlite:///" + (tmp / "rt.db").string(), OpenMode::Existing);
  const json note = storage->find_study("after")->system_attrs.value("caviar:warm_start", json());
  ASSERT_TRUE(note.is_object()) << "no warm start recorded";
  EXPECT_EQ(note["old"], 15);
  EXPECT_GT(note["weight"].get<double>(), 0.0) << note.dump() << " (the optimum moved by 0.02: the ranking holds)";

  CliResult more = run_caviar(tmp.path(), {"tune", "new.yaml", "--trials", "10", "-q"});
  ASSERT_EQ(more.rc, 0) << more.describe();
  const json later = storage->find_study("after")->system_attrs["caviar:warm_start"];
  EXPECT_EQ(later["old"], 15) << later.dump();
  EXPECT_EQ(later["trials"], 9) << later.dump() << " (noted when trial #9 was sampled, after 9 complete)";
}

}  // namespace
}  // namespace caviar
