// Comparing two studies (caviar/compare.h, `caviar compare`): the old best found again in
// the new study, the verdict against a tolerance, the importance side by side, and the
// exit codes a scheduler reads.
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/dashboard/study_watch.h"
#include "caviar/compare.h"
#include "caviar/error.h"
#include "caviar/retune.h"
#include "caviar/study.h"
#include "support/cli.h"
#include "support/files.h"

namespace caviar {
namespace {

using testing::CliResult;
using testing::run_caviar;
using testing::TempDir;

SearchSpace space() {
  return SearchSpace::from_config_json(json::parse(R"({
    "x": {"type": "float", "low": 0, "high": 1},
    "y": {"type": "float", "low": 0, "high": 1}})"));
}

// A study of `n` sampled trials whose value is f(x, y), and first (enqueued) `also`.
ComparedStudy study(std::shared_ptr<Storage> storage, const std::string& name, int n, double shift,
                    const json& also = nullptr) {
  StudyOptions o;
  o.name = name;
  o.direction = Direction::Maximize;
  o.space = space();
  o.sampler.name = "random";
  o.sampler.seed = static_cast<std::uint64_t>(n);
  Study s(storage, o);
  if (!also.is_null()) s.enqueue(also);
  for (int i = 0; i < n; ++i) {
    auto t = s.ask();
    const double x = t->float_param("x"), y = t->float_param("y");
    s.tell(*t, -std::pow(x - shift, 2) - 0.01 * y);  // x matters, y hardly
  }
  return ComparedStudy{s.record(), s.space(), s.trials()};
}

json params_of_best(const ComparedStudy& s) {
  json out = json::object();
  const TrialRecord* b = best_trial(s.trials, Direction::Maximize);
  for (const auto& [name, v] : b->params) out[name] = v;
  return out;
}

TEST(Compare, TheOldBestRunAgainDecidesAgainstTheTolerance) {
  auto storage = make_memory_storage();
  const ComparedStudy old_study = study(storage, "old", 30, 0.3);
  // The optimum moved to x = 0.7: the old best, run first in the new study, is worse there.
  const ComparedStudy moved = study(storage, "moved", 30, 0.7, params_of_best(old_study));
  json c = compare_studies(old_study, moved);
  ASSERT_FALSE(c["new"]["old_best_here"].is_null());
  EXPECT_EQ(c["new"]["old_best_here"]["number"], 0);
  EXPECT_EQ(c["baseline_from"], "new");
  EXPECT_EQ(c["verdict"], "better");
  const double gain = c["gain"];
  EXPECT_GT(gain, 0.05);
  CompareOptions lenient;
  lenient.tolerance = gain + 1e-9;
  EXPECT_EQ(compare_studies(old_study, moved, lenient)["verdict"], "holds");
  // The importance of each side: x first in both.
  ASSERT_EQ(c["importance"].size(), 2u);
  EXPECT_EQ(c["importance"][0]["name"], "x");
  EXPECT_EQ(c["importance"][0]["old_rank"], 1);
  EXPECT_EQ(c["importance"][0]["new_rank"], 1);
  EXPECT_EQ(c["importance_note"], "");
  // Without the old best in the new study, its old value stands in (and is said to).
  const ComparedStudy fresh = study(storage, "fresh", 5, 0.3);
  EXPECT_EQ(compare_studies(old_study, fresh)["baseline_from"], "old");
  EXPECT_THROW(compare_studies(old_study, moved, CompareOptions{-1, {}}), UsageError);
}

TEST(Compare, NothingCompleteIsUnknown) {
  auto storage = make_memory_storage();
  const ComparedStudy old_study = study(storage, "old", 3, 0.3);
  const ComparedStudy empty = study(storage, "empty", 0, 0.3);
  json c = compare_studies(old_study, empty);
  EXPECT_EQ(c["verdict"], "unknown");
  EXPECT_NE(c["importance_note"].get<std::string>().find("empty"), std::string::npos) << c["importance_note"];
}

// The options of a study "new" re-tuning "old" with `sampler`.
StudyOptions retuning(const std::string& sampler) {
  StudyOptions o;
  o.name = "new";
  o.direction = Direction::Maximize;
  o.space = space();
  o.sampler.name = sampler;
  o.sampler.seed = 5;
  return o;
}

// A re-tuned study's verdict as the report and the dashboard get it: the old best runs
// with their values on both data, the warm start's note, found through the link.
TEST(Compare, ARetunedStudysVerdictForItsPages) {
  auto storage = make_memory_storage();
  const ComparedStudy old_study = study(storage, "old", 30, 0.3);
  StudyOptions o = retuning("auto");  // warm-started
  o.sampler.prior = retune_prior(StudyView(storage, old_study.record), o.space);
  Study s(storage, o);
  ASSERT_EQ(start_retune(s, StudyView(storage, old_study.record), 3).size(), 3u);
  for (int i = 0; i < 6; ++i) {
    auto t = s.ask();
    s.tell(*t, -std::pow(t->float_param("x") - 0.35, 2) - 0.01 * t->float_param("y"));
  }
  EXPECT_FALSE(linked_old_study(storage, old_study.record)) << "the old study links to none";
  const auto old = linked_old_study(storage, *storage->find_study("new"));
  ASSERT_TRUE(old);
  EXPECT_EQ(old->record.name, "old");
  const json v = retune_verdict_data(*old, compared(StudyView(storage, *storage->find_study("new"))));
  ASSERT_EQ(v["runs"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(v["runs"][i]["new_trial"], i);
    EXPECT_TRUE(v["runs"][i]["old_value"].is_number());
    EXPECT_TRUE(v["runs"][i]["new_value"].is_number());
  }
  // The old best was run first: its old value is the old study's best.
  EXPECT_EQ(v["runs"][0]["old_value"], v["old"]["best"]["value"]);
  ASSERT_TRUE(v["warm_start"].is_object());
  EXPECT_EQ(v["warm_start"]["old"], 30);

  // The dashboard's study page carries it in its analysis.
  detail::StudyWatch watch(storage, *storage->find_study("new"), "");
  watch.refresh();
  const json page = watch.page();
  ASSERT_TRUE(page["report"]["retune"].is_object()) << page["report"].dump().substr(0, 300);
  EXPECT_EQ(page["report"]["retune"]["runs"].size(), 3u);
}

// A large old study: the dashboard keeps 1,000 of its trials for the verdict, among them its
// best and the ones the re-tuning ran first.
TEST(Compare, TheDashboardKeepsALargeOldStudysBestAndFirstRuns) {
  auto storage = make_memory_storage();
  const ComparedStudy old_study = study(storage, "old", 1500, 0.3);
  Study s(storage, retuning("random"));
  start_retune(s, StudyView(storage, old_study.record), 3);
  for (int i = 0; i < 4; ++i) {
    auto t = s.ask();
    s.tell(*t, -std::pow(t->float_param("x") - 0.35, 2));
  }
  detail::StudyWatch watch(storage, *storage->find_study("new"), "");
  watch.refresh();
  const json v = watch.page()["report"]["retune"];
  ASSERT_TRUE(v.is_object());
  EXPECT_LE(v["old"]["trials"].get<int>(), detail::StudyWatch::kReportTrials);
  EXPECT_EQ(v["old"]["best"]["value"], compare_studies(old_study, old_study)["old"]["best"]["value"]);
  ASSERT_EQ(v["runs"].size(), 3u);
  for (const auto& run : v["runs"]) EXPECT_TRUE(run["old_value"].is_number()) << run.dump();
}

TEST(CompareCli, ExitCodesForASchedulerAndTheConfigurationToDeploy) {
  TempDir tmp;
  const std::string url = "sqlite:///" + (tmp.path() / "s.db").string();
  {
    auto storage = open_storage(url);
    const ComparedStudy old_study = study(storage, "old", 20, 0.3);
    study(storage, "moved", 20, 0.7, params_of_best(old_study));
    study(storage, "same", 20, 0.3, params_of_best(old_study));
    study(storage, "empty", 0, 0.3);
  }
  CliResult better = run_caviar(tmp.path(), {"compare", "old", "moved", "--storage", url});
  EXPECT_EQ(better.rc, 10) << better.describe();
  EXPECT_NE(better.out.find("verdict: a better configuration"), std::string::npos) << better.out;
  EXPECT_NE(better.out.find("importance"), std::string::npos);
  CliResult holds = run_caviar(tmp.path(), {"compare", "old", "moved", "--storage", url, "--tolerance", "10"});
  EXPECT_EQ(holds.rc, 0) << holds.describe();
  CliResult yaml = run_caviar(tmp.path(), {"compare", "old", "moved", "--storage", url, "--format", "yaml"});
  EXPECT_EQ(yaml.rc, 10);
  EXPECT_EQ(yaml.out.rfind("x: ", 0), 0u) << yaml.out;
  EXPECT_NE(yaml.out.find("\ny: "), std::string::npos) << yaml.out;
  CliResult as_json = run_caviar(tmp.path(), {"compare", "old", "same", "--storage", url, "--format", "json"});
  const json c = json::parse(as_json.out);
  EXPECT_EQ(as_json.rc == 0, c["verdict"] == "holds") << c.dump();
  EXPECT_TRUE(c["deploy"].is_object());
  EXPECT_EQ(run_caviar(tmp.path(), {"compare", "old", "empty", "--storage", url}).rc, 1);
  CliResult missing = run_caviar(tmp.path(), {"compare", "old", "nope", "--storage", url});
  EXPECT_EQ(missing.rc, 2);
  EXPECT_TRUE(testing::one_error_line(missing, "study 'nope'"));
}

}  // namespace
}  // namespace caviar
