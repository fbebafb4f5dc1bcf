// End-to-end training on the spiral set: accuracy, determinism, divergence, early stop,
// threads, and the config's text interface.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "caviar/nn.h"
#include "nn/data.h"
#include "nn/trainer.h"
#include "nn/support/spirals.h"

namespace caviar::nn {
namespace {

TrainConfig spirals() { return testing::spirals(60); }

std::vector<double> losses(const TrainResult& result) {
  std::vector<double> out;
  for (const auto& e : result.epochs) out.insert(out.end(), {e.train_loss, e.val_loss, e.val_acc});
  out.push_back(result.test_loss);
  return out;
}

TEST(Training, SpiralsReach97Percent) {
  int calls = 0;
  const auto result = train(spirals(), [&](const EpochReport& r) {
    EXPECT_EQ(r.epoch, ++calls);
    return true;
  });
  EXPECT_EQ(calls, 60);
  EXPECT_FALSE(result.diverged);
  EXPECT_GE(result.epochs.back().val_acc, 0.97);
  EXPECT_GE(result.test_acc, 0.97);
  EXPECT_LT(result.epochs.back().train_loss, result.epochs.front().train_loss / 4);
}

TEST(Training, EveryOptimizerLearns) {
  for (auto kind : {OptimizerKind::Sgd, OptimizerKind::Momentum, OptimizerKind::RmsProp, OptimizerKind::Adam}) {
    auto config = spirals();
    config.optimizer = kind;
    config.lr = kind == OptimizerKind::Sgd || kind == OptimizerKind::Momentum ? 0.5 : 0.005;
    config.epochs = 30;
    const auto result = train(config);
    EXPECT_GE(result.test_acc, 0.9) << to_string(kind);
  }
}

TEST(Training, SameSeedSameLossesBitForBit) {
  auto config = spirals();
  config.epochs = 5;
  EXPECT_EQ(losses(train(config)), losses(train(config)));
  config.threads = 2;
  EXPECT_EQ(losses(train(config)), losses(train(config)));
  auto other = config;
  other.seed = 2;
  EXPECT_NE(losses(train(config)), losses(train(other)));
}

TEST(Training, TwoThreadsLearnLikeOne) {
  auto config = spirals();
  config.threads = 2;
  const auto result = train(config);
  EXPECT_GE(result.test_acc, 0.97);
}

// One SGD step from the same start: the members' gradients must add up to the whole.
TEST(Training, ThreadsSplitTheBatchNotTheGradient) {
  auto config = spirals();
  config.optimizer = OptimizerKind::Sgd;
  config.batch_size = 64;
  const auto splits = load_splits(config);
  std::vector<std::vector<float>> after;
  for (int threads : {1, 2, 3}) {
    config.threads = threads;
    Trainer trainer(config, 2, 3);
    trainer.train_epoch(splits.train, 0.5, 1);
    const auto p = trainer.network().parameters();
    after.emplace_back(p.begin(), p.end());
  }
  Trainer untouched(config, 2, 3);
  const auto start = untouched.network().parameters();
  double moved = 0;
  for (std::size_t i = 0; i < start.size(); ++i) {
    moved += std::abs(after[0][i] - start[i]);
    EXPECT_NEAR(after[1][i], after[0][i], 1e-6f) << i;
    EXPECT_NEAR(after[2][i], after[0][i], 1e-6f) << i;
  }
  EXPECT_GT(moved, 1e-3);
}

// With SGD, L2 weight decay adds lr·λ·w to each step.
TEST(Training, WeightDecayIsL2) {
  auto config = spirals();
  config.optimizer = OptimizerKind::Sgd;
  const auto splits = load_splits(config);
  Trainer plain(config, 2, 3);
  config.weight_decay = 0.1;
  Trainer decayed(config, 2, 3);
  const std::vector<float> start(plain.network().parameters().begin(), plain.network().parameters().end());
  plain.train_epoch(splits.train, 0.5, 1);
  decayed.train_epoch(splits.train, 0.5, 1);
  for (std::size_t i = 0; i < start.size(); ++i)
    EXPECT_NEAR(plain.network().parameters()[i] - decayed.network().parameters()[i], 0.5f * 0.1f * start[i], 1e-6f);
}

TEST(Training, ConcurrentRunsDoNotInterfere) {
  auto config = spirals();
  config.epochs = 5;
  const auto alone = losses(train(config));
  std::vector<double> a, b;
  {
    std::jthread t1([&] { a = losses(train(config)); });
    std::jthread t2([&] { b = losses(train(config)); });
  }
  EXPECT_EQ(a, alone);
  EXPECT_EQ(b, alone);
}

TEST(Training, DivergenceStopsAtOnce) {
  auto config = spirals();
  config.optimizer = OptimizerKind::Sgd;
  config.lr = 1e30;
  int calls = 0;
  const auto result = train(config, [&](const EpochReport&) { return ++calls, true; });
  EXPECT_TRUE(result.diverged);
  EXPECT_EQ(result.diverged_epoch, 1);
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(std::isnan(result.test_loss));
}

TEST(Training, CallbackStopsEarlyOrThrows) {
  auto config = spirals();
  const auto result = train(config, [](const EpochReport& r) { return r.epoch < 3; });
  EXPECT_TRUE(result.stopped_early);
  EXPECT_EQ(result.epochs.size(), 3u);
  EXPECT_GT(result.test_acc, 0.0);
  EXPECT_THROW(train(config, [](const EpochReport&) -> bool { throw std::runtime_error("pruned"); }),
               std::runtime_error);
}

TEST(Training, LearningRateFollowsTheSchedule) {
  auto config = spirals();
  config.epochs = 3;
  config.decay = 1.0;
  const auto result = train(config);
  EXPECT_DOUBLE_EQ(result.epochs[0].learning_rate, 0.01);
  EXPECT_DOUBLE_EQ(result.epochs[1].learning_rate, 0.005);
  EXPECT_DOUBLE_EQ(result.epochs[2].learning_rate, 0.01 / 3);
}

TEST(Training, WeightDecayChangesTheRun) {
  auto config = spirals();
  config.epochs = 3;
  auto decayed = config;
  decayed.weight_decay = 1e-2;
  EXPECT_NE(losses(train(config)), losses(train(decayed)));
}

TEST(Training, SoftmaxRegressionWithNoHiddenLayer) {
  auto config = spirals();
  config.layers = 0;
  config.epochs = 5;
  const auto result = train(config);
  EXPECT_GT(result.test_acc, 0.3);  // a line cannot separate spirals; it must still run
  EXPECT_LT(result.test_acc, 0.8);
}

TEST(Config, SetOptionParsesEveryFlag) {
  TrainConfig c;
  set_option(c, "--lr", "0.05");
  set_option(c, "batch_size", "64");
  set_option(c, "batch-size", "256.0");
  set_option(c, "optimizer", "rmsprop");
  set_option(c, "decay-schedule", "exponential");
  set_option(c, "decay", "0.9");
  set_option(c, "seed", "18446744073709551615");
  set_option(c, "dataset", "spirals");
  EXPECT_DOUBLE_EQ(c.lr, 0.05);
  EXPECT_EQ(c.batch_size, 256);
  EXPECT_EQ(c.optimizer, OptimizerKind::RmsProp);
  EXPECT_EQ(c.decay_schedule, DecaySchedule::Exponential);
  EXPECT_EQ(c.seed, 18446744073709551615ULL);
  EXPECT_NO_THROW(validate(c));
  for (const auto& option : train_options()) {
    TrainConfig d;
    EXPECT_ANY_THROW(set_option(d, option.flag, "")) << option.flag;
  }
}

TEST(Config, ErrorsNameTheFlag) {
  TrainConfig c;
  try {
    set_option(c, "--learning-rate", "1");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where(), "--learning-rate");
  }
  try {
    set_option(c, "--batchsize", "1");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(e.why().find("did you mean --batch-size?"), std::string::npos) << e.what();
  }
  EXPECT_THROW(set_option(c, "lr", "fast"), ConfigError);
  EXPECT_THROW(set_option(c, "units", "1.5"), ConfigError);
  EXPECT_THROW(set_option(c, "optimizer", "adagrad"), ConfigError);
  auto invalid = [](auto change) {
    TrainConfig d;
    change(d);
    EXPECT_THROW(validate(d), ConfigError);
  };
  invalid([](TrainConfig& d) { d.lr = 0; });
  invalid([](TrainConfig& d) { d.momentum = 1; });
  invalid([](TrainConfig& d) { d.beta2 = -0.1; });
  invalid([](TrainConfig& d) { d.batch_size = 0; });
  invalid([](TrainConfig& d) { d.threads = 0; });
  invalid([](TrainConfig& d) { d.decay_schedule = DecaySchedule::Exponential; });  // γ = 0
  invalid([](TrainConfig& d) { d.decay = -1; });
}

TEST(Config, FromJson) {
  const auto c = config_from_json({{"lr", 0.02}, {"units", 32}, {"optimizer", "momentum"}, {"batch_size", 64.0}});
  EXPECT_DOUBLE_EQ(c.lr, 0.02);
  EXPECT_EQ(c.units, 32);
  EXPECT_EQ(c.batch_size, 64);
  EXPECT_EQ(c.optimizer, OptimizerKind::Momentum);
  EXPECT_THROW(config_from_json({{"lr", -1.0}}), ConfigError);
  EXPECT_THROW(config_from_json({{"colour", "red"}}), ConfigError);
  EXPECT_THROW(config_from_json({{"lr", nullptr}}), ConfigError);
}

TEST(Config, BadDataPathIsADataError) {
  TrainConfig config;
  config.dataset = "/nonexistent/file.csv";
  try {
    train(config);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(e.where(), "/nonexistent/file.csv");
  }
}

}  // namespace
}  // namespace caviar::nn
