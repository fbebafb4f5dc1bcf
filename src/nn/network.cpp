// The network's parameters, and its forward/backward passes over a batch.
#include "nn/network.h"

#include <cmath>

namespace caviar::nn {

Network::Network(std::vector<int> sizes, Rng& rng) : sizes_(std::move(sizes)) {
  std::size_t total = 0;
  for (int i = 0; i < num_layers(); ++i) {
    offsets_.push_back(total);
    total += static_cast<std::size_t>(sizes_[i] + 1) * sizes_[i + 1];
  }
  parameters_.assign(total, 0.0f);
  for (int i = 0; i < num_layers(); ++i) {
    auto w = weight(i, parameters_);
    const double deviation = std::sqrt(2.0 / sizes_[i]);
    for (Eigen::Index k = 0; k < w.size(); ++k) w.data()[k] = static_cast<float>(deviation * rng.normal());
  }
}

Eigen::Map<Matrix> Network::weight(int i, std::span<float> buffer) const {
  return {buffer.data() + offsets_[i], sizes_[i + 1], sizes_[i]};
}
Eigen::Map<Vector> Network::bias(int i, std::span<float> buffer) const {
  return {buffer.data() + offsets_[i] + std::size_t(sizes_[i + 1]) * sizes_[i], sizes_[i + 1]};
}
Eigen::Map<const Matrix> Network::weight(int i) const {
  return {parameters_.data() + offsets_[i], sizes_[i + 1], sizes_[i]};
}
Eigen::Map<const Vector> Network::bias(int i) const {
  return {parameters_.data() + offsets_[i] + std::size_t(sizes_[i + 1]) * sizes_[i], sizes_[i + 1]};
}

Workspace::Workspace(const Network& network, Eigen::Index capacity)
    : input(network.sizes().front(), capacity),
      labels(static_cast<std::size_t>(capacity)),
      gradient(network.parameters().size()) {
  for (int i = 0; i < network.num_layers(); ++i) {
    activations.emplace_back(network.sizes()[i + 1], capacity);
    deltas.emplace_back(network.sizes()[i + 1], capacity);
  }
}

namespace {
// Runs the layers over `in`; the logits end up in ws.activations.back().
void forward(const Network& network, MatrixView in, Workspace& ws) {
  const int last = network.num_layers() - 1;
  const auto n = in.cols();
  for (int i = 0; i <= last; ++i) {
    MatrixView previous = i == 0 ? in : MatrixView(ws.activations[i - 1].leftCols(n));
    if (i < last)
      dense_relu_forward(network.weight(i), network.bias(i), previous, ws.activations[i].leftCols(n));
    else
      dense_forward(network.weight(i), network.bias(i), previous, ws.activations[i].leftCols(n));
  }
}
}  // namespace

double forward_backward(const Network& network, Eigen::Index count, float scale, Workspace& ws) {
  const auto in = ws.input.leftCols(count);
  forward(network, in, ws);
  const int last = network.num_layers() - 1;
  const double loss = softmax_cross_entropy(ws.activations[last].leftCols(count), ws.labels.data(),
                                            scale, ws.deltas[last].leftCols(count));
  Matrix none;
  for (int i = last; i >= 0; --i) {
    MatrixView previous = i == 0 ? MatrixView(in) : MatrixView(ws.activations[i - 1].leftCols(count));
    MatrixSlot in_grad = i == 0 ? MatrixSlot(none) : MatrixSlot(ws.deltas[i - 1].leftCols(count));
    dense_backward(network.weight(i), previous, ws.deltas[i].leftCols(count),
                   network.weight(i, ws.gradient), network.bias(i, ws.gradient), in_grad);
    if (i > 0) relu_backward(ws.activations[i - 1].leftCols(count), in_grad);
  }
  return loss;
}

Evaluation evaluate(const Network& network, MatrixView in, const std::int32_t* labels,
                    Workspace& ws) {
  Evaluation result;
  const Eigen::Index chunk = ws.input.cols();
  Matrix none;
  for (Eigen::Index begin = 0; begin < in.cols(); begin += chunk) {
    const Eigen::Index n = std::min(chunk, in.cols() - begin);
    forward(network, in.middleCols(begin, n), ws);
    const auto logits = ws.activations.back().leftCols(n);
    result.loss_sum += softmax_cross_entropy(logits, labels + begin, 0.0f, none);
    for (Eigen::Index j = 0; j < n; ++j) {
      Eigen::Index predicted = 0;
      logits.col(j).maxCoeff(&predicted);
      result.correct += predicted == labels[begin + j];
    }
  }
  return result;
}

}  // namespace caviar::nn
