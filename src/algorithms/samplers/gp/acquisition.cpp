#include "algorithms/samplers/gp/acquisition.h"

#include <algorithm>
#include <cmath>

#include "algorithms/samplers/gp/gaussian_process.h"

namespace caviar::detail {

double LogAcquisition::operator()(double mean, double var, double* d_mean, double* d_var) const {
  var = std::max(var, 1e-30);
  const double sd = std::sqrt(var);
  const double z = (best - mean) / sd;
  double value = log_h(z) + std::log(sd);
  // d log EI = log_h'(z) dz + ds / s, with dz/dμ = −1/s, dz/ds = −z/s and ds/dvar = 1/(2s).
  const double lh = d_mean || d_var ? log_h_derivative(z) : 0.0;
  if (d_mean) *d_mean = -lh / sd;
  if (d_var) *d_var = (1 - lh * z) / (2 * var);
  if (noise_var > 0) {
    const double sn = std::sqrt(noise_var);
    const double r = std::sqrt(var + noise_var);
    value += std::log(var) - std::log(r) - std::log(r + sn);
    if (d_var) *d_var += 1 / var - (1 / r + 1 / (r + sn)) / (2 * r);
  }
  return value;
}

}  // namespace caviar::detail
