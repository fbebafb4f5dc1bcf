// The Parzen estimator of the TPE sampler; see parzen_estimator.h.
#include "algorithms/samplers/tpe/parzen_estimator.h"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <iterator>
#include <numbers>
#include <numeric>
#include <utility>

namespace caviar::detail {
namespace {

constexpr double kSqrt2 = std::numbers::sqrt2;
const double kHalfLog2Pi = 0.5 * std::log(2 * std::numbers::pi);

// log of the standard normal's upper tail beyond x >= 0, for x so large that erfc
// underflows (Mills' ratio, first term).
double log_upper_tail(double x) { return -0.5 * x * x - std::log(x) - kHalfLog2Pi; }

// The indices of x[0..n) (values in [0, 1]) in increasing order of value, equal values in
// index order. Keys are 43-bit fixed-point values with the index in the low 20 bits, so
// values closer than 2^-43 count as equal and every key is distinct; from 512 values on
// they are sorted by an LSD radix sort (4 passes of 11 bits), which gives the same order
// as std::sort in a fraction of the time. Past 2^20 values: a plain stable sort.
void sort_unit_values(const double* x, std::size_t n, std::vector<std::size_t>& order,
                      std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& scratch) {
  order.resize(n);
  constexpr int kIndexBits = 20, kDigitBits = 11, kPasses = 4;
  if (n >= (std::size_t{1} << kIndexBits)) {
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
    return;
  }
  constexpr std::uint64_t kTop = (std::uint64_t{1} << 43) - 1;
  constexpr std::uint64_t kIndexMask = (std::uint64_t{1} << kIndexBits) - 1;
  constexpr std::uint64_t kDigitMask = (std::uint64_t{1} << kDigitBits) - 1;
  keys.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto fixed = static_cast<std::uint64_t>(std::clamp(x[i], 0.0, 1.0) * 0x1p43);
    keys[i] = (std::min(fixed, kTop) << kIndexBits) | i;
  }
  if (n < 512) {
    std::sort(keys.begin(), keys.end());
  } else {
    scratch.resize(n);
    std::size_t count[std::size_t{1} << kDigitBits];
    for (int pass = 0; pass < kPasses; ++pass) {
      const int shift = kIndexBits + pass * kDigitBits;
      std::fill(std::begin(count), std::end(count), std::size_t{0});
      for (std::uint64_t k : keys) ++count[(k >> shift) & kDigitMask];
      std::size_t total = 0;
      for (auto& c : count) total += std::exchange(c, total);
      for (std::uint64_t k : keys) scratch[count[(k >> shift) & kDigitMask]++] = k;
      keys.swap(scratch);
    }
  }
  for (std::size_t i = 0; i < n; ++i) order[i] = keys[i] & kIndexMask;
}

}  // namespace

double normal_cdf(double x) { return 0.5 * std::erfc(-x / kSqrt2); }

double log_normal_mass(double a, double b) {
  double mass;
  if (a >= 0) {
    mass = 0.5 * (std::erfc(a / kSqrt2) - std::erfc(b / kSqrt2));
    if (mass < 1e-300) return log_upper_tail(a);
  } else if (b <= 0) {
    mass = 0.5 * (std::erfc(-b / kSqrt2) - std::erfc(-a / kSqrt2));
    if (mass < 1e-300) return log_upper_tail(-b);
  } else {
    // Each tail beyond 8.5 standard deviations is below 1e-17: skip it.
    mass = 1.0;
    if (b < 8.5) mass -= 0.5 * std::erfc(b / kSqrt2);
    if (a > -8.5) mass -= 0.5 * std::erfc(-a / kSqrt2);
    if (mass == 1.0) return 0.0;
  }
  return std::log(mass);
}

ParzenEstimator::ParzenEstimator(std::span<const ParzenDim> dims, std::span<const double> points,
                                 std::span<const double> weights, const ParzenOptions& options)
    : dims_(dims.begin(), dims.end()) {
  const std::size_t d = dims_.size(), obs = weights.size();
  n_ = obs + 1;
  const std::size_t prior = obs;

  // Mixture weights, the prior last.
  weight_.assign(n_, 0.0);
  double total = options.prior_weight;
  for (std::size_t i = 0; i < obs; ++i) total += (weight_[i] = weights[i]);
  weight_[prior] = options.prior_weight;
  cumulative_.resize(n_);
  double running = 0;
  for (std::size_t i = 0; i < n_; ++i) {
    weight_[i] /= total;
    cumulative_[i] = (running += weight_[i]);
  }
  constant_.resize(n_);
  for (std::size_t i = 0; i < n_; ++i)
    constant_[i] = weight_[i] > 0 ? std::log(weight_[i]) : -HUGE_VAL;

  mu_.assign(d * n_, 0.0);
  sigma_.assign(d * n_, 1.0);
  inv_sigma_.assign(d * n_, 1.0);
  cat_offset_.assign(d, 0);

  const double min_sigma = 1.0 / std::min(100.0, static_cast<double>(obs) + 2.0);
  const double scott = options.scott_factor *
                       std::pow(std::max<double>(static_cast<double>(obs), 1.0),
                                -1.0 / (static_cast<double>(d) + 4.0));
  std::vector<std::size_t> order(n_);
  std::vector<std::uint64_t> keys, scratch;
  for (std::size_t k = 0; k < d; ++k) {
    if (dims_[k].kind == ParzenDim::Kind::Categorical) {
      // Each observation adds mass 1 to its choice on top of prior_weight / (n + 1) for
      // every choice; the prior component is uniform.
      const int choices = dims_[k].choices;
      cat_offset_[k] = cat_p_.size();
      cat_p_.resize(cat_p_.size() + static_cast<std::size_t>(choices) * n_);
      const double fill = options.prior_weight / static_cast<double>(obs + 1);
      const double row_total = 1.0 + fill * choices;
      for (std::size_t i = 0; i < n_; ++i) {
        int observed = -1;
        if (i < obs)
          observed = std::clamp(static_cast<int>(std::lround(points[i * d + k])), 0, choices - 1);
        for (int c = 0; c < choices; ++c) {
          double p = i == prior ? 1.0 / choices : ((c == observed ? 1.0 : 0.0) + fill) / row_total;
          cat_p_[cat_offset_[k] + static_cast<std::size_t>(c) * n_ + i] = p;
        }
      }
      continue;
    }
    double* mu = &mu_[k * n_];
    double* sigma = &sigma_[k * n_];
    for (std::size_t i = 0; i < obs; ++i) mu[i] = std::clamp(points[i * d + k], 0.0, 1.0);
    mu[prior] = 0.5;
    if (options.bandwidth == Bandwidth::Scott) {
      std::fill(sigma, sigma + n_, scott);
    } else {
      sort_unit_values(mu, n_, order, keys, scratch);
      for (std::size_t s = 0; s < n_; ++s) {
        const double here = mu[order[s]];
        const double left = s == 0 ? 0.0 : mu[order[s - 1]];
        const double right = s + 1 == n_ ? 1.0 : mu[order[s + 1]];
        double h = std::max(here - left, right - here);
        // The outermost centres use their inner neighbour only (not the cube's end).
        if (n_ >= 2 && s == 0) h = right - here;
        if (n_ >= 2 && s + 1 == n_) h = here - left;
        sigma[order[s]] = h;
      }
    }
    for (std::size_t i = 0; i < n_; ++i) sigma[i] = std::clamp(sigma[i], min_sigma, 1.0);
    sigma[prior] = 1.0;
    for (std::size_t i = 0; i < n_; ++i) {
      const std::size_t at = k * n_ + i;
      inv_sigma_[at] = 1.0 / sigma[i];
      const double log_z = log_normal_mass(-mu[i] * inv_sigma_[at], (1.0 - mu[i]) * inv_sigma_[at]);
      constant_[i] -= log_z;
      if (dims_[k].kind == ParzenDim::Kind::Continuous)
        constant_[i] -= std::log(sigma[i]) + kHalfLog2Pi;
    }
  }
  cat_log_p_.resize(cat_p_.size());
  for (std::size_t i = 0; i < cat_p_.size(); ++i) cat_log_p_[i] = std::log(cat_p_[i]);
}

double ParzenEstimator::choice_probability(std::size_t i, std::size_t d, int c) const {
  return cat_p_[cat_offset_[d] + static_cast<std::size_t>(c) * n_ + i];
}

void ParzenEstimator::sample(Rng& rng, double* out) const {
  const double r = rng.uniform();
  std::size_t i = static_cast<std::size_t>(
      std::upper_bound(cumulative_.begin(), cumulative_.end(), r) - cumulative_.begin());
  i = std::min(i, n_ - 1);
  while (i > 0 && weight_[i] == 0) --i;  // never land on a zero-weight component
  for (std::size_t k = 0; k < dims_.size(); ++k) {
    if (dims_[k].kind == ParzenDim::Kind::Categorical) {
      const int choices = dims_[k].choices;
      double left = rng.uniform();
      int c = 0;
      for (; c < choices - 1; ++c) {
        left -= choice_probability(i, k, c);
        if (left < 0) break;
      }
      out[k] = c;
      continue;
    }
    const double m = mu(i, k), s = sigma(i, k);
    // Rejection from the untruncated Gaussian: at least 1/3 of its mass lies in [0, 1]
    // (mu is in [0, 1] and sigma <= 1), so this rarely takes more than a few draws.
    double x = m;
    for (int attempt = 0; attempt < 100; ++attempt) {
      const double y = m + s * rng.normal();
      if (y >= 0.0 && y <= 1.0) {
        x = y;
        break;
      }
    }
    out[k] = x;
  }
}

void ParzenEstimator::log_pdf(const double* points, std::size_t m, const double* cell_lo,
                              const double* cell_hi, double* out) const {
  const std::size_t d = dims_.size();
  std::vector<double> terms(n_);
  for (std::size_t p = 0; p < m; ++p) {
    const double* x = points + p * d;
    std::copy(constant_.begin(), constant_.end(), terms.begin());
    for (std::size_t k = 0; k < d; ++k) {
      switch (dims_[k].kind) {
        case ParzenDim::Kind::Continuous: {
          const double* mu = &mu_[k * n_];
          const double* inv = &inv_sigma_[k * n_];
          const double xk = x[k];
          for (std::size_t i = 0; i < n_; ++i) {
            const double z = (xk - mu[i]) * inv[i];
            terms[i] -= 0.5 * z * z;
          }
          break;
        }
        case ParzenDim::Kind::Discrete: {
          const double* mu = &mu_[k * n_];
          const double* inv = &inv_sigma_[k * n_];
          const double lo = cell_lo[p * d + k], hi = cell_hi[p * d + k];
          for (std::size_t i = 0; i < n_; ++i)
            terms[i] += log_normal_mass((lo - mu[i]) * inv[i], (hi - mu[i]) * inv[i]);
          break;
        }
        case ParzenDim::Kind::Categorical: {
          const int c = std::clamp(static_cast<int>(std::lround(x[k])), 0, dims_[k].choices - 1);
          const double* lp = &cat_log_p_[cat_offset_[k] + static_cast<std::size_t>(c) * n_];
          for (std::size_t i = 0; i < n_; ++i) terms[i] += lp[i];
          break;
        }
      }
    }
    const double top = *std::max_element(terms.begin(), terms.end());
    if (!std::isfinite(top)) {
      out[p] = top;
      continue;
    }
    // A component below e^-40 times the largest adds less than 5e-18 of it: skipped,
    // which also keeps exp() off its slow underflow path.
    double sum = 0;
    const double floor = top - 40.0;
    for (std::size_t i = 0; i < n_; ++i)
      if (terms[i] > floor) sum += std::exp(terms[i] - top);
    out[p] = top + std::log(sum);
  }
}

double ParzenEstimator::log_pdf(const double* point, const double* cell_lo,
                                const double* cell_hi) const {
  double out;
  log_pdf(point, 1, cell_lo, cell_hi, &out);
  return out;
}

}  // namespace caviar::detail
