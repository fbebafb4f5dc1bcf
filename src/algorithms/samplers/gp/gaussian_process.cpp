// Gaussian-process regression; see gaussian_process.h.
#include "algorithms/samplers/gp/gaussian_process.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <numbers>

#include "algorithms/samplers/gp/lbfgsb.h"

extern "C" {
// LAPACK from OpenBLAS (32-bit integers, as Debian builds it).
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dpotri_(const char* uplo, const int* n, double* a, const int* lda, int* info);
void dtrsm_(const char* side, const char* uplo, const char* transa, const char* diag,
            const int* m, const int* n, const double* alpha, const double* a, const int* lda,
            double* b, const int* ldb);
void openblas_set_num_threads(int threads);
}

namespace caviar::detail {
namespace {

constexpr double kSqrt5 = 2.23606797749979;
constexpr double kLog2Pi = 1.8378770664093453;

// Squared distances between the rows of A and B (both already divided by ℓ).
Eigen::MatrixXd squared_distances(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) {
  Eigen::MatrixXd D = Eigen::MatrixXd::Zero(A.rows(), B.rows());
  for (Eigen::Index k = 0; k < A.cols(); ++k)
    for (Eigen::Index j = 0; j < B.rows(); ++j)
      D.col(j).array() += (A.col(k).array() - B(j, k)).square();
  return D;
}

// Matérn-5/2 correlation from squared scaled distances, elementwise.
Eigen::MatrixXd matern_from_squared(const Eigen::MatrixXd& D) {
  Eigen::ArrayXXd R = (5.0 * D.array()).sqrt();  // √5 r
  return ((1.0 + R + R.square() / 3.0) * (-R).exp()).matrix();
}

Eigen::MatrixXd scale_rows(const Eigen::MatrixXd& X, const Eigen::VectorXd& inverse_scale) {
  return X * inverse_scale.asDiagonal();
}

// OpenBLAS on one thread: these matrices are small, and suggest() may run on several
// threads at once. (The trainer sets the same.)
void single_threaded_blas() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

double length_scale_log_mean(Eigen::Index d) {
  // The mode of Hvarfner et al.'s LogNormal(√2 + ½ log d, √3) prior on ℓ: about 0.2 √d.
  return std::numbers::sqrt2 - 3.0 + 0.5 * std::log(static_cast<double>(std::max<Eigen::Index>(d, 1)));
}

}  // namespace

double matern52(double r) {
  double s = kSqrt5 * std::abs(r);
  return (1.0 + s + s * s / 3.0) * std::exp(-s);
}

std::optional<double> cholesky_with_jitter(Eigen::MatrixXd& K, double scale,
                                           Eigen::LLT<Eigen::MatrixXd>& llt) {
  if (!K.allFinite()) return std::nullopt;
  if (!(scale > 0) || !std::isfinite(scale)) scale = 1.0;
  double added = 0;
  for (double jitter = 0; jitter <= scale * 1.0000001; jitter = jitter == 0 ? 1e-10 * scale : jitter * 10) {
    K.diagonal().array() += jitter - added;
    added = jitter;
    llt.compute(K);
    if (llt.info() == Eigen::Success && llt.matrixLLT().diagonal().minCoeff() > 0) return jitter;
  }
  K.diagonal().array() -= added;
  return std::nullopt;
}

struct GpWorkspace {
  Eigen::MatrixXd Xs, R, E, K, A, P, PX;
  Eigen::VectorXd alpha, ones, row_sums;
};

double gp_log_posterior(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                        const GpHyperparameters& h, const GpFitOptions& o,
                        Eigen::VectorXd* gradient, GpWorkspace* workspace) {
  const Eigen::Index n = X.rows(), d = X.cols();
  const double s2 = h.signal_variance, noise = h.noise_variance;
  GpWorkspace local;
  GpWorkspace& w = workspace ? *workspace : local;
  w.Xs.noalias() = X * h.length_scales.cwiseInverse().asDiagonal();
  w.R.resize(n, n), w.E.resize(n, n), w.K.resize(n, n);
  // Lower triangles only (K is symmetric): R = √5 r, E = e^{−R}, K = s² (1 + R + R²/3) E.
  for (Eigen::Index j = 0; j < n; ++j) {
    const Eigen::Index len = n - j;
    auto r = w.R.col(j).segment(j, len).array();
    r.setZero();
    for (Eigen::Index k = 0; k < d; ++k) r += (w.Xs.col(k).segment(j, len).array() - w.Xs(j, k)).square();
    r = (5.0 * r).sqrt();
    auto e = w.E.col(j).segment(j, len).array();
    e = (-r).exp();
    w.K.col(j).segment(j, len).array() = s2 * (1.0 + r + r.square() * (1.0 / 3.0)) * e;
  }
  if (!w.K.triangularView<Eigen::Lower>().toDenseMatrix().allFinite())
    return -std::numeric_limits<double>::infinity();
  // K's Cholesky factor and, for the gradient, K⁻¹ come from LAPACK (OpenBLAS, already
  // linked for the trainer): potrf + potri are about 3x Eigen's LLT + solve(I) here.
  single_threaded_blas();
  const int ni = static_cast<int>(n);
  int info = 1;
  for (double jitter = 0; jitter <= s2 * 1.0000001; jitter = jitter == 0 ? 1e-10 * s2 : jitter * 10) {
    w.A = w.K;
    w.A.diagonal().array() += noise + jitter;
    dpotrf_("L", &ni, w.A.data(), &ni, &info);
    if (info == 0) break;
  }
  if (info != 0) return -std::numeric_limits<double>::infinity();
  auto L = w.A.triangularView<Eigen::Lower>();
  w.alpha = y;
  L.solveInPlace(w.alpha);
  L.transpose().solveInPlace(w.alpha);
  double log_det = 2.0 * w.A.diagonal().array().log().sum();
  double value = -0.5 * y.dot(w.alpha) - 0.5 * log_det - 0.5 * static_cast<double>(n) * kLog2Pi;

  // Priors: normal on the logs.
  const double l_mean = length_scale_log_mean(d), l_sd = o.length_scale_log_sd;
  Eigen::VectorXd prior_gradient(d + 2);
  for (Eigen::Index k = 0; k < d; ++k) {
    double z = (std::log(h.length_scales[k]) - l_mean) / l_sd;
    value -= 0.5 * z * z;
    prior_gradient[k] = -z / l_sd;
  }
  {
    double z = (std::log(s2) - o.signal_log_mean) / o.signal_log_sd;
    value -= 0.5 * z * z;
    prior_gradient[d] = -z / o.signal_log_sd;
    z = (std::log(noise) - o.noise_log_mean) / o.noise_log_sd;
    value -= 0.5 * z * z;
    prior_gradient[d + 1] = -z / o.noise_log_sd;
  }
  if (!gradient) return value;

  // d log p / dθ = ½ tr(W dK/dθ), W = α αᵀ − K⁻¹ (symmetric; lower triangles below).
  dpotri_("L", &ni, w.A.data(), &ni, &info);  // A's lower triangle: K⁻¹
  if (info != 0) return -std::numeric_limits<double>::infinity();
  gradient->resize(d + 2);
  double wk = 0, trace = 0;
  w.P.resize(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    const Eigen::Index len = n - j;
    auto wcol = w.A.col(j).segment(j, len).array();  // becomes W's column j
    wcol = w.alpha.segment(j, len).array() * w.alpha[j] - wcol;
    trace += wcol[0];
    double col = (wcol * w.K.col(j).segment(j, len).array()).sum();
    wk += 2.0 * col - wcol[0] * w.K(j, j);
    // dK/dlog ℓ_k = s² (5/3)(1 + √5 r) e^{−√5 r} (x_k − x'_k)² / ℓ_k².
    w.P.col(j).segment(j, len).array() =
        wcol * (s2 * 5.0 / 3.0) * (1.0 + w.R.col(j).segment(j, len).array()) *
        w.E.col(j).segment(j, len).array();
  }
  w.ones.setOnes(n);
  w.row_sums.noalias() = w.P.selfadjointView<Eigen::Lower>() * w.ones;
  w.PX.noalias() = w.P.selfadjointView<Eigen::Lower>() * w.Xs;
  for (Eigen::Index k = 0; k < d; ++k)
    (*gradient)[k] = w.Xs.col(k).array().square().matrix().dot(w.row_sums) - w.Xs.col(k).dot(w.PX.col(k));
  (*gradient)[d] = 0.5 * wk;  // K here is s² M, so ½ tr(W s² M)
  (*gradient)[d + 1] = 0.5 * noise * trace;
  *gradient += prior_gradient;
  return value;
}

GpHyperparameters fit_gp_hyperparameters(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                         const GpFitOptions& o, Rng& rng) {
  const Eigen::Index d = X.cols(), n = X.rows();
  Eigen::VectorXd lower(d + 2), upper(d + 2);
  lower.head(d).setConstant(std::log(o.min_length_scale));
  upper.head(d).setConstant(std::log(o.max_length_scale));
  lower[d] = std::log(o.min_signal_variance), upper[d] = std::log(o.max_signal_variance);
  lower[d + 1] = std::log(o.min_noise_variance), upper[d + 1] = std::log(o.max_noise_variance);

  auto unpack = [d](const Eigen::VectorXd& theta) {
    GpHyperparameters h;
    h.length_scales = theta.head(d).array().exp().matrix();
    h.signal_variance = std::exp(theta[d]);
    h.noise_variance = std::exp(theta[d + 1]);
    return h;
  };
  const double scale = 1.0 / static_cast<double>(std::max<Eigen::Index>(n, 1));
  GpWorkspace workspace;
  Objective objective = [&](const Eigen::VectorXd& theta, Eigen::VectorXd& g) {
    double v = gp_log_posterior(X, y, unpack(theta), o, &g, &workspace);
    if (!std::isfinite(v)) {
      g.setZero();
      return std::numeric_limits<double>::infinity();
    }
    g *= -scale;
    return -v * scale;
  };

  LbfgsbOptions lo;
  lo.max_iterations = o.max_iterations;
  lo.gradient_tol = 1e-5;
  lo.value_tol = 1e-9;
  Eigen::VectorXd best_theta(d + 2);
  double best_value = std::numeric_limits<double>::infinity();
  const double l_mean = length_scale_log_mean(d);
  // Extra starts pay while the data are few (the likelihood has more local optima and each
  // start is cheap); past `restart_limit` points one start is kept.
  const int starts = n <= o.restart_limit ? std::max(1, o.restarts) : 1;
  for (int start = 0; start < starts; ++start) {
    Eigen::VectorXd theta(d + 2);
    if (start == 0) {
      theta.head(d).setConstant(l_mean);
      theta[d] = 0.0;
      theta[d + 1] = std::log(1e-3);
    } else {
      for (Eigen::Index k = 0; k < d; ++k) theta[k] = l_mean + 1.0 * rng.normal();
      theta[d] = 0.5 * rng.normal();
      theta[d + 1] = std::log(o.min_noise_variance) +
                     rng.uniform() * (std::log(0.1) - std::log(o.min_noise_variance));
    }
    theta = theta.cwiseMax(lower).cwiseMin(upper);
    LbfgsbResult r = minimize_lbfgsb(objective, theta, lower, upper, lo);
    if (r.value < best_value) best_value = r.value, best_theta = theta;
  }
  if (!std::isfinite(best_value)) {  // nothing factorised: a smooth, noisy default
    best_theta.head(d).setConstant(l_mean);
    best_theta[d] = 0.0;
    best_theta[d + 1] = std::log(o.max_noise_variance);
  }
  return unpack(best_theta);
}

GaussianProcess::GaussianProcess(Eigen::MatrixXd X, Eigen::VectorXd y, GpHyperparameters h)
    : X_(std::move(X)), h_(std::move(h)) {
  inverse_scale_ = h_.length_scales.cwiseInverse();
  scaled_ = scale_rows(X_, inverse_scale_);
  const Eigen::Index n = X_.rows();
  alpha_ = Eigen::VectorXd::Zero(n);
  if (n == 0) return;
  Eigen::MatrixXd K = h_.signal_variance * matern_from_squared(squared_distances(scaled_, scaled_));
  K.diagonal().array() += h_.noise_variance;
  auto jitter = cholesky_with_jitter(K, h_.signal_variance, llt_);
  if (!jitter || !y.allFinite()) {
    // Predict the prior everywhere.
    X_.resize(0, X_.cols()), scaled_.resize(0, X_.cols()), alpha_.resize(0);
    return;
  }
  jitter_ = *jitter;
  alpha_ = llt_.solve(y);
  conditioned_ = true;
}

Eigen::MatrixXd GaussianProcess::kernel(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const {
  return h_.signal_variance *
         matern_from_squared(squared_distances(scale_rows(A, inverse_scale_), scale_rows(B, inverse_scale_)));
}

void GaussianProcess::predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean,
                              Eigen::VectorXd& variance) const {
  const Eigen::Index m = Xs.rows();
  if (X_.rows() == 0) {
    mean = Eigen::VectorXd::Zero(m);
    variance = Eigen::VectorXd::Constant(m, h_.signal_variance);
    return;
  }
  single_threaded_blas();
  // Ks: n × m.
  Eigen::MatrixXd Ks = h_.signal_variance *
                       matern_from_squared(squared_distances(scaled_, scale_rows(Xs, inverse_scale_)));
  mean = Ks.transpose() * alpha_;
  // V = L⁻¹ Ks (OpenBLAS's triangular solve: several times Eigen's here).
  const int n = static_cast<int>(X_.rows()), cols = static_cast<int>(m);
  const double one = 1.0;
  dtrsm_("L", "L", "N", "N", &n, &cols, &one, llt_.matrixLLT().data(), &n, Ks.data(), &n);
  variance = (h_.signal_variance - Ks.colwise().squaredNorm().array()).max(0.0).matrix();
}

void GaussianProcess::predict(const Eigen::VectorXd& x, double& mean, double& variance,
                              Eigen::VectorXd* mean_gradient,
                              Eigen::VectorXd* variance_gradient) const {
  const Eigen::Index d = x.size(), n = X_.rows();
  const double s2 = h_.signal_variance;
  if (n == 0) {
    mean = 0, variance = s2;
    if (mean_gradient) mean_gradient->setZero(d);
    if (variance_gradient) variance_gradient->setZero(d);
    return;
  }
  Eigen::VectorXd xs = x.cwiseProduct(inverse_scale_);
  Eigen::ArrayXXd diff = (-scaled_.array()).rowwise() + xs.transpose().array();  // n × d: x' − X'_j
  Eigen::ArrayXd r5 = (5.0 * diff.square().rowwise().sum()).sqrt();     // √5 r
  Eigen::ArrayXd e = (-r5).exp();
  Eigen::VectorXd k = (s2 * (1.0 + r5 + r5.square() / 3.0) * e).matrix();
  mean = k.dot(alpha_);
  Eigen::VectorXd v = llt_.solve(k);
  variance = std::max(0.0, s2 - k.dot(v));
  if (!mean_gradient && !variance_gradient) return;
  // dk_j/dx = −s² (5/3)(1 + √5 r)e^{−√5 r} (x − X_j) / ℓ²; with scaled diff, one more 1/ℓ.
  Eigen::ArrayXd g = -s2 * (5.0 / 3.0) * (1.0 + r5) * e;
  Eigen::MatrixXd J = (diff.colwise() * g).matrix() * inverse_scale_.asDiagonal();  // n × d
  if (mean_gradient) *mean_gradient = J.transpose() * alpha_;
  if (variance_gradient) *variance_gradient = -2.0 * (J.transpose() * v);
  if (variance_gradient && variance <= 0) variance_gradient->setZero();
}

// ---- log h(z) for log expected improvement ----
namespace {

constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kSqrtPiOver2 = 1.2533141373155003;
constexpr double kHalfLog2Pi = 0.9189385332046728;

// erfcx(x) = exp(x²) erfc(x), x ≥ 0.
double erfcx(double x) {
  if (x < 25.0) return std::exp(x * x) * std::erfc(x);
  // Laplace's continued fraction, converging fast for large x.
  double f = x;
  for (int k = 8; k >= 1; --k) f = x + (k / 2.0) / f;
  return 1.0 / (std::sqrt(std::numbers::pi) * f);
}

// 1 − √(π/2) |z| erfcx(|z|/√2) for z ≤ −1, i.e. h(z)/φ(z).
double tail_ratio(double z) {
  double a = -z;
  if (a < 30.0) return -std::expm1(std::log(kSqrtPiOver2 * a * erfcx(a * kInvSqrt2)));
  // Asymptotic series: 1/z² − 3/z⁴ + 15/z⁶ − 105/z⁸ + 945/z¹⁰.
  double w = 1.0 / (a * a);
  return w * (1.0 - w * (3.0 - w * (15.0 - w * (105.0 - w * 945.0))));
}

}  // namespace

double log_h(double z) {
  if (z > -1.0) {
    double pdf = std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi);
    double cdf = 0.5 * std::erfc(-z * kInvSqrt2);
    return std::log(pdf + z * cdf);
  }
  return -0.5 * z * z - kHalfLog2Pi + std::log(tail_ratio(z));
}

double log_h_derivative(double z) {
  // d/dz log h = Φ(z) / h(z).
  if (z > -1.0) {
    double pdf = std::exp(-0.5 * z * z) / std::sqrt(2.0 * std::numbers::pi);
    double cdf = 0.5 * std::erfc(-z * kInvSqrt2);
    return cdf / (pdf + z * cdf);
  }
  // Φ(z) = ½ erfcx(|z|/√2) e^{−z²/2} and h(z) = φ(z) tail_ratio(z).
  return kSqrtPiOver2 * erfcx(-z * kInvSqrt2) / tail_ratio(z);
}

}  // namespace caviar::detail
