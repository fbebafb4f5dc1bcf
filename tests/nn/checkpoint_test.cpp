// Checkpoints: a run restored from epoch 2 and trained to 4 is bit-identical to a run of
// 4 epochs straight (weights, optimizer state, shuffling, learning-rate position), and a
// bad checkpoint is a clear error, never a silently different network.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "../support/files.h"
#include "caviar/nn.h"

namespace caviar::nn {
namespace {

namespace fs = std::filesystem;
using caviar::testing::read_file;
using caviar::testing::TempDir;
using caviar::testing::write_file;

TrainConfig small(OptimizerKind optimizer) {
  TrainConfig config;
  config.dataset = "spirals";
  config.spiral_points = 200;
  config.layers = 2;
  config.units = 24;
  config.batch_size = 32;
  config.optimizer = optimizer;
  config.lr = optimizer == OptimizerKind::Sgd || optimizer == OptimizerKind::Momentum ? 0.2 : 0.01;
  config.decay = 0.3;          // inverse-time decay: the schedule's position must survive
  config.weight_decay = 1e-4;
  config.epochs = 4;
  config.seed = 7;
  return config;
}

// Expects `what` to throw a DataError whose message holds `words`.
template <class F>
void expect_data_error(F what, const std::string& words) {
  try {
    what();
    ADD_FAILURE() << "no error; expected one about: " << words;
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, TwoPlusTwoEpochsIsBitIdenticalToFourStraight) {
  for (auto kind : {OptimizerKind::Sgd, OptimizerKind::Momentum, OptimizerKind::RmsProp, OptimizerKind::Adam}) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE(std::string(to_string(kind)) + " threads=" + std::to_string(threads));
      TempDir tmp;
      TrainConfig straight = small(kind);
      straight.threads = threads;
      straight.checkpoint_dir = (tmp / "straight").string();
      const TrainResult four = train(straight);

      TrainConfig first = straight;
      first.epochs = 2;
      first.checkpoint_dir = (tmp / "first").string();
      const TrainResult two = train(first);
      ASSERT_EQ(two.epochs.size(), 2u);

      TrainConfig second = straight;
      second.restore_from = (tmp / "first").string();  // a folder: its mlp.ckpt
      second.checkpoint_dir = (tmp / "second").string();
      std::vector<int> epochs;
      const TrainResult rest = train(second, [&](const EpochReport& r) {
        epochs.push_back(r.epoch);
        return true;
      });
      EXPECT_EQ(rest.restored_epoch, 2);
      EXPECT_EQ(epochs, (std::vector<int>{3, 4}));
      ASSERT_EQ(rest.epochs.size(), 2u);
      ASSERT_EQ(four.epochs.size(), 4u);
      for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(rest.epochs[i].train_loss, four.epochs[i + 2].train_loss);
        EXPECT_EQ(rest.epochs[i].val_loss, four.epochs[i + 2].val_loss);
        EXPECT_EQ(rest.epochs[i].learning_rate, four.epochs[i + 2].learning_rate);
      }
      EXPECT_EQ(rest.test_loss, four.test_loss);
      // The whole state after epoch 4 (weights, optimizer buffers and step, generator) is
      // written by both runs: the two files are the same bytes.
      const std::string a = read_file(tmp / "straight" / "mlp.ckpt");
      const std::string b = read_file(tmp / "second" / "mlp.ckpt");
      ASSERT_GT(a.size(), 1000u);
      EXPECT_TRUE(a == b) << "the restored run's state differs from the straight run's";
      // And the epoch-2 checkpoint is not the epoch-4 one (it really trained on).
      EXPECT_FALSE(read_file(tmp / "first" / "mlp.ckpt") == b);
    }
  }
}

TEST(Checkpoint, NewHyperparametersApplyFromTheRestoredState) {
  TempDir tmp;
  TrainConfig first = small(OptimizerKind::Adam);
  first.epochs = 2;
  first.checkpoint_dir = tmp.path().string();
  train(first);
  TrainConfig same = small(OptimizerKind::Adam);
  same.restore_from = (tmp / "mlp.ckpt").string();  // the file itself works too
  TrainConfig faster = same;
  faster.lr = 0.03;
  const auto a = train(same), b = train(faster);
  EXPECT_EQ(b.restored_epoch, 2);
  EXPECT_NE(a.epochs[0].train_loss, b.epochs[0].train_loss);
  EXPECT_DOUBLE_EQ(b.epochs[0].learning_rate, 0.03 / (1 + 0.3 * 2));  // α₀ / (1 + γ·e), e = 2
  // From the restored state, not from scratch: far below a fresh network's first epoch.
  TrainConfig fresh = small(OptimizerKind::Adam);
  fresh.epochs = 1;
  EXPECT_LT(a.epochs[0].train_loss, train(fresh).epochs[0].train_loss);
}

TEST(Checkpoint, BadCheckpointsAreClearErrors) {
  TempDir tmp;
  TrainConfig first = small(OptimizerKind::Adam);
  first.epochs = 2;
  first.checkpoint_dir = tmp.path().string();
  train(first);
  const fs::path good = tmp / "mlp.ckpt";
  const std::string bytes = read_file(good);

  TrainConfig restore = small(OptimizerKind::Adam);
  auto from = [&](const fs::path& file) {
    TrainConfig c = restore;
    c.restore_from = file.string();
    return c;
  };
  expect_data_error([&] { train(from(tmp / "missing.ckpt")); }, "no such checkpoint");
  write_file(tmp / "text.ckpt", "epoch=3 val_loss=0.4\n");
  expect_data_error([&] { train(from(tmp / "text.ckpt")); }, "not a caviar trainer checkpoint");
  write_file(tmp / "cut.ckpt", bytes.substr(0, bytes.size() / 2));
  expect_data_error([&] { train(from(tmp / "cut.ckpt")); }, "damaged checkpoint");
  write_file(tmp / "header.ckpt", bytes.substr(0, 12));
  expect_data_error([&] { train(from(tmp / "header.ckpt")); }, "ends too early");
  std::string flipped = bytes;
  flipped[flipped.size() - 5] ^= 0x40;
  write_file(tmp / "flipped.ckpt", flipped);
  expect_data_error([&] { train(from(tmp / "flipped.ckpt")); }, "checksum");
  try {
    train(from(tmp / "cut.ckpt"));
  } catch (const DataError& e) {
    EXPECT_EQ(e.where(), (tmp / "cut.ckpt").string());  // the message names the file
  }

  TrainConfig wider = from(good);
  wider.units = 32;
  expect_data_error([&] { train(wider); }, "layer sizes 2-24-24-3, this run's 2-32-32-3");
  TrainConfig other = from(good);
  other.optimizer = OptimizerKind::Momentum;
  expect_data_error([&] { train(other); }, "trained with the adam optimizer, this run uses momentum");
  TrainConfig done = from(good);
  done.epochs = 2;
  EXPECT_THROW(train(done), ConfigError);  // --epochs counts all epochs: nothing left to do
}

TEST(Checkpoint, FlagsAreOptions) {
  TrainConfig c;
  set_option(c, "--checkpoint-dir", "/tmp/ck");
  set_option(c, "restore_from", "/tmp/ck/mlp.ckpt");
  EXPECT_EQ(c.checkpoint_dir, "/tmp/ck");
  EXPECT_EQ(c.restore_from, "/tmp/ck/mlp.ckpt");
}

}  // namespace
}  // namespace caviar::nn
