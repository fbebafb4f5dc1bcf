// Test support for the trainer: a small run on the spirals data set that learns in seconds.
#pragma once

#include "caviar/nn.h"

namespace caviar::nn::testing {

// 3 spirals of 600 points, 2 x 64 units, Adam at 0.01, batch 32, seed 1.
inline TrainConfig spirals(int epochs) {
  TrainConfig config;
  config.dataset = "spirals";
  config.spiral_classes = 3;
  config.spiral_points = 600;
  config.layers = 2;
  config.units = 64;
  config.batch_size = 32;
  config.optimizer = OptimizerKind::Adam;
  config.lr = 0.01;
  config.epochs = epochs;
  config.seed = 1;
  return config;
}

}  // namespace caviar::nn::testing
