// The built-in trainer from the command line: in process, and as a command trial.
#include "support/cli_process.h"

TEST(CliTrainer, BuiltinMlpObjectiveRunsInProcessWithEpochReports) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(),
      "study: mlp\n"
      "storage: sqlite:///study.db\n"
      "direction: maximize\n"
      "metric: val_acc\n"
      "objective: {builtin: mlp, args: {dataset: spirals, epochs: 8, layers: 2}}\n"
      "parameters:\n"
      "  lr: {type: float, low: 0.003, high: 0.03, scale: log}\n"
      "  units: {type: int, low: 16, high: 64, scale: log}\n"
      "budget: {trials: 3, parallel: 2}\n");
  CliResult r = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"}, std::chrono::seconds(120));
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_TRUE(contains(r.out, "test accuracy")) << r.out;
  json trials = trials_json(tmp.path(), cfg);
  ASSERT_EQ(trials.size(), 3u);
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "complete") << t.dump();
    EXPECT_EQ(t["intermediate"].size(), 8u) << t.dump();
    EXPECT_EQ(t["value"], t["intermediate"]["8"]);  // the value is the last epoch's val_acc
    double test_acc = t["system_attrs"].value("caviar:test_acc", -1.0);
    EXPECT_GT(test_acc, 0.4) << t.dump();  // 3 classes: chance is 1/3
    EXPECT_LE(test_acc, 1.0);
    const json& epochs = t["system_attrs"]["caviar:epochs"];
    ASSERT_EQ(epochs.size(), 8u) << t.dump();
    EXPECT_EQ(epochs[7]["val_acc"], t["value"]);
    EXPECT_TRUE(epochs[0].contains("train_loss") && epochs[0].contains("val_loss"));
  }
  EXPECT_FALSE(fs::exists(caviar::load_config(cfg).trial_root / "0000" / "stdout.log"))
      << "in-process trials start no command";
}

TEST(CliTrainer, CaviarTrainIsACommandTrial) {
  TempDir tmp;
  std::string command = std::string("[") + CAVIAR_BINARY +
                        ", train, --dataset, spirals, --epochs, '4', --lr, '{lr}', --units, '32']";
  fs::path cfg = write_config(tmp.path(),
      config_text("train-cmd", command, 2, "sampler: {name: sobol}\n",
                  "  lr: {type: float, low: 0.003, high: 0.03, scale: log}\n"));
  std::string text = read_file(cfg);
  text.replace(text.find("metric: value"), 13, "metric: val_loss");
  write_file(cfg, text);
  CliResult r = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"}, std::chrono::seconds(120));
  ASSERT_EQ(r.rc, 0) << r.describe();
  json trials = trials_json(tmp.path(), cfg);
  ASSERT_EQ(trials.size(), 2u);
  for (const auto& t : trials) {
    EXPECT_EQ(t["state"], "complete") << t.dump();
    EXPECT_EQ(t["intermediate"].size(), 4u) << t.dump();
    EXPECT_EQ(t["value"], t["intermediate"]["4"]);
  }
}

TEST(CliTrainer, UnknownTrainerOptionIsAConfigError) {
  TempDir tmp;
  fs::path cfg = write_config(tmp.path(),
      "study: mlp\n"
      "metric: val_loss\n"
      "objective: {builtin: mlp, args: {dataset: spirals, epoch: 3}}\n"
      "parameters:\n"
      "  lr: {type: float, low: 0.003, high: 0.03, scale: log}\n");
  CliResult r = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"});
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(contains(r.err, "objective.args")) << r.err;
  EXPECT_TRUE(contains(r.err, "did you mean --epochs")) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "caviar.db")) << "a bad config must not create storage";
}
