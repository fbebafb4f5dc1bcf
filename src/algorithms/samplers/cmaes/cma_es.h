// The covariance matrix adaptation evolution strategy (CMA-ES), the plain algorithm, as
// given in N. Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772 (2016,
// revised 2023): default population, weights (including the negative weights of active
// CMA), learning rates c_c, c_1, c_mu, c_sigma and damping d_sigma (the tutorial's
// Table 1), cumulative step-size adaptation, and the rank-one plus rank-mu covariance
// update, with the covariance matrix eigendecomposed (Eigen) after every generation.
//
// It is an ask/tell object without its own randomness: sample() maps a standard normal
// vector z to m + sigma * B D z, so the caller decides where z comes from (the sampler
// draws it from a counter-based generator per trial, so that any process can replay it).
// tell() takes evaluated points, sorted or not, from any source: each step y = (x - m) /
// sigma has its Mahalanobis length clipped to sqrt(n) + 2n/(n+2) (Hansen 2011, "Injecting
// External Solutions Into CMA-ES"), so points that were rounded, clipped to bounds or not
// sampled by this distribution at all (enqueued trials) cannot break the step size.
// Unbounded: bounds are the caller's business (see cmaes_sampler.cpp).
#pragma once

#include <utility>
#include <vector>

#include <Eigen/Dense>

namespace caviar::detail {

// The strategy constants for dimension n and population lambda (tutorial, Table 1).
struct CmaEsConstants {
  int n = 0, lambda = 0, mu = 0;
  Eigen::VectorXd weights;  // lambda weights, best first: mu positive summing to 1, then
                            // negative ones (active CMA) scaled as in the tutorial
  double mu_eff = 0;        // variance effective selection mass of the positive weights
  double c_sigma = 0, d_sigma = 0, c_c = 0, c_1 = 0, c_mu = 0;
  double chi_n = 0;         // E||N(0, I)||

  // lambda >= 1 (lambda = 1 is allowed so that a generation with one finished point can
  // still move the mean; its only weight is 1).
  static CmaEsConstants of(int n, int lambda);
  // The tutorial's default population: 4 + floor(3 ln n).
  static int default_lambda(int n);
};

class CmaEs {
 public:
  // mean: the start x0; sigma: the step size; lambda: the population (>= 2).
  CmaEs(Eigen::VectorXd mean, double sigma, int lambda);

  int dim() const { return static_cast<int>(mean_.size()); }
  int lambda() const { return constants_.lambda; }
  int generation() const { return generation_; }  // updates done so far
  const Eigen::VectorXd& mean() const { return mean_; }
  double sigma() const { return sigma_; }
  const Eigen::MatrixXd& covariance() const { return c_; }
  const CmaEsConstants& constants() const { return constants_; }

  // A point of the search distribution: m + sigma * B D z, for z ~ N(0, I).
  Eigen::VectorXd sample(const Eigen::VectorXd& z) const;

  // One generation's update from evaluated points (x, f(x)), minimising. Any number >= 1:
  // with k points other than lambda, the weights and learning rates are those of a
  // population of k (a generation some of whose trials failed). Does nothing for none.
  void tell(std::vector<std::pair<Eigen::VectorXd, double>> points);

  // sigma times the largest standard deviation along a principal axis.
  double max_std() const;
  // The condition number of C (largest over smallest eigenvalue).
  double condition() const;
  // Whether m, sigma and C are all finite.
  bool finite() const;

 private:
  void decompose();  // B, D and C^-1/2 from C

  CmaEsConstants constants_;
  Eigen::VectorXd mean_, p_sigma_, p_c_;
  double sigma_;
  Eigen::MatrixXd c_, b_, inv_sqrt_c_;
  Eigen::VectorXd d_;  // square roots of C's eigenvalues
  int generation_ = 0;
};

}  // namespace caviar::detail
