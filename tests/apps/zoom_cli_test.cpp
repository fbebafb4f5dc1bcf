// `caviar zoom` as a process: the narrowed config it writes loads, keeps the user's
// comments and names the next round; bad input is refused and nothing is overwritten
// without --force. The zoom box itself: tests/algorithms/samplers/zoom_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "bench/suite.h"
#include "caviar/config.h"
#include "caviar/storage.h"
#include "caviar/study.h"
#include "caviar/tuner.h"
#include "caviar/zoom.h"
#include "support/cli.h"
#include "support/files.h"

namespace fs = std::filesystem;
using namespace caviar;
using caviar::testing::CliResult;
using caviar::testing::run_caviar;

namespace {

const char* kConfig =
    "# my study\n"
    "study: zs\n"
    "storage: sqlite:///study.db\n"
    "direction: minimize\n"
    "metric: value\n"
    "objective:\n"
    "  command: [sh, -c, \"echo value=1\"]\n"
    "parameters:\n"
    "  lr: {type: float, low: 1e-5, high: 1, scale: log}   # the learning rate\n"
    "  wd: {type: float, low: 1e-6, high: 0.1, scale: log}\n"
    "  layers: {type: int, low: 1, high: 8}\n"
    "  opt: {type: choice, values: [sgd, adam]}\n"
    "  beta1: {type: float, low: 0.5, high: 0.999, scale: reverse_log, when: \"opt == adam\"}\n"
    "\n"
    "# the budget\n"
    "budget: {trials: 30}\n";

}  // namespace

TEST(ZoomCli, WritesANarrowedConfigThatLoads) {
  caviar::testing::TempDir tmp;
  caviar::testing::write_file(tmp / "cfg.yaml", kConfig);
  Config config = load_config(tmp / "cfg.yaml");
  {
    Study study(open_storage(config.storage), config.study);
    auto f = suite::problem("hp_log2").f;
    optimize(study, [&](Trial& t) {
      double v = f(t.params()) + 0.1 * std::abs(t.params().at("layers") - 4);
      return t.has("beta1") ? v : v + 1;  // adam is better
    });
  }
  CliResult r = run_caviar(tmp.path(), {"zoom", "cfg.yaml", "--keep", "0.2", "--out", "narrowed.yaml"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("best 6 of 30"), std::string::npos) << r.out;
  std::string text = caviar::testing::read_file(tmp / "narrowed.yaml");
  EXPECT_EQ(text.rfind("# Narrowed by `caviar zoom` from study 'zs'", 0), 0u) << text;
  EXPECT_NE(text.find("# the budget\nbudget: {trials: 30}"), std::string::npos) << text;
  EXPECT_NE(text.find("# my study"), std::string::npos) << text;
  Config n = load_config(tmp / "narrowed.yaml");
  EXPECT_EQ(n.study.name, "zs-zoom1");
  EXPECT_EQ(n.storage, config.storage);
  EXPECT_EQ(n.command->argv, config.command->argv);
  EXPECT_EQ(n.study.budget, 30);
  const SearchSpace& a = config.study.space;
  const SearchSpace& b = n.study.space;
  for (const char* name : {"lr", "wd"}) {
    EXPECT_EQ(b.at(name).scale, Scale::Log);
    EXPECT_GE(b.at(name).low, a.at(name).low);
    EXPECT_LE(b.at(name).high, a.at(name).high);
    EXPECT_LT(b.at(name).high / b.at(name).low, a.at(name).high / a.at(name).low) << name;
  }
  EXPECT_EQ(b.at("layers").type, ParamType::Int);
  EXPECT_EQ(b.at("beta1").scale, Scale::ReverseLog);
  ASSERT_TRUE(b.at("beta1").when.has_value());
  EXPECT_EQ(b.at("beta1").when->param, "opt");
  // What the sampler would do next is what was written (before rounding).
  auto trials = open_storage(config.storage)->trials(open_storage(config.storage)->find_study("zs")->id);
  ZoomBox box = zoom_box(a, trials, Direction::Minimize, 0.2, kZoomDefaultMargin);
  json j = box.to_json(a);
  EXPECT_LE(b.at("lr").low, j["lr"]["low"].get<double>());
  EXPECT_GE(b.at("lr").high, j["lr"]["high"].get<double>());
  // The round after: zs-zoom1 -> zs-zoom2 is the default name of the next zoom.
  Study next(open_storage(n.storage), n.study);
  optimize(next, [](Trial& t) { return t.float_param("lr"); }, 5);
  CliResult again = run_caviar(tmp.path(), {"zoom", "narrowed.yaml", "--out", "n2.yaml"});
  ASSERT_EQ(again.rc, 0) << again.err;
  EXPECT_EQ(load_config(tmp / "n2.yaml").study.name, "zs-zoom2");
  // Without the config: study, storage, direction and parameters.
  CliResult bare = run_caviar(tmp.path(), {"zoom", "--storage", "sqlite:///study.db", "--study", "zs",
                                     "--out", "bare.yaml", "--name", "fresh"});
  ASSERT_EQ(bare.rc, 0) << bare.err;
  std::string bare_text = caviar::testing::read_file(tmp / "bare.yaml");
  Config c = parse_config(bare_text + "metric: value\nobjective: {command: [\"true\"]}\n", tmp.path());
  EXPECT_EQ(c.study.name, "fresh");
  EXPECT_EQ(c.study.space.to_config_json(), b.to_config_json());
}

TEST(ZoomCli, RefusesBadInput) {
  caviar::testing::TempDir tmp;
  caviar::testing::write_file(tmp / "cfg.yaml", kConfig);
  Config config = load_config(tmp / "cfg.yaml");
  {
    Study study(open_storage(config.storage), config.study);
    auto t = study.ask();
    study.tell_failed(*t, "broken");
  }
  CliResult none = run_caviar(tmp.path(), {"zoom", "cfg.yaml", "--out", "n.yaml"});
  EXPECT_EQ(none.rc, 2);
  EXPECT_NE(none.err.find("no complete trial"), std::string::npos) << none.err;
  {
    Study study(open_storage(config.storage), config.study);
    optimize(study, [](Trial& t) { return t.float_param("lr"); }, 5);
  }
  CliResult missing = run_caviar(tmp.path(), {"zoom", "--storage", "sqlite:///study.db", "--study", "nope", "--out", "n.yaml"});
  EXPECT_EQ(missing.rc, 2);
  EXPECT_NE(missing.err.find("not found"), std::string::npos) << missing.err;
  for (const char* keep : {"0", "1.5"}) {
    CliResult bad = run_caviar(tmp.path(), {"zoom", "cfg.yaml", "--keep", keep, "--out", "n.yaml"});
    EXPECT_EQ(bad.rc, 2) << keep;
    EXPECT_NE(bad.err.find("--keep"), std::string::npos) << bad.err;
  }
  EXPECT_FALSE(fs::exists(tmp / "n.yaml"));
  caviar::testing::write_file(tmp / "n.yaml", "mine\n");
  CliResult exists = run_caviar(tmp.path(), {"zoom", "cfg.yaml", "--out", "n.yaml"});
  EXPECT_EQ(exists.rc, 2);
  EXPECT_NE(exists.err.find("exists"), std::string::npos) << exists.err;
  EXPECT_EQ(caviar::testing::read_file(tmp / "n.yaml"), "mine\n");
  CliResult forced = run_caviar(tmp.path(), {"zoom", "cfg.yaml", "--out", "n.yaml", "--force"});
  EXPECT_EQ(forced.rc, 0) << forced.err;
  EXPECT_NO_THROW(load_config(tmp / "n.yaml"));
  CliResult help = run_caviar(tmp.path(), {"zoom", "--help"});
  EXPECT_EQ(help.rc, 0);
  EXPECT_NE(help.out.find("--keep"), std::string::npos);
}
