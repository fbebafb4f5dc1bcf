// Training: mini-batches split across the team's members (data parallel), gradients
// summed in a fixed order, the update split by parameter range. Deterministic for a
// given seed and thread count.
#include "nn/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>

#include <fmt/core.h>

#include "nn/schedules.h"

namespace caviar::nn {
namespace {

std::vector<int> layer_sizes(const TrainConfig& config, int inputs, int classes) {
  std::vector<int> sizes{inputs};
  for (int i = 0; i < config.layers; ++i) sizes.push_back(config.units);
  sizes.push_back(classes);
  return sizes;
}

constexpr Eigen::Index kScoreChunk = 256;  // columns per forward pass when scoring

// sum[i] += part[i]; part[i] = 0 over the range.
void add_and_clear(std::span<float> sum, std::span<float> part, Share range) {
  for (auto i = range.begin; i < range.end; ++i) {
    sum[i] += part[i];
    part[i] = 0.0f;
  }
}

}  // namespace

Trainer::Trainer(const TrainConfig& config, int inputs, int classes)
    : config_(config),
      rng_(config.seed),
      network_(layer_sizes(config, inputs, classes), rng_),
      optimizer_(make_optimizer(config, network_.parameters().size())),
      team_(config.threads),
      member_losses_(static_cast<std::size_t>(config.threads)),
      chance_loss_(std::log(std::max(classes, 2))) {
  const Eigen::Index slice = (config.batch_size + config.threads - 1) / config.threads;
  for (int m = 0; m < config.threads; ++m)
    workspaces_.emplace_back(network_, std::max(slice, kScoreChunk));
}

Trainer::EpochLoss Trainer::train_epoch(const DataView& data, double learning_rate,
                                        std::int64_t max_steps) {
  order_.resize(static_cast<std::size_t>(data.count));
  std::iota(order_.begin(), order_.end(), data.begin);
  for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng_.below(i)]);

  const auto& features = data.data->features;
  const auto& labels = data.data->labels;
  const std::span<float> parameters = network_.parameters();
  const auto total = static_cast<std::ptrdiff_t>(parameters.size());
  const int members = team_.size();

  double loss_sum = 0;
  Eigen::Index seen = 0;
  for (Eigen::Index start = 0; start < data.count && max_steps != 0; start += config_.batch_size) {
    const Eigen::Index batch = std::min<Eigen::Index>(config_.batch_size, data.count - start);
    optimizer_->begin_step(learning_rate);
    team_.run([&](int member) {
      // 1. This member's slice of the batch: gather, forward, backward.
      Workspace& ws = workspaces_[static_cast<std::size_t>(member)];
      const Share slice = share_of(batch, member, members);
      for (auto j = slice.begin; j < slice.end; ++j) {
        const Eigen::Index sample = order_[static_cast<std::size_t>(start + j)];
        ws.input.col(j - slice.begin) = features.col(sample);
        ws.labels[static_cast<std::size_t>(j - slice.begin)] = labels[static_cast<std::size_t>(sample)];
      }
      member_losses_[static_cast<std::size_t>(member)] =
          forward_backward(network_, slice.end - slice.begin, 1.0f / static_cast<float>(batch), ws);
      team_.sync();
      // 2. This member's range of parameters: sum the members' gradients (clearing them
      // for the next step), then update; the optimizer clears the sum.
      const Share range = share_of(total, member, members);
      std::span<float> gradient = workspaces_[0].gradient;
      for (int other = 1; other < members; ++other)
        add_and_clear(gradient, workspaces_[static_cast<std::size_t>(other)].gradient, range);
      optimizer_->update(parameters, gradient, static_cast<std::size_t>(range.begin),
                         static_cast<std::size_t>(range.end));
    });
    const double batch_loss = std::accumulate(member_losses_.begin(), member_losses_.end(), 0.0);
    if (!std::isfinite(batch_loss)) return {std::numeric_limits<double>::quiet_NaN(), true};
    if (!initial_loss_) initial_loss_ = batch_loss / static_cast<double>(batch);
    loss_sum += batch_loss;
    seen += batch;
    if (max_steps > 0) --max_steps;
  }
  return {seen > 0 ? loss_sum / static_cast<double>(seen) : 0.0, false};
}

double Trainer::divergence_threshold() const {
  return kDivergenceFactor * std::max(initial_loss_.value_or(chance_loss_), chance_loss_);
}

Trainer::Score Trainer::score(const DataView& data) {
  std::vector<Evaluation> parts(static_cast<std::size_t>(team_.size()));
  team_.run([&](int member) {
    const Share share = share_of(data.count, member, team_.size());
    parts[static_cast<std::size_t>(member)] =
        evaluate(network_, data.features().middleCols(share.begin, share.end - share.begin),
                 data.labels() + share.begin, workspaces_[static_cast<std::size_t>(member)]);
  });
  Evaluation all;
  for (const auto& p : parts) {
    all.loss_sum += p.loss_sum;
    all.correct += p.correct;
  }
  const double n = static_cast<double>(std::max<Eigen::Index>(data.count, 1));
  return {all.loss_sum / n, static_cast<double>(all.correct) / n};
}

TrainResult train(const TrainConfig& config, const EpochCallback& on_epoch) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  validate(config);
  const DataSplits splits = load_splits(config);
  Trainer trainer(config, static_cast<int>(splits.train.dimension()), splits.train.num_classes());
  const auto schedule = make_schedule(config);

  TrainResult result;
  result.train_samples = splits.train.count;
  result.val_samples = splits.validation.count;
  result.test_samples = splits.test.count;
  if (!config.restore_from.empty()) {
    std::filesystem::path file = config.restore_from;
    if (std::filesystem::is_directory(file)) file /= kCheckpointFile;
    result.restored_epoch = trainer.restore(file);
    if (result.restored_epoch >= config.epochs)
      throw ConfigError("--epochs", fmt::format("the checkpoint {} has done {} epochs already; --epochs "
                                                "counts all epochs, so give more than {}",
                                                file.string(), result.restored_epoch, result.restored_epoch));
  }
  const std::filesystem::path checkpoint =
      config.checkpoint_dir.empty() ? std::filesystem::path() : std::filesystem::path(config.checkpoint_dir) / kCheckpointFile;
  for (int epoch = result.restored_epoch + 1; epoch <= config.epochs; ++epoch) {
    EpochReport report;
    report.epoch = epoch;
    report.learning_rate = schedule->at(epoch - 1);
    const auto epoch_started = Clock::now();
    const auto loss = trainer.train_epoch(splits.train, report.learning_rate);
    report.seconds = std::chrono::duration<double>(Clock::now() - epoch_started).count();
    if (loss.diverged) {
      result.diverged = true;
      result.diverged_epoch = epoch;
      result.diverged_reason = "the loss became NaN or infinite";
      break;
    }
    if (loss.mean_loss > trainer.divergence_threshold()) {
      result.diverged = true;
      result.diverged_epoch = epoch;
      result.diverged_reason = fmt::format(
          "the training loss {:.4g} is over {:g} times the starting loss {:.4g}", loss.mean_loss,
          Trainer::kDivergenceFactor, std::max(trainer.starting_loss(), std::log(splits.train.num_classes())));
      break;
    }
    report.train_loss = loss.mean_loss;
    const auto validation = trainer.score(splits.validation);
    report.val_loss = validation.loss;
    report.val_acc = validation.accuracy;
    result.epochs.push_back(report);
    if (!std::isfinite(report.val_loss)) {
      result.diverged = true;
      result.diverged_epoch = epoch;
      result.diverged_reason = "the validation loss became NaN or infinite";
      break;
    }
    if (!checkpoint.empty()) trainer.save(checkpoint, epoch);
    if (on_epoch && !on_epoch(report)) {
      result.stopped_early = true;
      break;
    }
  }
  if (result.diverged) {
    result.test_loss = result.test_acc = std::numeric_limits<double>::quiet_NaN();
  } else {
    const auto test = trainer.score(splits.test);
    result.test_loss = test.loss;
    result.test_acc = test.accuracy;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

}  // namespace caviar::nn
