#include "algorithms/samplers/gp/cost_model.h"

#include <algorithm>
#include <cmath>

namespace caviar::detail {

std::optional<double> CostModel::log_cost(double seconds, std::optional<std::int64_t> last_step) {
  if (!(seconds > 0) || !std::isfinite(seconds)) return std::nullopt;
  double per = last_step && *last_step > 0 ? seconds / static_cast<double>(*last_step) : seconds;
  return std::log(per);
}

std::optional<CostModel> CostModel::fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& log_costs,
                                        int restarts, Rng& rng) {
  const Eigen::Index n = log_costs.size();
  if (n < 2) return std::nullopt;
  const double mean = log_costs.mean();
  const double sd = std::sqrt((log_costs.array() - mean).square().sum() / static_cast<double>(n - 1));
  if (!(sd > 1e-6)) return std::nullopt;
  Eigen::VectorXd y = (log_costs.array() - mean) / sd;
  GpFitOptions options;
  options.restarts = restarts;
  // Wall times jitter by a few per cent between runs of one configuration: a noise prior
  // with median 1e-2 (standardised), where the objective's model expects almost none.
  options.noise_log_mean = std::log(1e-2);
  GpHyperparameters h = fit_gp_hyperparameters(X, y, options, rng);
  return CostModel(GaussianProcess(X, std::move(y), h), sd);
}

double CostModel::operator()(const Eigen::VectorXd& z, Eigen::VectorXd* gradient) const {
  double mean, var;
  gp_.predict(z, mean, var, gradient, nullptr);
  if (gradient) *gradient *= scale_;
  return scale_ * mean;
}

Eigen::VectorXd CostModel::operator()(const Eigen::MatrixXd& Z) const {
  Eigen::VectorXd mean, var;
  gp_.predict(Z, mean, var);
  return scale_ * mean;
}

}  // namespace caviar::detail
