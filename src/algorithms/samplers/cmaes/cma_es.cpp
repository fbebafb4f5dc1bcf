// CMA-ES, following Hansen's tutorial (arXiv:1604.00772), Table 1 and Figure 6 there.
#include "algorithms/samplers/cmaes/cma_es.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace caviar::detail {

int CmaEsConstants::default_lambda(int n) {
  return 4 + static_cast<int>(std::floor(3 * std::log(static_cast<double>(n))));
}

CmaEsConstants CmaEsConstants::of(int n, int lambda) {
  if (n < 1 || lambda < 1) throw std::invalid_argument("CMA-ES needs n >= 1 and lambda >= 1");
  CmaEsConstants c;
  c.n = n;
  c.lambda = lambda;
  const double dn = n;
  c.weights = Eigen::VectorXd::Zero(lambda);
  double mu_eff_minus = 0;
  if (lambda == 1) {
    c.mu = 1;
    c.weights(0) = 1;
    c.mu_eff = 1;
  } else {
    c.mu = lambda / 2;
    Eigen::VectorXd w(lambda);  // w'_i = ln((lambda + 1) / 2) - ln i
    for (int i = 0; i < lambda; ++i) w(i) = std::log((lambda + 1) / 2.0) - std::log(i + 1.0);
    const double pos = w.head(c.mu).sum();
    c.mu_eff = pos * pos / w.head(c.mu).squaredNorm();
    const Eigen::VectorXd neg = w.tail(lambda - c.mu);
    if (neg.squaredNorm() > 0) mu_eff_minus = neg.sum() * neg.sum() / neg.squaredNorm();
    c.weights.head(c.mu) = w.head(c.mu) / pos;
    c.weights.tail(lambda - c.mu) = neg;  // scaled below, once c_1 and c_mu are known
  }
  const double alpha_cov = 2;
  c.c_1 = alpha_cov / ((dn + 1.3) * (dn + 1.3) + c.mu_eff);
  c.c_mu = std::min(1 - c.c_1, alpha_cov * (0.25 + c.mu_eff + 1 / c.mu_eff - 2) /
                                   ((dn + 2) * (dn + 2) + alpha_cov * c.mu_eff / 2));
  if (lambda > c.mu) {
    double neg_sum = 0;  // sum of |w'_i| over the negative ones
    for (int i = c.mu; i < lambda; ++i) neg_sum += std::abs(c.weights(i));
    if (neg_sum > 0) {
      const double alpha_mu_minus = 1 + c.c_1 / c.c_mu;
      const double alpha_mu_eff_minus = 1 + 2 * mu_eff_minus / (c.mu_eff + 2);
      const double alpha_posdef_minus = (1 - c.c_1 - c.c_mu) / (dn * c.c_mu);
      const double scale = std::min({alpha_mu_minus, alpha_mu_eff_minus, alpha_posdef_minus});
      for (int i = c.mu; i < lambda; ++i) c.weights(i) = scale * c.weights(i) / neg_sum;
    }
  }
  c.c_sigma = (c.mu_eff + 2) / (dn + c.mu_eff + 5);
  c.d_sigma = 1 + 2 * std::max(0.0, std::sqrt((c.mu_eff - 1) / (dn + 1)) - 1) + c.c_sigma;
  c.c_c = (4 + c.mu_eff / dn) / (dn + 4 + 2 * c.mu_eff / dn);
  c.chi_n = std::sqrt(dn) * (1 - 1 / (4 * dn) + 1 / (21 * dn * dn));
  return c;
}

CmaEs::CmaEs(Eigen::VectorXd mean, double sigma, int lambda)
    : constants_(CmaEsConstants::of(static_cast<int>(mean.size()), lambda)),
      mean_(std::move(mean)),
      sigma_(sigma) {
  if (lambda < 2) throw std::invalid_argument("CMA-ES needs a population of at least 2");
  if (!(sigma > 0)) throw std::invalid_argument("CMA-ES needs sigma > 0");
  const int n = dim();
  p_sigma_ = Eigen::VectorXd::Zero(n);
  p_c_ = Eigen::VectorXd::Zero(n);
  c_ = Eigen::MatrixXd::Identity(n, n);
  b_ = Eigen::MatrixXd::Identity(n, n);
  inv_sqrt_c_ = Eigen::MatrixXd::Identity(n, n);
  d_ = Eigen::VectorXd::Ones(n);
}

Eigen::VectorXd CmaEs::sample(const Eigen::VectorXd& z) const {
  return mean_ + sigma_ * (b_ * d_.cwiseProduct(z));
}

void CmaEs::tell(std::vector<std::pair<Eigen::VectorXd, double>> points) {
  const int k = static_cast<int>(points.size());
  if (k == 0) return;
  const int n = dim();
  const double dn = n;
  std::stable_sort(points.begin(), points.end(),
                   [](const auto& a, const auto& b) { return a.second < b.second; });
  const CmaEsConstants p = k == constants_.lambda ? constants_ : CmaEsConstants::of(n, k);

  // Steps y_i = (x_i - m) / sigma and their whitened z_i = C^-1/2 y_i, with the Mahalanobis
  // length clipped (Hansen 2011) so that no point, sampled or injected, dominates.
  const double cap = std::sqrt(dn) + 2 * dn / (dn + 2);
  Eigen::MatrixXd y(n, k), z(n, k);
  for (int i = 0; i < k; ++i) {
    y.col(i) = (points[i].first - mean_) / sigma_;
    z.col(i) = inv_sqrt_c_ * y.col(i);
    const double norm = z.col(i).norm();
    if (norm > cap) {
      y.col(i) *= cap / norm;
      z.col(i) *= cap / norm;
    }
  }
  const Eigen::VectorXd yw = y.leftCols(p.mu) * p.weights.head(p.mu);
  const Eigen::VectorXd zw = z.leftCols(p.mu) * p.weights.head(p.mu);

  mean_ += sigma_ * yw;  // c_m = 1

  // Step size: cumulative step-size adaptation.
  p_sigma_ = (1 - p.c_sigma) * p_sigma_ + std::sqrt(p.c_sigma * (2 - p.c_sigma) * p.mu_eff) * zw;
  sigma_ *= std::exp(std::min(1.0, (p.c_sigma / p.d_sigma) * (p_sigma_.norm() / p.chi_n - 1)));

  // Covariance: rank-one (evolution path) plus rank-mu, with the active negative weights.
  ++generation_;
  const double path_norm =
      p_sigma_.norm() / std::sqrt(1 - std::pow(1 - p.c_sigma, 2.0 * generation_));
  const double h_sigma = path_norm < (1.4 + 2 / (dn + 1)) * p.chi_n ? 1 : 0;
  p_c_ = (1 - p.c_c) * p_c_ + h_sigma * std::sqrt(p.c_c * (2 - p.c_c) * p.mu_eff) * yw;
  const double delta = (1 - h_sigma) * p.c_c * (2 - p.c_c);
  Eigen::VectorXd w_circ = p.weights;
  for (int i = 0; i < k; ++i)
    if (w_circ(i) < 0) w_circ(i) *= dn / std::max(z.col(i).squaredNorm(), 1e-300);
  const Eigen::MatrixXd rank_mu = y * w_circ.asDiagonal() * y.transpose();
  c_ = (1 + p.c_1 * delta - p.c_1 - p.c_mu * p.weights.sum()) * c_ +
       p.c_1 * p_c_ * p_c_.transpose() + p.c_mu * rank_mu;
  decompose();
}

void CmaEs::decompose() {
  c_ = (c_ + c_.transpose()) / 2;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(c_);
  if (eigen.info() != Eigen::Success) return;  // keep the previous B and D
  Eigen::VectorXd values = eigen.eigenvalues();
  const double floor = std::max(values.maxCoeff(), 1e-300) * 1e-20;
  for (auto& v : values) v = std::max(v, floor);
  b_ = eigen.eigenvectors();
  d_ = values.cwiseSqrt();
  inv_sqrt_c_ = b_ * d_.cwiseInverse().asDiagonal() * b_.transpose();
}

double CmaEs::max_std() const { return sigma_ * d_.maxCoeff(); }

double CmaEs::condition() const {
  const double lo = d_.minCoeff(), hi = d_.maxCoeff();
  return (hi * hi) / (lo * lo);
}

bool CmaEs::finite() const {
  return std::isfinite(sigma_) && mean_.allFinite() && c_.allFinite();
}

}  // namespace caviar::detail
