// One or two update steps of each optimizer against numbers worked out by hand from the
// formulas in optimizers.h, and each decay schedule at a few epochs.
#include <gtest/gtest.h>

#include <vector>

#include "nn/optimizers.h"
#include "nn/schedules.h"

namespace caviar::nn {
namespace {

TrainConfig with(OptimizerKind kind) {
  TrainConfig config;
  config.optimizer = kind;
  config.momentum = 0.9;
  config.beta1 = 0.9;
  config.beta2 = 0.999;
  config.epsilon = 1e-8;
  return config;
}

// Two steps from w = (1, −2) with gradients g1 then g2, at α = 0.1.
std::vector<float> two_steps(Optimizer& optimizer, std::vector<float> g1, std::vector<float> g2) {
  std::vector<float> w{1.0f, -2.0f};
  optimizer.begin_step(0.1);
  optimizer.update(w, g1, 0, 2);
  EXPECT_EQ(g1, (std::vector<float>{0.0f, 0.0f})) << "update() clears the gradient";
  optimizer.begin_step(0.1);
  optimizer.update(w, g2, 0, 1);  // ranges may be split: first element here,
  EXPECT_EQ(g2[0], 0.0f);
  EXPECT_NE(g2[1], 0.0f);
  optimizer.update(w, g2, 1, 2);  // the second one here
  return w;
}

TEST(Optimizer, Sgd) {
  auto sgd = make_optimizer(with(OptimizerKind::Sgd), 2);
  std::vector<float> w{1.0f, -2.0f}, g{0.5f, -0.25f};
  sgd->begin_step(0.1);
  sgd->update(w, g, 0, 2);
  EXPECT_FLOAT_EQ(w[0], 0.95f);
  EXPECT_FLOAT_EQ(w[1], -1.975f);
}

TEST(Optimizer, Momentum) {
  // v1 = 0.1·0.5 = 0.05, w = 1 − 0.005 = 0.995; v2 = 0.9·0.05 + 0.1·1 = 0.145, w = 0.9805.
  // Second weight: v1 = −0.025, w = −1.9975; v2 = −0.0225 + 0.05 = 0.0275, w = −2.00025.
  auto momentum = make_optimizer(with(OptimizerKind::Momentum), 2);
  const auto w = two_steps(*momentum, {0.5f, -0.25f}, {1.0f, 0.5f});
  EXPECT_NEAR(w[0], 0.9805f, 1e-6f);
  EXPECT_NEAR(w[1], -2.00025f, 1e-6f);
}

TEST(Optimizer, RmsProp) {
  // β₂ = 0.9 here. s1 = 0.1·0.25 = 0.025, w = 1 − 0.05/√0.025 = 0.68377225;
  // s2 = 0.0225 + 0.025 = 0.0475, w = 0.68377225 − 0.05/√0.0475 = 0.45435653.
  auto config = with(OptimizerKind::RmsProp);
  config.beta2 = 0.9;
  auto rmsprop = make_optimizer(config, 2);
  const auto w = two_steps(*rmsprop, {0.5f, -0.25f}, {0.5f, -0.25f});
  EXPECT_NEAR(w[0], 0.45435653f, 2e-6f);
  EXPECT_NEAR(w[1], -1.45435656f, 2e-6f);
}

TEST(Optimizer, AdamFirstStepMovesByAlpha) {
  // Bias correction makes the first step ±α·g/(|g| + ε): 1 − 0.1·0.5/(0.5 + 1e-8).
  auto adam = make_optimizer(with(OptimizerKind::Adam), 2);
  std::vector<float> w{1.0f, -2.0f}, g{0.5f, -0.25f};
  adam->begin_step(0.1);
  adam->update(w, g, 0, 2);
  EXPECT_FLOAT_EQ(w[0], 0.9f);
  EXPECT_FLOAT_EQ(w[1], -1.9f);
}

TEST(Optimizer, AdamSecondStep) {
  // m2 = 0.9·0.05 + 0.1·1 = 0.145, m̂ = 0.145/0.19 = 0.76315789;
  // v2 = 0.999·0.00025 + 0.001·1 = 0.00124975, v̂ = 0.00124975/0.001999 = 0.62518759;
  // w = 0.9 − 0.1·0.76315789/0.79068805 = 0.80348180. Second weight: −1.93661036.
  auto adam = make_optimizer(with(OptimizerKind::Adam), 2);
  const auto w = two_steps(*adam, {0.5f, -0.25f}, {1.0f, 0.5f});
  EXPECT_NEAR(w[0], 0.80348180f, 2e-6f);
  EXPECT_NEAR(w[1], -1.93661036f, 2e-6f);
}

TEST(Optimizer, WeightDecayIsAddedToTheGradient) {
  // g + λ·w = 0.5 + 0.1·1 = 0.6 → w = 1 − 0.1·0.6 = 0.94.
  auto config = with(OptimizerKind::Sgd);
  config.weight_decay = 0.1;
  auto sgd = make_optimizer(config, 1);
  std::vector<float> w{1.0f}, g{0.5f};
  sgd->begin_step(0.1);
  sgd->update(w, g, 0, 1);
  EXPECT_FLOAT_EQ(w[0], 0.94f);
}

TEST(Schedule, InverseTimeIsTheLessonsDecay) {
  TrainConfig config;
  config.lr = 0.2;
  config.decay = 1.0;
  auto schedule = make_schedule(config);
  EXPECT_DOUBLE_EQ(schedule->at(0), 0.2);
  EXPECT_DOUBLE_EQ(schedule->at(1), 0.1);
  EXPECT_DOUBLE_EQ(schedule->at(2), 0.2 / 3);
  EXPECT_DOUBLE_EQ(schedule->at(3), 0.05);
  config.decay = 0.0;
  EXPECT_DOUBLE_EQ(make_schedule(config)->at(50), 0.2);
}

TEST(Schedule, Exponential) {
  TrainConfig config;
  config.lr = 0.1;
  config.decay = 0.5;
  config.decay_schedule = DecaySchedule::Exponential;
  auto schedule = make_schedule(config);
  EXPECT_DOUBLE_EQ(schedule->at(0), 0.1);
  EXPECT_DOUBLE_EQ(schedule->at(1), 0.05);
  EXPECT_DOUBLE_EQ(schedule->at(3), 0.0125);
}

TEST(Schedule, Step) {
  TrainConfig config;
  config.lr = 0.1;
  config.decay = 0.5;
  config.decay_every = 2;
  config.decay_schedule = DecaySchedule::Step;
  auto schedule = make_schedule(config);
  EXPECT_DOUBLE_EQ(schedule->at(0), 0.1);
  EXPECT_DOUBLE_EQ(schedule->at(1), 0.1);
  EXPECT_DOUBLE_EQ(schedule->at(2), 0.05);
  EXPECT_DOUBLE_EQ(schedule->at(3), 0.05);
  EXPECT_DOUBLE_EQ(schedule->at(4), 0.025);
}

}  // namespace
}  // namespace caviar::nn
