// One network being trained: its parameters, optimizer, shuffling and threads. train()
// drives it epoch by epoch; the benchmark drives it directly.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "caviar/nn.h"
#include "nn/data.h"
#include "nn/network.h"
#include "nn/optimizers.h"
#include "nn/team.h"

namespace caviar::nn {

// Not thread-safe; each run owns one. Uses config.threads threads of its own.
class Trainer {
 public:
  // A fresh He-initialised network for `inputs` features and `classes` classes.
  Trainer(const TrainConfig& config, int inputs, int classes);

  struct EpochLoss {
    double mean_loss = 0;  // over the samples trained on
    bool diverged = false; // stopped at a batch whose loss was NaN or infinite
  };
  // Trains on `data` in mini-batches, reshuffled on every call, at learning rate α.
  // Stops after `max_steps` batches when that is >= 0 (warm-up, tests).
  EpochLoss train_epoch(const DataView& data, double learning_rate, std::int64_t max_steps = -1);

  // A run has diverged when an epoch's mean training loss exceeds this: kDivergenceFactor
  // times the larger of its starting loss (its first batch's, before any update) and the
  // loss of a uniform guess, ln(classes). No run that learns comes near it (the loss of a
  // guess is where every run starts); one whose steps are far too large shoots past it
  // in its first epoch (sgd at lr 1e4 on Fashion-MNIST: about 4,600 against 23).
  static constexpr double kDivergenceFactor = 10;
  double divergence_threshold() const;
  double starting_loss() const { return initial_loss_.value_or(chance_loss_); }

  // Mean loss and accuracy of the current network on `data`.
  struct Score {
    double loss = 0, accuracy = 0;
  };
  Score score(const DataView& data);

  const Network& network() const { return network_; }

  // Checkpoints (src/nn/checkpoint.cpp): save() writes the whole training state after
  // `epoch` completed epochs to `file`, atomically (a temporary file, then a rename).
  // restore() reads one written for the same layer sizes and optimizer and returns its
  // epoch. Both throw DataError naming the file.
  void save(const std::filesystem::path& file, int epoch);
  int restore(const std::filesystem::path& file);

 private:
  TrainConfig config_;
  Rng rng_;
  Network network_;
  std::unique_ptr<Optimizer> optimizer_;
  WorkerTeam team_;
  std::vector<Workspace> workspaces_;  // one per team member
  std::vector<double> member_losses_;
  std::vector<Eigen::Index> order_;    // the epoch's shuffled sample order
  double chance_loss_;                  // ln(classes): the loss of a uniform guess
  std::optional<double> initial_loss_;  // the first batch's mean loss, before its update
};

}  // namespace caviar::nn
