// Finite-difference checks of every layer's backward step, the loss, and the whole network.
#include <gtest/gtest.h>

#include <cmath>

#include "nn/network.h"

namespace caviar::nn {
namespace {

Matrix random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng, float scale = 1.0f) {
  Matrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = scale * static_cast<float>(rng.normal());
  return m;
}

// Σ probe ⊙ out, in double: a linear read-out whose gradient with respect to out is probe.
double probe_sum(const Matrix& out, const Matrix& probe) {
  return (out.cast<double>().array() * probe.cast<double>().array()).sum();
}

// Central difference of f at x[i], restoring x[i].
template <class F>
double numeric_derivative(float& x, float step, F f) {
  const float saved = x;
  x = saved + step;
  const double up = f();
  x = saved - step;
  const double down = f();
  x = saved;
  return (up - down) / (2.0 * step);
}

void expect_close(double numeric, double analytic, double tolerance, const std::string& what) {
  EXPECT_NEAR(numeric, analytic, tolerance * std::max(1.0, std::abs(numeric))) << what;
}

TEST(Gradient, DenseLayer) {
  Rng rng(1);
  Matrix w = random_matrix(4, 5, rng), in = random_matrix(5, 3, rng), probe = random_matrix(4, 3, rng);
  Vector b = random_matrix(4, 1, rng);
  Matrix out(4, 3), w_grad = Matrix::Zero(4, 5), in_grad(5, 3);
  Vector b_grad = Vector::Zero(4);
  auto loss = [&] {
    dense_forward(w, b, in, out);
    return probe_sum(out, probe);
  };
  dense_backward(w, in, probe, w_grad, b_grad, in_grad);
  for (Eigen::Index i = 0; i < w.size(); ++i)
    expect_close(numeric_derivative(w.data()[i], 1e-2f, loss), w_grad.data()[i], 1e-3, "weight " + std::to_string(i));
  for (Eigen::Index i = 0; i < b.size(); ++i)
    expect_close(numeric_derivative(b[i], 1e-2f, loss), b_grad[i], 1e-3, "bias " + std::to_string(i));
  for (Eigen::Index i = 0; i < in.size(); ++i)
    expect_close(numeric_derivative(in.data()[i], 1e-2f, loss), in_grad.data()[i], 1e-3, "input " + std::to_string(i));
}

TEST(Gradient, DenseLayerWithoutInputGradient) {
  Rng rng(2);
  Matrix w = random_matrix(3, 2, rng), in = random_matrix(2, 4, rng), probe = random_matrix(3, 4, rng);
  Matrix w_grad = Matrix::Ones(3, 2), none;
  Vector b_grad = Vector::Ones(3);
  dense_backward(w, in, probe, w_grad, b_grad, none);  // gradients accumulate
  EXPECT_TRUE(w_grad.isApprox(Matrix::Ones(3, 2) + probe * in.transpose(), 1e-5f));
  EXPECT_TRUE(b_grad.isApprox(Vector::Ones(3) + probe.rowwise().sum(), 1e-5f));
}

TEST(Gradient, DenseReluLayer) {
  Rng rng(3);
  Matrix w = random_matrix(6, 4, rng), in = random_matrix(4, 5, rng), probe = random_matrix(6, 5, rng);
  Vector b = random_matrix(6, 1, rng, 0.1f);
  Matrix out(6, 5), w_grad = Matrix::Zero(6, 4), in_grad(4, 5);
  Vector b_grad = Vector::Zero(6);
  auto loss = [&] {
    dense_relu_forward(w, b, in, out);
    return probe_sum(out, probe);
  };
  dense_relu_forward(w, b, in, out);
  EXPECT_GE(out.minCoeff(), 0.0f);
  EXPECT_GT(out.maxCoeff(), 0.0f);
  // ReLU's backward step turns ∂L/∂a into ∂L/∂z, then the dense step continues.
  Matrix delta = probe;
  relu_backward(out, delta);
  dense_backward(w, in, delta, w_grad, b_grad, in_grad);
  const Matrix z = (w * in).colwise() + b;
  ASSERT_GT(z.cwiseAbs().minCoeff(), 2e-3f) << "pick a seed without pre-activations at the kink";
  for (Eigen::Index i = 0; i < w.size(); ++i)
    expect_close(numeric_derivative(w.data()[i], 1e-3f, loss), w_grad.data()[i], 1e-2, "weight " + std::to_string(i));
  for (Eigen::Index i = 0; i < b.size(); ++i)
    expect_close(numeric_derivative(b[i], 1e-3f, loss), b_grad[i], 1e-2, "bias " + std::to_string(i));
  for (Eigen::Index i = 0; i < in.size(); ++i)
    expect_close(numeric_derivative(in.data()[i], 1e-3f, loss), in_grad.data()[i], 1e-2, "input " + std::to_string(i));
}

TEST(Gradient, Relu) {
  Matrix a(2, 3), grad(2, 3);
  a << 0.5f, 0.0f, 2.0f, 0.0f, 1.0f, 0.0f;
  grad << 1, 2, 3, 4, 5, 6;
  relu_backward(a, grad);
  Matrix expected(2, 3);
  expected << 1, 0, 3, 0, 5, 0;
  EXPECT_EQ(grad, expected);
}

TEST(Gradient, SoftmaxCrossEntropy) {
  Rng rng(4);
  Matrix logits = random_matrix(5, 4, rng, 2.0f);
  const std::int32_t labels[] = {0, 3, 4, 1};
  Matrix grad(5, 4), none;
  const double loss = softmax_cross_entropy(logits, labels, 0.5f, grad);
  // The value itself, computed directly.
  double expected = 0;
  for (int j = 0; j < 4; ++j) {
    double sum = 0;
    for (int c = 0; c < 5; ++c) sum += std::exp(double(logits(c, j)));
    expected += std::log(sum) - logits(labels[j], j);
  }
  EXPECT_NEAR(loss, expected, 1e-5);
  auto f = [&] { return 0.5 * softmax_cross_entropy(logits, labels, 0.0f, none); };
  for (Eigen::Index i = 0; i < logits.size(); ++i)
    expect_close(numeric_derivative(logits.data()[i], 1e-2f, f), grad.data()[i], 1e-3, "logit " + std::to_string(i));
  // Each column of the gradient sums to zero.
  EXPECT_LT(grad.colwise().sum().cwiseAbs().maxCoeff(), 1e-6f);
}

TEST(Gradient, SoftmaxCrossEntropyIsStableForLargeLogits) {
  Matrix logits(3, 1);
  logits << 1000.0f, 0.0f, -1000.0f;
  const std::int32_t labels[] = {1};
  Matrix grad(3, 1);
  const double loss = softmax_cross_entropy(logits, labels, 1.0f, grad);
  EXPECT_NEAR(loss, 1000.0, 1e-9);
  EXPECT_TRUE(grad.allFinite());
}

TEST(Gradient, WholeNetwork) {
  Rng rng(5);
  Network network({4, 6, 5, 3}, rng);
  Workspace ws(network, 7);
  ws.input = random_matrix(4, 7, rng);
  ws.labels = {0, 1, 2, 2, 1, 0, 1};
  const double loss = forward_backward(network, 7, 1.0f, ws);
  Workspace scratch(network, 7);
  auto f = [&] { return evaluate(network, ws.input, ws.labels.data(), scratch).loss_sum; };
  EXPECT_NEAR(loss, f(), 1e-6 * std::abs(loss));
  auto parameters = network.parameters();
  int checked = 0;
  for (std::size_t i = 0; i < parameters.size(); ++i, ++checked)
    expect_close(numeric_derivative(parameters[i], 1e-3f, f), ws.gradient[i], 2e-2, "parameter " + std::to_string(i));
  EXPECT_EQ(checked, (4 + 1) * 6 + (6 + 1) * 5 + (5 + 1) * 3);
}

TEST(Gradient, ScaleAndPartialBatch) {
  Rng rng(6);
  Network network({3, 4, 2}, rng);
  Workspace ws(network, 8);
  ws.input = random_matrix(3, 8, rng);
  ws.labels = {0, 1, 1, 0, 1, 0, 0, 1};
  forward_backward(network, 5, 1.0f, ws);
  const std::vector<float> full = ws.gradient;
  std::fill(ws.gradient.begin(), ws.gradient.end(), 0.0f);
  ws.input.rightCols(3).setConstant(100.0f);  // ignored: only 5 columns count
  forward_backward(network, 5, 0.25f, ws);
  for (std::size_t i = 0; i < full.size(); ++i) EXPECT_NEAR(ws.gradient[i], 0.25f * full[i], 1e-6f);
}

TEST(Network, HeInitialisation) {
  Rng rng(7);
  Network network({400, 300, 10}, rng);
  const auto w = network.weight(0);
  const double variance = w.cast<double>().array().square().mean();
  EXPECT_NEAR(variance, 2.0 / 400, 0.05 * 2.0 / 400);
  EXPECT_EQ(network.bias(0).cwiseAbs().maxCoeff(), 0.0f);
  EXPECT_NEAR(network.weight(1).cast<double>().array().square().mean(), 2.0 / 300, 0.1 * 2.0 / 300);
}

}  // namespace
}  // namespace caviar::nn
