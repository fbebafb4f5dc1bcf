// The multi-layer perceptron: dense layers with ReLU between them and softmax
// cross-entropy on top, its parameters in one flat float32 buffer.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "nn/gemm.h"
#include "nn/random.h"

namespace caviar::nn {

// ---- Layers as functions (batch = columns). Output slots must have the right shape. ----

// out = weight · in + bias (bias added to every column).
void dense_forward(MatrixView weight, const Eigen::Ref<const Vector>& bias, MatrixView in,
                   MatrixSlot out);
// Same, followed by ReLU in place: out = max(0, weight · in + bias).
void dense_relu_forward(MatrixView weight, const Eigen::Ref<const Vector>& bias, MatrixView in,
                        MatrixSlot out);
// Given out_grad = ∂L/∂out of a dense layer: adds out_grad · inᵀ to weight_grad and the row
// sums of out_grad to bias_grad (gradients accumulate; the caller clears them), and sets
// in_grad = weightᵀ · out_grad when in_grad has columns.
void dense_backward(MatrixView weight, MatrixView in, MatrixView out_grad, MatrixSlot weight_grad,
                    Eigen::Ref<Vector> bias_grad, MatrixSlot in_grad);
// ReLU's backward step, in place: grad = grad where activation > 0, else 0.
void relu_backward(MatrixView activation, MatrixSlot grad);

// Softmax cross-entropy of each column of `logits` against its label. Returns the sum of
// the per-column losses. When logit_grad has columns, it receives
// scale · (softmax(logits) − onehot(label)), the gradient of scale · sum.
double softmax_cross_entropy(MatrixView logits, const std::int32_t* labels, float scale,
                             MatrixSlot logit_grad);

// ---- The network ----

// Layer sizes and parameters of an MLP. A plain value; not synchronised: concurrent reads
// are safe, writes need the caller's care.
class Network {
 public:
  // sizes = {inputs, hidden..., classes}. He initialisation: weights ~ N(0, 2 / fan_in),
  // biases 0, drawn from `rng`.
  Network(std::vector<int> sizes, Rng& rng);

  int num_layers() const { return static_cast<int>(sizes_.size()) - 1; }
  const std::vector<int>& sizes() const { return sizes_; }
  std::span<float> parameters() { return parameters_; }
  std::span<const float> parameters() const { return parameters_; }

  // Views of layer i's weight (sizes[i+1] × sizes[i]) and bias in a flat buffer laid out
  // like parameters() (the network's own, or a gradient of the same size).
  Eigen::Map<Matrix> weight(int i, std::span<float> buffer) const;
  Eigen::Map<Vector> bias(int i, std::span<float> buffer) const;
  Eigen::Map<const Matrix> weight(int i) const;
  Eigen::Map<const Vector> bias(int i) const;

 private:
  std::vector<int> sizes_;
  std::vector<std::size_t> offsets_;  // where layer i's weight starts; its bias follows
  std::vector<float> parameters_;
};

// Buffers for one thread's forward and backward passes over up to `capacity` samples.
struct Workspace {
  Workspace(const Network& network, Eigen::Index capacity);
  Matrix input;                      // the gathered batch
  std::vector<std::int32_t> labels;
  std::vector<Matrix> activations;   // output of layer i (logits for the last)
  std::vector<Matrix> deltas;        // ∂L/∂(pre-activation) of layer i
  std::vector<float> gradient;       // like Network::parameters(); starts at zero
};

// Forward and backward over the first `count` columns of ws.input (labels ws.labels):
// adds scale · ∇(sum of losses) to ws.gradient (zero it first for the gradient itself).
// Returns the sum of the losses.
double forward_backward(const Network& network, Eigen::Index count, float scale, Workspace& ws);

struct Evaluation {
  double loss_sum = 0;
  std::int64_t correct = 0;
};

// Loss sum and number of correct predictions over `in` (columns) and their labels,
// using ws.activations as scratch (in chunks of ws capacity).
Evaluation evaluate(const Network& network, MatrixView in, const std::int32_t* labels,
                    Workspace& ws);

}  // namespace caviar::nn
