// The optimizers' update rules: plain loops over floats, vectorised by the compiler.
#include "nn/optimizers.h"

#include <cmath>

#include "nn/vectorize.h"

namespace caviar::nn {
namespace {

// Each kernel reads the gradient g[i] + λ·w[i] once and clears g[i].
CAVIAR_NN_VECTORIZE void sgd_kernel(float* w, float* g, std::size_t n, float lr, float decay) {
  for (std::size_t i = 0; i < n; ++i) {
    const float grad = g[i] + decay * w[i];
    g[i] = 0.0f;
    w[i] -= lr * grad;
  }
}

CAVIAR_NN_VECTORIZE void momentum_kernel(float* w, float* g, float* v, std::size_t n, float lr,
                                         float decay, float beta, float rest) {
  for (std::size_t i = 0; i < n; ++i) {
    const float grad = g[i] + decay * w[i];
    g[i] = 0.0f;
    v[i] = beta * v[i] + rest * grad;
    w[i] -= lr * v[i];
  }
}

CAVIAR_NN_VECTORIZE void rmsprop_kernel(float* w, float* g, float* s, std::size_t n, float lr,
                                        float decay, float beta2, float rest, float eps) {
  for (std::size_t i = 0; i < n; ++i) {
    const float grad = g[i] + decay * w[i];
    g[i] = 0.0f;
    s[i] = beta2 * s[i] + rest * grad * grad;
    w[i] -= lr * grad / (std::sqrt(s[i]) + eps);
  }
}

CAVIAR_NN_VECTORIZE void adam_kernel(float* w, float* g, float* m, float* v, std::size_t n,
                                     float decay, float beta1, float rest1, float beta2, float rest2,
                                     float eps, float step, float correction) {
  for (std::size_t i = 0; i < n; ++i) {
    const float grad = g[i] + decay * w[i];
    g[i] = 0.0f;
    m[i] = beta1 * m[i] + rest1 * grad;
    v[i] = beta2 * v[i] + rest2 * grad * grad;
    w[i] -= step * m[i] / (std::sqrt(v[i] * correction) + eps);
  }
}

}  // namespace

void Sgd::update(std::span<float> w, std::span<float> g, std::size_t begin, std::size_t end) {
  sgd_kernel(w.data() + begin, g.data() + begin, end - begin, static_cast<float>(learning_rate_),
             weight_decay_);
}

void Momentum::update(std::span<float> w, std::span<float> g, std::size_t begin,
                      std::size_t end) {
  const float lr = static_cast<float>(learning_rate_), beta = static_cast<float>(beta_);
  const float rest = static_cast<float>(1.0 - beta_);
  momentum_kernel(w.data() + begin, g.data() + begin, velocity_.data() + begin, end - begin, lr,
                  weight_decay_, beta, rest);
}

void RmsProp::update(std::span<float> w, std::span<float> g, std::size_t begin,
                     std::size_t end) {
  const float lr = static_cast<float>(learning_rate_), beta2 = static_cast<float>(beta2_);
  const float rest = static_cast<float>(1.0 - beta2_), eps = static_cast<float>(epsilon_);
  rmsprop_kernel(w.data() + begin, g.data() + begin, square_.data() + begin, end - begin, lr,
                 weight_decay_, beta2, rest, eps);
}

void Adam::prepare() {
  const double k = static_cast<double>(step_);
  step_size_ = static_cast<float>(learning_rate_ / (1.0 - std::pow(beta1_, k)));
  second_correction_ = static_cast<float>(1.0 / (1.0 - std::pow(beta2_, k)));
}

void Adam::update(std::span<float> w, std::span<float> g, std::size_t begin, std::size_t end) {
  const float beta1 = static_cast<float>(beta1_), rest1 = static_cast<float>(1.0 - beta1_);
  const float beta2 = static_cast<float>(beta2_), rest2 = static_cast<float>(1.0 - beta2_);
  const float eps = static_cast<float>(epsilon_), step = step_size_, correction = second_correction_;
  adam_kernel(w.data() + begin, g.data() + begin, first_.data() + begin, second_.data() + begin,
              end - begin, weight_decay_, beta1, rest1, beta2, rest2, eps, step, correction);
}

namespace {
std::unique_ptr<Optimizer> make_bare_optimizer(const TrainConfig& config, std::size_t size) {
  switch (config.optimizer) {
    case OptimizerKind::Sgd: return std::make_unique<Sgd>();
    case OptimizerKind::Momentum: return std::make_unique<Momentum>(size, config.momentum);
    case OptimizerKind::RmsProp: return std::make_unique<RmsProp>(size, config.beta2, config.epsilon);
    case OptimizerKind::Adam:
      return std::make_unique<Adam>(size, config.beta1, config.beta2, config.epsilon);
  }
  return std::make_unique<Sgd>();
}
}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const TrainConfig& config, std::size_t size) {
  auto optimizer = make_bare_optimizer(config, size);
  optimizer->set_weight_decay(config.weight_decay);
  return optimizer;
}

}  // namespace caviar::nn
