// The layers' forward and backward steps.
#include <cmath>

#include "nn/network.h"

namespace caviar::nn {

// The bias goes in first and the product is added to it (beta = 1): OpenBLAS then skips
// the pass that would clear `out`.
void dense_forward(MatrixView weight, const Eigen::Ref<const Vector>& bias, MatrixView in,
                   MatrixSlot out) {
  out.colwise() = bias;
  gemm(1.0f, weight, Transpose::No, in, Transpose::No, 1.0f, out);
}

void dense_relu_forward(MatrixView weight, const Eigen::Ref<const Vector>& bias, MatrixView in,
                        MatrixSlot out) {
  dense_forward(weight, bias, in, out);
  for (Eigen::Index j = 0; j < out.cols(); ++j) {
    float* z = out.col(j).data();
    for (Eigen::Index i = 0; i < out.rows(); ++i) z[i] = z[i] > 0.0f ? z[i] : 0.0f;
  }
}

void dense_backward(MatrixView weight, MatrixView in, MatrixView out_grad, MatrixSlot weight_grad,
                    Eigen::Ref<Vector> bias_grad, MatrixSlot in_grad) {
  gemm(1.0f, out_grad, Transpose::No, in, Transpose::Yes, 1.0f, weight_grad);
  bias_grad += out_grad.rowwise().sum();
  if (in_grad.cols() > 0) gemm(1.0f, weight, Transpose::Yes, out_grad, Transpose::No, 0.0f, in_grad);
}

void relu_backward(MatrixView activation, MatrixSlot grad) {
  // A plain loop: the compiler turns the condition into a vector mask, not a branch.
  for (Eigen::Index j = 0; j < grad.cols(); ++j) {
    const float* a = activation.col(j).data();
    float* g = grad.col(j).data();
    for (Eigen::Index i = 0; i < grad.rows(); ++i) g[i] = a[i] > 0.0f ? g[i] : 0.0f;
  }
}

double softmax_cross_entropy(MatrixView logits, const std::int32_t* labels, float scale,
                             MatrixSlot logit_grad) {
  const bool want_grad = logit_grad.cols() > 0;
  double loss_sum = 0;
  for (Eigen::Index j = 0; j < logits.cols(); ++j) {
    const auto z = logits.col(j);
    const double top = z.maxCoeff();
    double sum = 0;
    for (Eigen::Index c = 0; c < z.size(); ++c) sum += std::exp(double(z[c]) - top);
    const double log_sum = top + std::log(sum);
    loss_sum += log_sum - z[labels[j]];
    if (want_grad) {
      for (Eigen::Index c = 0; c < z.size(); ++c)
        logit_grad(c, j) = static_cast<float>(scale * std::exp(double(z[c]) - log_sum));
      logit_grad(labels[j], j) -= scale;
    }
  }
  return loss_sum;
}

}  // namespace caviar::nn
