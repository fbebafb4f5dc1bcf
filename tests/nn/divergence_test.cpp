// A run whose loss explodes is diverged (issue 29), not only one whose loss is NaN: an
// epoch's mean training loss over 10 times the starting loss (or ln(classes)) stops it.
// Runs that learn, at every optimizer's usual rates, are never called diverged.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "caviar/nn.h"
#include "nn/trainer.h"
#include "nn/support/spirals.h"

namespace caviar::nn {
namespace {

TrainConfig spirals() { return testing::spirals(30); }

TEST(Divergence, AnExplodingFiniteLossStopsTheRunInItsFirstEpoch) {
  auto config = spirals();
  config.optimizer = OptimizerKind::Sgd;
  config.lr = 100;  // a loss of about 6e5 after one epoch, finite: it used to train on at chance
  int calls = 0;
  const auto result = train(config, [&](const EpochReport&) { return ++calls, true; });
  ASSERT_TRUE(result.diverged);
  EXPECT_EQ(result.diverged_epoch, 1);
  EXPECT_EQ(calls, 0);
  EXPECT_NE(result.diverged_reason.find("is over 10 times the starting loss"), std::string::npos)
      << result.diverged_reason;
  EXPECT_TRUE(std::isnan(result.test_loss));
}

TEST(Divergence, NaNIsStillDivergence) {
  auto config = spirals();
  config.optimizer = OptimizerKind::Sgd;
  config.lr = 1e30;
  const auto result = train(config);
  ASSERT_TRUE(result.diverged);
  EXPECT_EQ(result.diverged_epoch, 1);
  EXPECT_FALSE(result.diverged_reason.empty());
}

TEST(Divergence, RunsThatLearnAreNotDiverged) {
  struct Case {
    OptimizerKind optimizer;
    double lr;
  };
  // Every optimizer across the rates a tuner samples (log-uniform up to where they stop learning).
  for (const Case c : {Case{OptimizerKind::Sgd, 0.01}, Case{OptimizerKind::Sgd, 0.3}, Case{OptimizerKind::Sgd, 1.0},
                       Case{OptimizerKind::Momentum, 0.01}, Case{OptimizerKind::Momentum, 0.1},
                       Case{OptimizerKind::Adam, 1e-4}, Case{OptimizerKind::Adam, 0.01},
                       Case{OptimizerKind::Adam, 0.03}, Case{OptimizerKind::RmsProp, 1e-3}}) {
    auto config = spirals();
    config.optimizer = c.optimizer;
    config.lr = c.lr;
    const auto result = train(config);
    EXPECT_FALSE(result.diverged) << "optimizer " << static_cast<int>(c.optimizer) << " lr " << c.lr << ": "
                                  << result.diverged_reason;
    EXPECT_EQ(result.epochs.size(), 30u);
  }
}

TEST(Divergence, AContinuedRunIsNotJudgedByItsLowStartingLossAlone) {
  // A restored run starts from a low loss; its threshold is 10 times the larger of that and
  // ln(classes), so the ups and downs of a trained network do not count as diverging.
  const auto folder = std::filesystem::temp_directory_path() / ("caviar-divergence-" + std::to_string(::getpid()));
  std::filesystem::create_directories(folder);
  auto config = spirals();
  config.epochs = 20;
  config.checkpoint_dir = folder.string();
  const auto first = train(config);
  ASSERT_FALSE(first.diverged) << first.diverged_reason;
  ASSERT_LT(first.epochs.back().train_loss, 0.5);
  config.checkpoint_dir.clear();
  config.restore_from = folder.string();
  config.epochs = 40;
  config.lr = 0.03;  // a PBT explore step: larger, noisier
  const auto continued = train(config);
  EXPECT_FALSE(continued.diverged) << continued.diverged_reason;
  EXPECT_EQ(continued.restored_epoch, 20);
  config.optimizer = OptimizerKind::Adam;
  config.lr = 1e4;  // and one that does explode is still caught
  const auto exploded = train(config);
  EXPECT_TRUE(exploded.diverged);
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace caviar::nn
