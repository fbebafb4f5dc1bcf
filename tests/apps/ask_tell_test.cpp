// caviar ask / tell / best from a shell loop, and the listings and help.
#include "support/cli_process.h"

// ---------------------------------------------------------------- ask / tell

TEST(CliAskTell, ShellLoopAskTellBest) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(), config_text("asktell", "[sh, -c, 'echo value={x}']", 5, "",
                                                      "  x: {type: float, low: 0, high: 1}\n"
                                                      "  opt: {type: choice, values: [sgd, adam]}\n"));
  CliResult ask = run_caviar(tmp.path(), {"ask", cfg.string()});
  ASSERT_EQ(ask.rc, 0) << ask.describe();
  json a = json::parse(ask.out);
  ASSERT_TRUE(a.is_object()) << ask.out;
  EXPECT_EQ(a["state"], "running");
  ASSERT_TRUE(a["number"].is_number_integer());
  ASSERT_TRUE(a["params"].is_object());
  EXPECT_TRUE(a["params"].contains("x"));
  EXPECT_TRUE(a["params"].contains("opt"));
  std::string n = std::to_string(a["number"].get<int>());

  CliResult tell = run_caviar(tmp.path(), {"tell", cfg.string(), "--trial", n, "--value", "0.5"});
  ASSERT_EQ(tell.rc, 0) << tell.describe();
  CliResult best = run_caviar(tmp.path(), {"best", cfg.string(), "--format", "json"});
  ASSERT_EQ(best.rc, 0) << best.describe();
  json b = json::parse(best.out);
  ASSERT_TRUE(b.is_object()) << best.out;
  EXPECT_EQ(b["number"], a["number"]);
  EXPECT_EQ(b["state"], "complete");
  EXPECT_EQ(b["params"], a["params"]);
  EXPECT_EQ(b["value"], 0.5);

  CliResult twice = run_caviar(tmp.path(), {"tell", cfg.string(), "--trial", n, "--value", "0.25"});
  EXPECT_EQ(twice.rc, 2) << twice.describe();
  EXPECT_TRUE(contains(twice.err, "already complete")) << twice.err;
  CliResult best2 = run_caviar(tmp.path(), {"best", cfg.string(), "--format", "json"});
  EXPECT_EQ(json::parse(best2.out)["value"], 0.5) << "a refused tell must not change the value";

  CliResult ask2 = run_caviar(tmp.path(), {"ask", cfg.string()});
  ASSERT_EQ(ask2.rc, 0) << ask2.describe();
  json a2 = json::parse(ask2.out);
  EXPECT_NE(a2["number"], a["number"]);
  std::string n2 = std::to_string(a2["number"].get<int>());
  CliResult nan = run_caviar(tmp.path(), {"tell", cfg.string(), "--trial", n2, "--value", "nan"});
  EXPECT_EQ(nan.rc, 2) << nan.describe();
  json trials = trials_json(tmp.path(), cfg);
  for (const auto& t : trials)
    if (t["number"] == a2["number"]) EXPECT_EQ(t["state"], "running") << "a refused NaN must leave the trial running";

  CliResult unknown = run_caviar(tmp.path(), {"tell", cfg.string(), "--trial", "99", "--value", "1"});
  EXPECT_EQ(unknown.rc, 2) << unknown.describe();
  EXPECT_TRUE(contains(unknown.err, "99")) << unknown.err;
}

// ---------------------------------------------------------------- listings and help

TEST(CliListing, TrialsCsvJsonStudiesAndHelp) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(), config_text("listing", "[sh, -c, 'echo value={x}']", 3));
  CliResult tune = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"});
  ASSERT_EQ(tune.rc, 0) << tune.describe();

  CliResult csv = run_caviar(tmp.path(), {"trials", cfg.string(), "--format", "csv"});
  ASSERT_EQ(csv.rc, 0) << csv.describe();
  EXPECT_EQ(csv.out.rfind("number,state,value", 0), 0u) << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 4) << csv.out;

  CliResult js = run_caviar(tmp.path(), {"trials", cfg.string(), "--format", "json"});
  ASSERT_EQ(js.rc, 0) << js.describe();
  json rows = json::parse(js.out);
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& row : rows) {
    for (const char* key : {"number", "state", "params", "value"}) EXPECT_TRUE(row.contains(key)) << key;
    EXPECT_EQ(row["state"], "complete");
    EXPECT_TRUE(row["params"].contains("x"));
  }

  std::string url = "sqlite:///" + (tmp.path() / "study.db").string();
  CliResult studies = run_caviar(fs::temp_directory_path(), {"studies", "--storage", url});
  ASSERT_EQ(studies.rc, 0) << studies.describe();
  EXPECT_TRUE(contains(studies.out, "listing")) << studies.out;
  CliResult studies_json = run_caviar(fs::temp_directory_path(), {"studies", "--storage", url, "--format", "json"});
  ASSERT_EQ(studies_json.rc, 0) << studies_json.describe();
  json s = json::parse(studies_json.out);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["name"], "listing");
  EXPECT_EQ(s[0]["complete"], 3);

  for (const char* sub : {"tune", "studies", "trials", "best", "export", "ask", "tell"}) {
    CliResult help = run_caviar(tmp.path(), {sub, "--help"});
    EXPECT_EQ(help.rc, 0) << sub << "\n" << help.describe();
    EXPECT_TRUE(contains(help.out, sub)) << sub << "\n" << help.out;
    EXPECT_TRUE(contains(help.out, "--")) << sub << "\n" << help.out;
  }
}
