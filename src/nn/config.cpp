// TrainConfig from text (flags, trial parameters) and its validation.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include <fmt/core.h>

#include "caviar/nn.h"
#include "base/format.h"

namespace caviar::nn {
namespace {

constexpr std::array kOptions = {
    OptionInfo{"lr", "NUM", "initial learning rate α₀ (> 0; default 0.001)"},
    OptionInfo{"momentum", "NUM", "β of the momentum optimizer, in [0, 1) (default 0.9)"},
    OptionInfo{"beta1", "NUM", "Adam's β₁, in [0, 1) (default 0.9)"},
    OptionInfo{"beta2", "NUM", "β₂ of Adam and RMSprop, in [0, 1) (default 0.999)"},
    OptionInfo{"epsilon", "NUM", "ε of Adam and RMSprop (> 0; default 1e-8)"},
    OptionInfo{"layers", "INT", "l, hidden layers (>= 0; default 2)"},
    OptionInfo{"units", "INT", "n, units per hidden layer (>= 1; default 128)"},
    OptionInfo{"decay", "NUM", "γ, learning-rate decay (default 0: none)"},
    OptionInfo{"decay-schedule", "NAME",
               "inverse_time: α₀/(1+γ·e) | exponential: α₀·γ^e | step: α₀·γ^⌊e/decay-every⌋; "
               "e = completed epochs (default inverse_time)"},
    OptionInfo{"decay-every", "INT", "epochs per step of the step schedule (>= 1; default 10)"},
    OptionInfo{"batch-size", "INT", "t, mini-batch size (>= 1; default 128)"},
    OptionInfo{"optimizer", "NAME", "sgd | momentum | rmsprop | adam (default adam)"},
    OptionInfo{"epochs", "INT", "passes over the training split (>= 1; default 10)"},
    OptionInfo{"weight-decay", "NUM", "λ of L2 regularisation (>= 0; default 0)"},
    OptionInfo{"dataset", "NAME|PATH", "fashion-mnist | spirals | path/to/file.csv (default fashion-mnist)"},
    OptionInfo{"data-dir", "PATH",
               "where the Fashion-MNIST idx files are (default /usr/share/datasets/fashion-mnist)"},
    OptionInfo{"label-column", "NAME", "CSV: the column holding the class (default label)"},
    OptionInfo{"train-subset", "INT", "train on the first N training samples only (0: all; default 0)"},
    OptionInfo{"train-offset", "INT", "the training samples start this far in: another subset (default 0)"},
    OptionInfo{"label-noise", "NUM", "this share of the training labels replaced by another class (in [0, 1); default 0)"},
    OptionInfo{"drop-class", "INT", "leave this class out of every split (default -1: none)"},
    OptionInfo{"spiral-classes", "INT", "spirals: number of arms K (>= 2; default 3)"},
    OptionInfo{"spiral-points", "INT", "spirals: points per arm (>= 10; default 600)"},
    OptionInfo{"seed", "INT", "seed of initialisation and shuffling (default 0)"},
    OptionInfo{"threads", "INT", "threads of this run (>= 1; default 1)"},
    OptionInfo{"checkpoint-dir", "PATH", "save the training state in this folder after every epoch (default: none)"},
    OptionInfo{"restore-from", "PATH",
               "continue from this checkpoint (file or folder); --epochs counts all epochs (default: none)"},
};

// "--batch_size", "batch-size" -> "batch-size"
std::string flag_name(std::string_view name) {
  while (!name.empty() && name.front() == '-') name.remove_prefix(1);
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

[[noreturn]] void unknown_option(const std::string& flag) {
  std::vector<std::string> flags;
  for (const auto& option : kOptions) flags.emplace_back(option.flag);
  const std::string best = caviar::detail::closest(flag, flags);
  throw ConfigError("--" + flag, best.empty() ? "unknown option"
                                              : fmt::format("unknown option; did you mean --{}?", best));
}

double parse_double(const std::string& flag, std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    throw ConfigError("--" + flag, fmt::format("'{}' is not a finite number", text));
  return value;
}

template <class Int>
Int parse_integer(const std::string& flag, std::string_view text) {
  Int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    // Tuners often send integers as "128.0": accept a double with no fraction.
    double d = 0;
    const auto [dend, dec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (!text.empty() && dec == std::errc() && dend == text.data() + text.size() && d == std::floor(d) &&
        d >= static_cast<double>(std::numeric_limits<Int>::min()) &&
        d <= static_cast<double>(std::numeric_limits<Int>::max()))
      return static_cast<Int>(d);
    throw ConfigError("--" + flag, fmt::format("'{}' is not an integer", text));
  }
  return value;
}

void require(bool ok, const char* flag, const std::string& why) {
  if (!ok) throw ConfigError(std::string("--") + flag, why);
}

}  // namespace

std::string_view to_string(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::Sgd: return "sgd";
    case OptimizerKind::Momentum: return "momentum";
    case OptimizerKind::RmsProp: return "rmsprop";
    case OptimizerKind::Adam: return "adam";
  }
  return "?";
}

std::string_view to_string(DecaySchedule schedule) {
  switch (schedule) {
    case DecaySchedule::InverseTime: return "inverse_time";
    case DecaySchedule::Exponential: return "exponential";
    case DecaySchedule::Step: return "step";
  }
  return "?";
}

OptimizerKind optimizer_from_string(std::string_view text) {
  for (auto kind : {OptimizerKind::Sgd, OptimizerKind::Momentum, OptimizerKind::RmsProp, OptimizerKind::Adam})
    if (text == to_string(kind)) return kind;
  throw ConfigError("--optimizer", fmt::format("'{}' is not one of sgd, momentum, rmsprop, adam", text));
}

DecaySchedule decay_schedule_from_string(std::string_view text) {
  const std::string name = flag_name(text) == "inverse-time" ? "inverse_time" : std::string(text);
  for (auto s : {DecaySchedule::InverseTime, DecaySchedule::Exponential, DecaySchedule::Step})
    if (name == to_string(s)) return s;
  throw ConfigError("--decay-schedule",
                    fmt::format("'{}' is not one of inverse_time, exponential, step", text));
}

std::span<const OptionInfo> train_options() { return kOptions; }

void set_option(TrainConfig& c, std::string_view name, std::string_view value) {
  const std::string f = flag_name(name);
  if (value.empty()) {
    if (std::none_of(kOptions.begin(), kOptions.end(), [&](const OptionInfo& o) { return o.flag == f; }))
      unknown_option(f);
    throw ConfigError("--" + f, "needs a value");
  }
  if (f == "lr") c.lr = parse_double(f, value);
  else if (f == "momentum") c.momentum = parse_double(f, value);
  else if (f == "beta1") c.beta1 = parse_double(f, value);
  else if (f == "beta2") c.beta2 = parse_double(f, value);
  else if (f == "epsilon") c.epsilon = parse_double(f, value);
  else if (f == "layers") c.layers = parse_integer<int>(f, value);
  else if (f == "units") c.units = parse_integer<int>(f, value);
  else if (f == "decay") c.decay = parse_double(f, value);
  else if (f == "decay-schedule") c.decay_schedule = decay_schedule_from_string(value);
  else if (f == "decay-every") c.decay_every = parse_integer<int>(f, value);
  else if (f == "batch-size") c.batch_size = parse_integer<int>(f, value);
  else if (f == "optimizer") c.optimizer = optimizer_from_string(value);
  else if (f == "epochs") c.epochs = parse_integer<int>(f, value);
  else if (f == "weight-decay") c.weight_decay = parse_double(f, value);
  else if (f == "dataset") c.dataset = std::string(value);
  else if (f == "data-dir") c.data_dir = std::string(value);
  else if (f == "label-column") c.label_column = std::string(value);
  else if (f == "train-subset") c.train_subset = parse_integer<int>(f, value);
  else if (f == "train-offset") c.train_offset = parse_integer<int>(f, value);
  else if (f == "label-noise") c.label_noise = parse_double(f, value);
  else if (f == "drop-class") c.drop_class = parse_integer<int>(f, value);
  else if (f == "spiral-classes") c.spiral_classes = parse_integer<int>(f, value);
  else if (f == "spiral-points") c.spiral_points = parse_integer<int>(f, value);
  else if (f == "seed") c.seed = parse_integer<std::uint64_t>(f, value);
  else if (f == "threads") c.threads = parse_integer<int>(f, value);
  else if (f == "checkpoint-dir") c.checkpoint_dir = std::string(value);
  else if (f == "restore-from") c.restore_from = std::string(value);
  else unknown_option(f);
}

TrainConfig config_from_json(const nlohmann::json& params) {
  if (!params.is_object()) throw ConfigError("params", "expected a JSON object of name: value");
  TrainConfig config;
  for (const auto& [name, value] : params.items()) {
    if (value.is_string()) set_option(config, name, value.get<std::string>());
    else if (value.is_number_integer()) set_option(config, name, std::to_string(value.get<std::int64_t>()));
    else if (value.is_number()) set_option(config, name, fmt::format("{}", value.get<double>()));
    else throw ConfigError("--" + flag_name(name), "expected a number or a string, got " + value.dump());
  }
  validate(config);
  return config;
}

void validate(const TrainConfig& c) {
  const bool fraction_rule = c.decay_schedule != DecaySchedule::InverseTime;
  require(c.lr > 0 && std::isfinite(c.lr), "lr", fmt::format("must be > 0, got {}", c.lr));
  require(c.momentum >= 0 && c.momentum < 1, "momentum", fmt::format("must be in [0, 1), got {}", c.momentum));
  require(c.beta1 >= 0 && c.beta1 < 1, "beta1", fmt::format("must be in [0, 1), got {}", c.beta1));
  require(c.beta2 >= 0 && c.beta2 < 1, "beta2", fmt::format("must be in [0, 1), got {}", c.beta2));
  require(c.epsilon > 0, "epsilon", fmt::format("must be > 0, got {}", c.epsilon));
  require(c.layers >= 0 && c.layers <= 64, "layers", fmt::format("must be in [0, 64], got {}", c.layers));
  require(c.units >= 1 && c.units <= 65536, "units", fmt::format("must be in [1, 65536], got {}", c.units));
  if (fraction_rule)
    require(c.decay > 0 && c.decay <= 1, "decay",
            fmt::format("must be in (0, 1] for the {} schedule, got {}", to_string(c.decay_schedule), c.decay));
  else
    require(c.decay >= 0, "decay", fmt::format("must be >= 0, got {}", c.decay));
  require(c.decay_every >= 1, "decay-every", fmt::format("must be >= 1, got {}", c.decay_every));
  require(c.batch_size >= 1 && c.batch_size <= 1 << 20, "batch-size",
          fmt::format("must be in [1, 1048576], got {}", c.batch_size));
  require(c.epochs >= 1, "epochs", fmt::format("must be >= 1, got {}", c.epochs));
  require(c.weight_decay >= 0, "weight-decay", fmt::format("must be >= 0, got {}", c.weight_decay));
  require(!c.dataset.empty(), "dataset", "must not be empty");
  require(c.train_subset >= 0, "train-subset", fmt::format("must be >= 0, got {}", c.train_subset));
  require(c.train_offset >= 0, "train-offset", fmt::format("must be >= 0, got {}", c.train_offset));
  require(c.label_noise >= 0 && c.label_noise < 1, "label-noise", fmt::format("must be in [0, 1), got {}", c.label_noise));
  require(c.drop_class >= -1, "drop-class", fmt::format("must be a class number or -1, got {}", c.drop_class));
  require(c.spiral_classes >= 2, "spiral-classes", fmt::format("must be >= 2, got {}", c.spiral_classes));
  require(c.spiral_points >= 10, "spiral-points", fmt::format("must be >= 10, got {}", c.spiral_points));
  require(c.threads >= 1 && c.threads <= 256, "threads", fmt::format("must be in [1, 256], got {}", c.threads));
}

}  // namespace caviar::nn
