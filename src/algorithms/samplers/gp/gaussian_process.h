// Gaussian-process regression for the GP sampler (Rasmussen & Williams 2006, "Gaussian
// Processes for Machine Learning", ch. 2 and 5).
//
// Model: y = f(x) + noise, f ~ GP(0, k), with the Matérn-5/2 kernel and one length scale
// per input dimension (automatic relevance determination):
//
//   k(x, x') = s² (1 + √5 r + 5 r²/3) exp(−√5 r),   r² = Σ_i (x_i − x'_i)² / ℓ_i²
//
// The caller standardises y (zero prior mean). Hyperparameters (ℓ, s², noise) are the
// maximum a posteriori estimate: the log marginal likelihood plus weak log-normal priors,
// maximised with its analytic gradient by a bounded L-BFGS (lbfgsb.h) from several starts.
// The length-scale prior is the dimension-scaled log-normal of Hvarfner, Hellsten &
// Nardi (2024), "Vanilla Bayesian Optimization Performs Great in High Dimensions".
//
// The Cholesky factor of K + noise·I is taken with escalating jitter (1e-10 s² up to 1 s²,
// ×10 each time), so a singular K (duplicate points, no noise) never throws; if even that
// fails (non-finite input) the model falls back to the prior.
#pragma once

#include <optional>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "base/random.h"

namespace caviar::detail {

// The Matérn-5/2 correlation at scaled distance r ≥ 0: (1 + √5 r + 5 r²/3) e^{−√5 r}.
double matern52(double r);

struct GpHyperparameters {
  Eigen::VectorXd length_scales;  // ℓ, one per input dimension, in the inputs' units
  double signal_variance = 1;     // s²
  double noise_variance = 1e-6;   // added to K's diagonal (not to predictions)
};

struct GpFitOptions {
  int restarts = 2;         // optimiser starts: the default point, then draws from the priors
  int restart_limit = 50;   // with more points than this, one start
  int max_iterations = 60;  // L-BFGS iterations per start
  // Box of the search, in the natural units.
  double min_length_scale = 5e-3, max_length_scale = 1e2;
  double min_signal_variance = 5e-2, max_signal_variance = 2e1;
  double min_noise_variance = 1e-6, max_noise_variance = 1.0;
  // Normal priors on the logs. Length scale: mean √2 + ½ log d, sd √3 (Hvarfner et al.).
  double length_scale_log_sd = 1.7320508075688772;
  double signal_log_mean = 0.0, signal_log_sd = 1.0;
  double noise_log_mean = -9.2, noise_log_sd = 2.0;  // median noise 1e-4 (standardised y)
};

struct GpWorkspace;  // buffers reused between calls (gaussian_process.cpp)

// The maximised objective: log p(y | X, θ) + log p(θ), and optionally its gradient with
// respect to θ = (log ℓ_1 .. log ℓ_d, log s², log noise). Returns −∞ if K cannot be
// factorised.
double gp_log_posterior(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                        const GpHyperparameters& h, const GpFitOptions& options,
                        Eigen::VectorXd* gradient = nullptr,
                        GpWorkspace* workspace = nullptr);

// The MAP hyperparameters for data X (n × d, one point per row) and standardised y.
// `rng` draws the extra starts.
GpHyperparameters fit_gp_hyperparameters(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                                         const GpFitOptions& options, Rng& rng);

// The posterior given fixed hyperparameters.
class GaussianProcess {
 public:
  GaussianProcess(Eigen::MatrixXd X, Eigen::VectorXd y, GpHyperparameters h);

  // Posterior mean and variance of f (noise excluded) at each row of Xs.
  void predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd& mean, Eigen::VectorXd& variance) const;
  // At one point, with the gradients of mean and variance with respect to x when asked.
  void predict(const Eigen::VectorXd& x, double& mean, double& variance,
               Eigen::VectorXd* mean_gradient = nullptr,
               Eigen::VectorXd* variance_gradient = nullptr) const;

  // k(A_i, B_j) for rows of A and B.
  Eigen::MatrixXd kernel(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B) const;

  const GpHyperparameters& hyperparameters() const { return h_; }
  // The jitter that made K + (noise + jitter) I factorisable (0 when none was needed).
  double jitter() const { return jitter_; }
  // False when K could not be factorised at all: predictions are then the prior's.
  bool conditioned() const { return conditioned_; }
  Eigen::Index size() const { return X_.rows(); }

 private:
  Eigen::MatrixXd X_, scaled_;  // scaled_ = X with column i divided by ℓ_i
  Eigen::VectorXd inverse_scale_;
  GpHyperparameters h_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::VectorXd alpha_;  // (K + noise I)⁻¹ y
  double jitter_ = 0;
  bool conditioned_ = false;
};

// Cholesky of K + jitter·I, the jitter escalating from 0 through 1e-10·scale to 1·scale;
// returns the jitter used, or nullopt if none worked.
std::optional<double> cholesky_with_jitter(Eigen::MatrixXd& K, double scale,
                                           Eigen::LLT<Eigen::MatrixXd>& llt);

// The stable log of h(z) = φ(z) + z Φ(z), the expected improvement of a unit normal over
// threshold 0 at standardised distance z (EI = σ h((best − μ)/σ) for minimisation), and
// its derivative d log h / dz. Ament et al. (2023), "Unexpected Improvements to Expected
// Improvement for Bayesian Optimization": finite for every finite z (about −z²/2 − 2 log|z|
// far in the left tail, where h itself underflows).
double log_h(double z);
double log_h_derivative(double z);

}  // namespace caviar::detail
