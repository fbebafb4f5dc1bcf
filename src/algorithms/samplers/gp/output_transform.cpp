#include "algorithms/samplers/gp/output_transform.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <numeric>

#include "algorithms/pruners/pruners.h"

namespace caviar::detail {

std::optional<double> report_noise_variance(const std::vector<TrialRecord>& history) {
  constexpr std::size_t kReports = 4, kMinTrials = 3;
  std::vector<double> per_trial;
  for (const auto& t : history) {
    // Complete trials only: a trial pruned early stopped on the steep part of its curve,
    // where a line through 4 reports misses the bend and would count it as noise.
    if (t.state != TrialState::Complete || t.intermediate.size() < kReports) continue;
    // The last 4 reports, oldest first: a least-squares line through them, then the
    // residual sum of squares over its 4 − 2 degrees of freedom.
    auto it = std::prev(t.intermediate.end(), static_cast<std::ptrdiff_t>(kReports));
    double x[kReports], v[kReports], xm = 0, vm = 0;
    for (std::size_t i = 0; i < kReports; ++i, ++it) {
      x[i] = static_cast<double>(it->first);
      v[i] = it->second;
      xm += x[i] / kReports;
      vm += v[i] / kReports;
    }
    double sxx = 0, sxv = 0;
    for (std::size_t i = 0; i < kReports; ++i) {
      sxx += (x[i] - xm) * (x[i] - xm);
      sxv += (x[i] - xm) * (v[i] - vm);
    }
    const double slope = sxv / sxx;  // steps are distinct keys, so sxx > 0
    double rss = 0;
    for (std::size_t i = 0; i < kReports; ++i) rss += std::pow(v[i] - vm - slope * (x[i] - xm), 2);
    if (std::isfinite(rss)) per_trial.push_back(rss / (kReports - 2));
  }
  if (per_trial.size() < kMinTrials) return std::nullopt;
  return pruners::linear_percentile(std::move(per_trial), 50);
}

TransformedOutputs transform_outputs(const Eigen::VectorXd& y, GpOptions::Transform mode,
                                     double noise_sd) {
  const Eigen::Index n = y.size();
  Eigen::VectorXd t = y;
  double slope_at_best = 1;  // dt/dy at the smallest value
  if (mode == GpOptions::Transform::Rank) {
    // Gaussian copula: normal scores of the ranks (ties share their mean rank).
    std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return y[a] < y[b]; });
    for (Eigen::Index i = 0; i < n;) {
      Eigen::Index j = i;
      while (j + 1 < n && y[order[j + 1]] == y[order[i]]) ++j;
      double p = (0.5 * (i + j) + 0.5) / static_cast<double>(n);
      // Inverse normal CDF by bisection on erfc (n is small; exact enough).
      double lo = -8, hi = 8;
      for (int it = 0; it < 60; ++it) {
        double mid = 0.5 * (lo + hi);
        (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
      }
      for (Eigen::Index k = i; k <= j; ++k) t[order[k]] = 0.5 * (lo + hi);
      i = j + 1;
    }
  } else if (mode == GpOptions::Transform::Auto && n >= 3) {
    // Skewness test: the maximum far above the median in units of the median's distance
    // to the minimum.
    std::vector<double> s(y.data(), y.data() + n);
    std::sort(s.begin(), s.end());
    const double lo = s.front(), med = s[static_cast<std::size_t>(n / 2)], hi = s.back();
    const double range = hi - lo;
    if (range > 0 && (hi - med) > 4.0 * (med - lo) + 1e-12 * range) {
      const double c = std::max({(med - lo) * 0.1, range * 1e-3, 2 * noise_sd});
      t = (y.array() - lo + c).log().matrix();
      slope_at_best = 1 / c;
    }
  }
  const double mean = t.mean();
  double sd = n > 1 ? std::sqrt((t.array() - mean).square().sum() / static_cast<double>(n - 1)) : 0.0;
  if (!(sd > 1e-12)) sd = 1.0;
  const double noise = noise_sd > 0 && mode != GpOptions::Transform::Rank
                           ? std::pow(noise_sd * slope_at_best / sd, 2)
                           : std::numeric_limits<double>::quiet_NaN();
  return {((t.array() - mean) / sd).matrix(), noise};
}

}  // namespace caviar::detail
