// The built-in trainer: a multi-layer perceptron with exactly the hyperparameters of the
// tuning lesson (α, β, β₁, β₂, ε, l, n, γ, t), trained on Fashion-MNIST, a CSV file or a
// synthetic spiral set.
//
//   caviar::nn::TrainConfig config;             // defaults: Adam, 2 x 128 ReLU, batch 128
//   config.lr = 3e-3;
//   config.epochs = 5;
//   caviar::nn::validate(config);               // throws caviar::ConfigError
//   auto result = caviar::nn::train(config, [](const caviar::nn::EpochReport& r) {
//     std::printf("epoch=%d val_loss=%.4f\n", r.epoch, r.val_loss);
//     return true;                              // false stops training early
//   });
//
// train() keeps no global state: several threads may train different configs at once.
// Data sets read from files are cached once per process (read-only, shared).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "caviar/error.h"

namespace caviar::nn {

// A data file that is missing, unreadable or malformed; where() is the file's path.
// An exception value like every caviar::Error.
class DataError : public caviar::Error {
  using Error::Error;
};

// How the parameters move along the gradient g (element-wise, step count k from 1); g is
// the mini-batch mean gradient plus λ·w when weight_decay λ > 0.
enum class OptimizerKind {
  Sgd,       // w -= α·g
  Momentum,  // v = β·v + (1−β)·g;             w -= α·v
  RmsProp,   // s = β₂·s + (1−β₂)·g²;          w -= α·g / (√s + ε)
  Adam,      // m = β₁·m + (1−β₁)·g; v = β₂·v + (1−β₂)·g²;
             // w -= α·(m / (1−β₁ᵏ)) / (√(v / (1−β₂ᵏ)) + ε)
};

// How the learning rate falls with e, the number of completed epochs (0 in the first).
enum class DecaySchedule {
  InverseTime,  // α = α₀ / (1 + γ·e)             (the lesson's; γ = 0: no decay)
  Exponential,  // α = α₀ · γ^e                    (0 < γ ≤ 1)
  Step,         // α = α₀ · γ^⌊e / decay_every⌋    (0 < γ ≤ 1)
};

// One training run, described as plain values: a value type, safe to copy and to share
// read-only between threads. Field names match the command-line flags (`--batch-size`
// sets batch_size). Defaults are the ones the CLI shows.
struct TrainConfig {
  double lr = 1e-3;          // α₀, the initial learning rate (> 0)
  double momentum = 0.9;     // β of the momentum optimizer, in [0, 1)
  double beta1 = 0.9;        // Adam's β₁, in [0, 1)
  double beta2 = 0.999;      // Adam's and RMSprop's β₂, in [0, 1)
  double epsilon = 1e-8;     // ε of Adam and RMSprop (> 0)
  int layers = 2;            // l, hidden layers (>= 0; 0 is softmax regression)
  int units = 128;           // n, units per hidden layer (>= 1)
  double decay = 0.0;        // γ, the learning-rate decay (see DecaySchedule)
  DecaySchedule decay_schedule = DecaySchedule::InverseTime;
  int decay_every = 10;      // epochs per step of the Step schedule (>= 1)
  int batch_size = 128;      // t, mini-batch size (>= 1)
  OptimizerKind optimizer = OptimizerKind::Adam;
  int epochs = 10;           // full passes over the training split (>= 1)
  double weight_decay = 0.0; // λ of L2 regularisation: the gradient gets + λ·w (>= 0)

  // "fashion-mnist" (idx files under data_dir), "spirals" (synthetic, K classes), or the
  // path of a CSV file with a header row and numeric columns.
  std::string dataset = "fashion-mnist";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::string label_column = "label";  // CSV only: the column holding the class
  int train_subset = 0;      // > 0: train on the first this-many training samples only
  // Changed data, for re-tuning (docs/retune.md): the training samples start this far in
  // (another subset), this share of their labels is replaced by another class (fixed
  // draws, independent of `seed`), and the class `drop_class` is left out of every split.
  int train_offset = 0;      // >= 0
  double label_noise = 0.0;  // in [0, 1)
  int drop_class = -1;       // -1: none
  int spiral_classes = 3;    // spirals only: K (>= 2)
  int spiral_points = 600;   // spirals only: points per class (>= 10)

  std::uint64_t seed = 0;    // initialisation and shuffling; same seed, same losses
  int threads = 1;           // worker threads of this run (>= 1); results depend on it

  // Checkpoints (see train()). A checkpoint holds the weights, the optimizer's state and
  // step count, the shuffling generator and the number of epochs done, so a run restored
  // from epoch e and trained to `epochs` gives bit-identical weights to one run straight
  // to `epochs` (same config, same threads).
  std::string checkpoint_dir;  // "": none; else the state is saved there after every epoch
  std::string restore_from;    // "": a fresh network; else a checkpoint file or folder
};

// Throws caviar::ConfigError ("--flag: why") if any field is out of range.
void validate(const TrainConfig& config);

// Sets one field from its text form, as the command line and trial parameters give it.
// `name` is a flag name with or without dashes ("--batch-size", "batch_size").
// Throws caviar::ConfigError for an unknown name or a value that does not parse.
void set_option(TrainConfig& config, std::string_view name, std::string_view value);

// A config from trial parameters ({"lr": 0.01, "optimizer": "adam", ...}); keys as in
// set_option. Throws caviar::ConfigError for unknown keys and bad values, then validates.
TrainConfig config_from_json(const nlohmann::json& params);

// The settable options, in the order --help shows them (static, immutable data).
struct OptionInfo {
  std::string_view flag;   // "batch-size"
  std::string_view value;  // what the value is, for --help: "NUM", "INT", "NAME", "PATH"
  std::string_view help;   // one line, with the default
};
std::span<const OptionInfo> train_options();

// Names as the command line writes them: "sgd", "momentum", "rmsprop", "adam";
// "inverse_time", "exponential", "step". The parsers throw caviar::ConfigError.
std::string_view to_string(OptimizerKind kind);
std::string_view to_string(DecaySchedule schedule);
OptimizerKind optimizer_from_string(std::string_view text);
DecaySchedule decay_schedule_from_string(std::string_view text);

// What one epoch gave: a plain value. Losses are mean softmax cross-entropy (without the
// L2 term).
struct EpochReport {
  int epoch = 0;             // 1, 2, ...
  double train_loss = 0;     // mean over the epoch's mini-batches
  double val_loss = 0;
  double val_acc = 0;        // fraction in [0, 1]
  double learning_rate = 0;  // α used in this epoch
  double seconds = 0;        // wall time of the epoch's training steps
};

// Called after every epoch. Return false to stop training (the run ends normally and is
// marked stopped_early); an exception thrown here ends train() and passes through it.
using EpochCallback = std::function<bool(const EpochReport&)>;

// What a whole run gave: a plain value.
struct TrainResult {
  std::vector<EpochReport> epochs;  // one per completed epoch
  bool diverged = false;     // a loss became NaN or infinite, or exploded (trainer.h)
  int diverged_epoch = 0;    // the epoch in which it happened (when diverged)
  std::string diverged_reason;  // how: "the training loss 4613 is over 10 times ..."
  bool stopped_early = false;  // the callback returned false
  double test_loss = 0;      // on the held-out test set; NaN when diverged
  double test_acc = 0;
  std::int64_t train_samples = 0, val_samples = 0, test_samples = 0;
  double seconds = 0;        // wall time of the whole call, loading included
  int restored_epoch = 0;    // epochs the restored checkpoint had done (0: fresh start)
};

// The file a checkpoint folder holds ("mlp.ckpt").
inline constexpr std::string_view kCheckpointFile = "mlp.ckpt";

// Trains a freshly initialised network as `config` says, calling `on_epoch` (if set) after
// every epoch, then measures it on the test set. Returns the result; divergence is a
// result, not an error. Throws caviar::ConfigError for a bad config and caviar::Error
// ("path: why") for a data file that is missing or malformed. Safe to call from several
// threads at once.
//
// With config.restore_from, training continues from that checkpoint: epochs e+1 ..
// config.epochs (config.epochs counts all epochs, so it must exceed the checkpoint's e),
// with the config's hyperparameters (α, β, ... may differ from the checkpoint's; the
// network's shape and the optimizer must not). A missing, foreign, truncated or
// mismatched checkpoint throws DataError naming the file. With config.checkpoint_dir, the
// state after each epoch is written to <checkpoint_dir>/mlp.ckpt (atomically: a crash
// leaves the previous epoch's file) before on_epoch is called.
TrainResult train(const TrainConfig& config, const EpochCallback& on_epoch = {});

}  // namespace caviar::nn
