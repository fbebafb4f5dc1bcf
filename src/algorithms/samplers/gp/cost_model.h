// Cost-aware acquisition for the GP sampler: expected improvement per second (Snoek,
// Larochelle & Adams, "Practical Bayesian Optimization of Machine Learning Algorithms",
// NeurIPS 2012, section 3.2).
//
// A second GP (the same Matérn-5/2 model, gaussian_process.h) learns the log of what a
// trial costs: its seconds per step (wall time over its last reported step, so a trial
// pruned at epoch 1 and one run to epoch 10 are compared per epoch), or its seconds when
// it reported no steps. The sampler then maximises log EI(x) − log ĉ(x), where log ĉ is
// that GP's posterior mean: between points that promise about the same improvement it
// takes the cheaper one (a mini-batch of 256 before one of 32, a narrow network before a
// wide one), while a point far better than the rest still wins (log EI falls off
// quadratically in the gap; a cost ratio of 10 is 2.3 in log units).
//
// Off by default (GpOptions::cost): on the Fashion-MNIST time-to-accuracy benchmark it made
// trials about 3 times cheaper without reaching the target sooner (docs/benchmarks.md),
// since the cheap networks reach the top accuracies less often. `auto` builds it only once
// trials are long enough for their cost to matter, so timing noise never steers the search.
#pragma once

#include <cstdint>
#include <optional>

#include <Eigen/Core>

#include "base/random.h"
#include "algorithms/samplers/gp/gaussian_process.h"

namespace caviar::detail {

class CostModel {
 public:
  // A trial's cost, in log seconds (per step when it reported steps); nullopt for a trial
  // with no measured duration.
  static std::optional<double> log_cost(double seconds, std::optional<std::int64_t> last_step);

  // Fitted on inputs X (one row per trial, in the GP's encoding) and their log costs. Nullopt
  // when the costs do not vary (nothing to learn).
  static std::optional<CostModel> fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& log_costs,
                                      int restarts, Rng& rng);

  // The predicted log cost at z, up to a constant (the same for every z), and its gradient
  // with respect to z when asked.
  double operator()(const Eigen::VectorXd& z, Eigen::VectorXd* gradient = nullptr) const;
  Eigen::VectorXd operator()(const Eigen::MatrixXd& Z) const;

 private:
  CostModel(GaussianProcess gp, double scale) : gp_(std::move(gp)), scale_(scale) {}
  GaussianProcess gp_;  // on standardised log costs
  double scale_;        // their standard deviation
};

}  // namespace caviar::detail
