#include "nn/gemm.h"

#include <cassert>
#include <mutex>

#include <cblas.h>

namespace caviar::nn {
namespace {
// OpenBLAS would otherwise start one thread per core for every product; the trainer's
// threads option decides parallelism instead. Process-wide, set once.
void use_one_blas_thread() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

CBLAS_TRANSPOSE to_cblas(Transpose t) { return t == Transpose::Yes ? CblasTrans : CblasNoTrans; }
}  // namespace

void gemm(float alpha, MatrixView a, Transpose transpose_a, MatrixView b,
          Transpose transpose_b, float beta, MatrixSlot c) {
  use_one_blas_thread();
  const auto m = c.rows(), n = c.cols();
  const auto k = transpose_a == Transpose::Yes ? a.rows() : a.cols();
  assert((transpose_a == Transpose::Yes ? a.cols() : a.rows()) == m);
  assert((transpose_b == Transpose::Yes ? b.rows() : b.cols()) == n);
  assert((transpose_b == Transpose::Yes ? b.cols() : b.rows()) == k);
  if (m == 0 || n == 0) return;
  if (k == 0) {  // an empty sum: BLAS would read strides it does not need
    if (beta == 0.0f) c.setZero(); else c *= beta;
    return;
  }
  cblas_sgemm(CblasColMajor, to_cblas(transpose_a), to_cblas(transpose_b),
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), alpha,
              a.data(), static_cast<blasint>(a.outerStride()), b.data(),
              static_cast<blasint>(b.outerStride()), beta, c.data(),
              static_cast<blasint>(c.outerStride()));
}

}  // namespace caviar::nn
