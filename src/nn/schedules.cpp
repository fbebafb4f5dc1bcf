// The decay schedules.
#include "nn/schedules.h"

#include <cmath>

namespace caviar::nn {

double ExponentialDecay::at(int e) const { return initial_ * std::pow(gamma_, e); }

double StepDecay::at(int e) const { return initial_ * std::pow(gamma_, e / every_); }

std::unique_ptr<LearningRateSchedule> make_schedule(const TrainConfig& config) {
  switch (config.decay_schedule) {
    case DecaySchedule::Exponential: return std::make_unique<ExponentialDecay>(config.lr, config.decay);
    case DecaySchedule::Step:
      return std::make_unique<StepDecay>(config.lr, config.decay, config.decay_every);
    case DecaySchedule::InverseTime: break;
  }
  return std::make_unique<InverseTimeDecay>(config.lr, config.decay);
}

}  // namespace caviar::nn
