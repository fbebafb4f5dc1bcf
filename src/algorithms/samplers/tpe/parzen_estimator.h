// The Parzen estimator behind the TPE sampler: a weighted mixture of kernels, one per
// observed point, plus a broad "prior" kernel, in the scale-transformed unit cube.
//
// Bergstra, Bardenet, Bengio & Kégl (2011), "Algorithms for Hyper-Parameter Optimization",
// section 4: the density of the good points, l(x), and of the others, g(x), are each such
// a mixture. Kernels, per coordinate:
//
//   * continuous: a Gaussian N(mu, h^2) truncated to [0, 1];
//   * discrete (ints and floats with a step): the same Gaussian, but a point's value is the
//     probability mass of its cell [lo, hi] (its value's share of the cube), so l and g
//     compare whole cells rather than points inside them;
//   * categorical: a distribution over the K choices that puts the extra mass 1 on the
//     observed choice: p(c) = (1[c = observed] + w0 / (n + 1)) / (1 + K w0 / (n + 1)),
//     w0 the prior weight, n the number of observations (Optuna's rule).
//
// A component is the product of its coordinates' kernels (a multivariate product kernel;
// a univariate TPE builds one estimator per coordinate). The prior component has mu = 0.5
// and h = 1 on every numeric coordinate and is uniform over choices; its weight is
// `prior_weight`, the observations' weights are given (they need not sum to anything).
//
// Bandwidths, on every numeric coordinate (the same for every coordinate of a component
// under Scott's rule):
//   * Neighbour (the original TPE's rule, for one dimension): the larger of the distances
//     to the neighbouring centres (the sorted centres including the prior's 0.5, with the
//     ends of [0, 1] as outer neighbours; the outermost centres use their inner distance).
//   * Scott: h = factor * n^(-1 / (d + 4)), d the number of coordinates, n the number of
//     observations (Scott's rule on the unit-width cube; factor 0.2 is Optuna's choice).
// Either is then clipped to [1 / min(100, n + 2), 1] (the "magic clip" of hyperopt: never
// narrower than the cube split into n + 2 parts).
//
// Not thread-safe to build; const methods are safe from many threads.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "base/random.h"

namespace caviar::detail {

struct ParzenDim {
  enum class Kind { Continuous, Discrete, Categorical };
  Kind kind = Kind::Continuous;
  int choices = 0;  // categorical only: the number of choices
};

enum class Bandwidth { Neighbour, Scott };

struct ParzenOptions {
  double prior_weight = 1.0;
  Bandwidth bandwidth = Bandwidth::Scott;
  double scott_factor = 0.2;  // h = scott_factor * n^(-1/(d+4))
};

class ParzenEstimator {
 public:
  // `points`: n rows of dims.size() coordinates, row-major: a unit-cube coordinate for a
  // numeric dimension (a discrete one at its cell's centre), the choice's index for a
  // categorical one. `weights`: n non-negative weights (n may be 0: the prior alone).
  ParzenEstimator(std::span<const ParzenDim> dims, std::span<const double> points,
                  std::span<const double> weights, const ParzenOptions& options);

  std::size_t dims() const { return dims_.size(); }
  // Components: the observations in the order given, then the prior (the last one).
  std::size_t components() const { return n_; }
  double weight(std::size_t i) const { return weight_[i]; }        // normalised
  double mu(std::size_t i, std::size_t d) const { return mu_[d * n_ + i]; }      // numeric d
  double sigma(std::size_t i, std::size_t d) const { return sigma_[d * n_ + i]; }  // numeric d
  // Categorical d: the probability that component i gives choice c.
  double choice_probability(std::size_t i, std::size_t d, int c) const;

  // Draws one point from the mixture into out[0..dims()): numeric coordinates in [0, 1]
  // (continuous, not snapped to a cell), categorical ones as the choice's index.
  void sample(Rng& rng, double* out) const;

  // Log density at `m` points (rows of dims() coordinates in `points`, as for sample()).
  // For a discrete dimension d the point's cell is [cell_lo[k*dims()+d], cell_hi[...]] and
  // its log mass is used instead of a log density; the other entries of cell_lo / cell_hi
  // are not read (they may be empty if there is no discrete dimension).
  void log_pdf(const double* points, std::size_t m, const double* cell_lo,
               const double* cell_hi, double* out) const;
  double log_pdf(const double* point, const double* cell_lo = nullptr,
                 const double* cell_hi = nullptr) const;

 private:
  std::vector<ParzenDim> dims_;
  std::size_t n_ = 0;  // components, the prior included
  std::vector<double> weight_, cumulative_;
  // Numeric dimension d, component i at [d * n_ + i] (unused rows for categorical d).
  std::vector<double> mu_, sigma_, inv_sigma_;
  // Categorical dimension d: log p(c) of component i at cat_offset_[d] + c * n_ + i.
  std::vector<double> cat_log_p_, cat_p_;
  std::vector<std::size_t> cat_offset_;
  // log weight minus the continuous kernels' normalisers, per component.
  std::vector<double> constant_;
};

// Standard normal CDF.
double normal_cdf(double x);
// log of Phi(b) - Phi(a) for a < b, accurate in both tails.
double log_normal_mass(double a, double b);

}  // namespace caviar::detail
