// Projected L-BFGS; see lbfgsb.h.
#include "algorithms/samplers/gp/lbfgsb.h"

#include <cmath>
#include <vector>

namespace caviar::detail {

LbfgsbResult minimize_lbfgsb(const Objective& f, Eigen::VectorXd& x, const Eigen::VectorXd& lower,
                             const Eigen::VectorXd& upper, const LbfgsbOptions& options) {
  const Eigen::Index n = x.size();
  LbfgsbResult result;
  x = x.cwiseMax(lower).cwiseMin(upper);
  Eigen::VectorXd g(n);
  double fx = f(x, g);
  result.evaluations = 1;
  result.value = fx;
  if (!std::isfinite(fx) || !g.allFinite() || n == 0) return result;

  const int m = std::max(1, options.memory);
  std::vector<Eigen::VectorXd> s_hist, y_hist;  // oldest first
  std::vector<double> rho_hist;
  Eigen::VectorXd free_mask(n), q(n), d(n), x_new(n), g_new(n);
  std::vector<double> alpha(static_cast<std::size_t>(m));

  for (result.iterations = 0; result.iterations < options.max_iterations; ++result.iterations) {
    // A variable on a bound whose gradient points outward stays there this step.
    for (Eigen::Index i = 0; i < n; ++i) {
      bool stuck = (x[i] <= lower[i] && g[i] > 0) || (x[i] >= upper[i] && g[i] < 0);
      free_mask[i] = stuck ? 0.0 : 1.0;
    }
    q = g.cwiseProduct(free_mask);
    if (q.lpNorm<Eigen::Infinity>() < options.gradient_tol) break;

    // Two-loop recursion on the free variables.
    const std::size_t k = s_hist.size();
    for (std::size_t j = k; j-- > 0;) {
      alpha[j] = rho_hist[j] * s_hist[j].cwiseProduct(free_mask).dot(q);
      q -= alpha[j] * y_hist[j].cwiseProduct(free_mask);
    }
    if (k > 0) q *= s_hist[k - 1].dot(y_hist[k - 1]) / y_hist[k - 1].squaredNorm();
    for (std::size_t j = 0; j < k; ++j) {
      double beta = rho_hist[j] * y_hist[j].cwiseProduct(free_mask).dot(q);
      q += (alpha[j] - beta) * s_hist[j].cwiseProduct(free_mask);
    }
    d = -q.cwiseProduct(free_mask);
    if (!(d.dot(g) < 0)) {  // not a descent direction: start over with steepest descent
      s_hist.clear(), y_hist.clear(), rho_hist.clear();
      d = -g.cwiseProduct(free_mask);
    }
    double t = s_hist.empty() ? std::min(1.0, 1.0 / d.lpNorm<Eigen::Infinity>()) : 1.0;

    // Backtracking along the projected path.
    bool accepted = false;
    double f_new = fx;
    for (int tries = 0; tries < 40; ++tries) {
      x_new = (x + t * d).cwiseMax(lower).cwiseMin(upper);
      f_new = f(x_new, g_new);
      ++result.evaluations;
      if (std::isfinite(f_new) && g_new.allFinite() && f_new <= fx + 1e-4 * g.dot(x_new - x)) {
        accepted = true;
        break;
      }
      t *= 0.5;
    }
    if (!accepted) {
      if (s_hist.empty()) break;  // even steepest descent cannot improve: done
      s_hist.clear(), y_hist.clear(), rho_hist.clear();
      continue;
    }
    Eigen::VectorXd s = x_new - x, y = g_new - g;
    double sy = s.dot(y);
    if (sy > 1e-12 * y.squaredNorm() && sy > 0) {
      if (static_cast<int>(s_hist.size()) == m) {
        s_hist.erase(s_hist.begin()), y_hist.erase(y_hist.begin()), rho_hist.erase(rho_hist.begin());
      }
      s_hist.push_back(std::move(s)), y_hist.push_back(std::move(y)), rho_hist.push_back(1.0 / sy);
    }
    double improvement = fx - f_new;
    x = x_new, g = g_new, fx = f_new;
    if (improvement <= options.value_tol * std::max(1.0, std::abs(fx))) {
      ++result.iterations;
      break;
    }
  }
  result.value = fx;
  return result;
}

}  // namespace caviar::detail
