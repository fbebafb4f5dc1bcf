// The optimizers: how a step moves the parameters along their gradient. Each holds its
// own state (velocities, squared averages) for a fixed number of parameters.
//
// Per training step: begin_step(α) once, then update() over disjoint index ranges that
// together cover all parameters — from one thread, or ranges from several threads.
// update() consumes the gradient: it leaves zeros behind, ready for the next step's
// accumulation, so no separate pass clears it. L2 weight decay λ is applied here too:
// the gradient used is g + λ·w.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "caviar/nn.h"

namespace caviar::nn {

// Not thread-safe in begin_step(); update() may run on disjoint ranges concurrently.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Starts the next step (k = 1, 2, ...) with learning rate α.
  void begin_step(double learning_rate) {
    ++step_;
    learning_rate_ = learning_rate;
    prepare();
  }
  // Moves weights[i] along grads[i] + λ·weights[i] for i in [begin, end), then sets
  // grads[i] = 0.
  virtual void update(std::span<float> weights, std::span<float> grads, std::size_t begin,
                      std::size_t end) = 0;
  std::int64_t step() const { return step_; }
  void set_weight_decay(double lambda) { weight_decay_ = static_cast<float>(lambda); }
  // What a checkpoint keeps besides step(): the per-parameter state buffers (velocities,
  // averages), in a fixed order. set_step() restores the step count.
  virtual std::vector<std::span<float>> state() { return {}; }
  void set_step(std::int64_t step) { step_ = step; }

 protected:
  virtual void prepare() {}
  double learning_rate_ = 0;
  float weight_decay_ = 0;  // λ; set by make_optimizer
  std::int64_t step_ = 0;
};

// w −= α·g
class Sgd final : public Optimizer {
 public:
  void update(std::span<float> w, std::span<float> g, std::size_t begin, std::size_t end) override;
};

// v = β·v + (1−β)·g; w −= α·v   (the lesson's exponentially weighted form)
class Momentum final : public Optimizer {
 public:
  Momentum(std::size_t size, double beta) : velocity_(size, 0.0f), beta_(beta) {}
  void update(std::span<float> w, std::span<float> g, std::size_t begin, std::size_t end) override;
  std::vector<std::span<float>> state() override { return {velocity_}; }

 private:
  std::vector<float> velocity_;
  double beta_;
};

// s = β₂·s + (1−β₂)·g²; w −= α·g / (√s + ε)
class RmsProp final : public Optimizer {
 public:
  RmsProp(std::size_t size, double beta2, double epsilon)
      : square_(size, 0.0f), beta2_(beta2), epsilon_(epsilon) {}
  void update(std::span<float> w, std::span<float> g, std::size_t begin, std::size_t end) override;
  std::vector<std::span<float>> state() override { return {square_}; }

 private:
  std::vector<float> square_;
  double beta2_, epsilon_;
};

// m = β₁·m + (1−β₁)·g; v = β₂·v + (1−β₂)·g²;
// w −= α·(m / (1−β₁ᵏ)) / (√(v / (1−β₂ᵏ)) + ε)
class Adam final : public Optimizer {
 public:
  Adam(std::size_t size, double beta1, double beta2, double epsilon)
      : first_(size, 0.0f), second_(size, 0.0f), beta1_(beta1), beta2_(beta2), epsilon_(epsilon) {}
  void update(std::span<float> w, std::span<float> g, std::size_t begin, std::size_t end) override;
  std::vector<std::span<float>> state() override { return {first_, second_}; }

 private:
  void prepare() override;
  std::vector<float> first_, second_;
  double beta1_, beta2_, epsilon_;
  float step_size_ = 0, second_correction_ = 0;  // α/(1−β₁ᵏ), 1/(1−β₂ᵏ)
};

// The optimizer that config.optimizer names, for `size` parameters, with λ =
// config.weight_decay.
std::unique_ptr<Optimizer> make_optimizer(const TrainConfig& config, std::size_t size);

}  // namespace caviar::nn
