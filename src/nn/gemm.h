// Matrix products for the trainer: float32, column-major, on OpenBLAS in the calling
// thread (OpenBLAS's own threads are switched off; the trainer parallelises itself).
// Safe to call from several threads at once.
#pragma once

#include <Eigen/Core>

namespace caviar::nn {

using Matrix = Eigen::MatrixXf;  // column-major: one sample per column
using Vector = Eigen::VectorXf;
using MatrixView = Eigen::Ref<const Matrix>;
using MatrixSlot = Eigen::Ref<Matrix>;

enum class Transpose { No, Yes };

// c = alpha · op(a) · op(b) + beta · c. The shapes must agree (checked with assert only).
void gemm(float alpha, MatrixView a, Transpose transpose_a, MatrixView b,
          Transpose transpose_b, float beta, MatrixSlot c);

}  // namespace caviar::nn
