// Learning-rate decay: α as a function of e, the number of completed epochs.
#pragma once

#include <memory>

#include "caviar/nn.h"

namespace caviar::nn {

// A schedule; immutable, safe to share between threads.
class LearningRateSchedule {
 public:
  virtual ~LearningRateSchedule() = default;
  // α for the epoch after `completed_epochs` epochs (0 for the first epoch).
  virtual double at(int completed_epochs) const = 0;
};

// α₀ / (1 + γ·e): the lesson's decay; γ = 0 keeps α₀.
class InverseTimeDecay final : public LearningRateSchedule {
 public:
  InverseTimeDecay(double initial, double gamma) : initial_(initial), gamma_(gamma) {}
  double at(int e) const override { return initial_ / (1.0 + gamma_ * e); }

 private:
  double initial_, gamma_;
};

// α₀ · γ^e
class ExponentialDecay final : public LearningRateSchedule {
 public:
  ExponentialDecay(double initial, double gamma) : initial_(initial), gamma_(gamma) {}
  double at(int e) const override;

 private:
  double initial_, gamma_;
};

// α₀ · γ^⌊e / every⌋
class StepDecay final : public LearningRateSchedule {
 public:
  StepDecay(double initial, double gamma, int every) : initial_(initial), gamma_(gamma), every_(every) {}
  double at(int e) const override;

 private:
  double initial_, gamma_;
  int every_;
};

// The schedule that config.decay_schedule names, with α₀ = config.lr and γ = config.decay.
std::unique_ptr<LearningRateSchedule> make_schedule(const TrainConfig& config);

}  // namespace caviar::nn
