#include "algorithms/samplers/qmc/sobol_sequence.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

using caviar::detail::SobolSequence;

namespace {

// True when points [first, first + 2^k) put exactly one value of dimension `dim` in
// each interval [j/2^k, (j+1)/2^k).
bool stratified(const SobolSequence& s, std::uint64_t first, int k, std::size_t dim) {
  std::vector<int> count(std::size_t{1} << k, 0);
  for (std::uint64_t n = first; n < first + (std::uint64_t{1} << k); ++n) {
    const double x = s.point(n)[dim];
    ++count[static_cast<std::size_t>(std::floor(x * static_cast<double>(count.size())))];
  }
  return std::all_of(count.begin(), count.end(), [](int c) { return c == 1; });
}

// Warnock's formula for the squared L2-star discrepancy.
double l2_star_squared(const std::vector<std::vector<double>>& pts) {
  const std::size_t n = pts.size(), d = pts[0].size();
  double a = 0, b = 0;
  for (const auto& p : pts) {
    double prod = 1;
    for (double x : p) prod *= (1 - x * x) / 2;
    a += prod;
  }
  for (const auto& p : pts)
    for (const auto& q : pts) {
      double prod = 1;
      for (std::size_t k = 0; k < d; ++k) prod *= 1 - std::max(p[k], q[k]);
      b += prod;
    }
  return std::pow(3.0, -static_cast<double>(d)) - 2 * a / n + b / (double(n) * n);
}

// Hickernell's centered L2 discrepancy, squared.
double centered_squared(const std::vector<std::vector<double>>& pts) {
  const std::size_t n = pts.size(), d = pts[0].size();
  double a = 0, b = 0;
  for (const auto& p : pts) {
    double prod = 1;
    for (double x : p) {
      const double z = std::abs(x - 0.5);
      prod *= 1 + z / 2 - z * z / 2;
    }
    a += prod;
  }
  for (const auto& p : pts)
    for (const auto& q : pts) {
      double prod = 1;
      for (std::size_t k = 0; k < d; ++k)
        prod *= 1 + std::abs(p[k] - 0.5) / 2 + std::abs(q[k] - 0.5) / 2 - std::abs(p[k] - q[k]) / 2;
      b += prod;
    }
  return std::pow(13.0 / 12.0, static_cast<double>(d)) - 2 * a / n + b / (double(n) * n);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::vector<std::vector<double>> sobol_points(const SobolSequence& s, std::size_t n) {
  std::vector<std::vector<double>> pts;
  for (std::uint64_t i = 0; i < n; ++i) pts.push_back(s.point(i));
  return pts;
}

// Empty cells of a g x g grid over dimensions (a, b) of the given points.
int empty_cells(const std::vector<std::vector<double>>& pts, std::size_t a, std::size_t b, int g) {
  std::vector<char> hit(static_cast<std::size_t>(g) * g, 0);
  for (const auto& p : pts) hit[static_cast<int>(p[a] * g) * g + static_cast<int>(p[b] * g)] = 1;
  return static_cast<int>(std::count(hit.begin(), hit.end(), 0));
}

}  // namespace

TEST(SobolSequence, PrimitivePolynomialsInIncreasingDegree) {
  EXPECT_EQ(SobolSequence::primitive_polynomial(0), 0u);  // van der Corput
  const std::uint32_t first[] = {0x3, 0x7, 0xB, 0xD, 0x13, 0x19, 0x25, 0x29};
  for (std::size_t i = 0; i < 8; ++i)
    EXPECT_EQ(SobolSequence::primitive_polynomial(i + 1), first[i]) << "dimension " << i + 1;
  // phi(2^s - 1) / s primitive polynomials of each degree s.
  const int per_degree[] = {0, 1, 1, 2, 2, 6, 6, 18, 16, 48, 60, 176};
  std::vector<int> seen(12, 0);
  for (std::size_t d = 1; d <= 336; ++d) {
    const std::uint32_t p = SobolSequence::primitive_polynomial(d);
    const int degree = std::bit_width(p) - 1;
    ASSERT_LT(degree, 12);
    ++seen[degree];
    EXPECT_EQ(p & 1u, 1u);
    if (d > 1) {
      EXPECT_GT(p, SobolSequence::primitive_polynomial(d - 1));
    }
    const auto m = SobolSequence::initial_direction_numbers(d);
    ASSERT_EQ(static_cast<int>(m.size()), degree);
    for (std::size_t i = 1; i <= m.size(); ++i) {
      EXPECT_EQ(m[i - 1] & 1u, 1u) << "m_i must be odd";
      EXPECT_LT(m[i - 1], std::uint64_t{1} << i) << "m_i must be below 2^i";
    }
  }
  for (int s = 1; s < 12; ++s) EXPECT_EQ(seen[s], per_degree[s]) << "degree " << s;
}

TEST(SobolSequence, UnscrambledStartsAtOriginAndIsAnetInEachDimension) {
  const auto s = SobolSequence::unscrambled(12);
  for (double x : s.point(0)) EXPECT_EQ(x, 0.0);
  EXPECT_EQ(s.point(1)[0], 0.5);
  for (std::size_t dim = 0; dim < 12; ++dim)
    for (int k = 1; k <= 8; ++k) {
      EXPECT_TRUE(stratified(s, 0, k, dim)) << "dimension " << dim << ", 2^" << k << " points";
      // Every aligned block of 2^k points is a net too, far out in the sequence as well.
      const std::uint64_t far = (std::uint64_t{0x9E3779B97F4A7C15} >> 3) << 8;
      EXPECT_TRUE(stratified(s, far, k, dim)) << "dimension " << dim << " far block, k=" << k;
    }
}

TEST(SobolSequence, ScrambledKeepsPerDimensionStratification) {
  for (std::uint64_t seed : {1u, 42u, 2024u}) {
    const SobolSequence s(20, seed);
    for (std::size_t dim = 0; dim < 20; ++dim)
      for (int k = 1; k <= 8; ++k) {
        EXPECT_TRUE(stratified(s, 0, k, dim)) << "seed " << seed << " dim " << dim << " k " << k;
        EXPECT_TRUE(stratified(s, std::uint64_t{3} << 40, k, dim)) << "far block, dim " << dim;
      }
    // The scrambled origin is not at the origin.
    const auto p0 = s.point(0);
    EXPECT_TRUE(std::any_of(p0.begin(), p0.end(), [](double x) { return x > 0.01; }));
  }
}

// Discrepancy of 256 points against the median of 10 uniform random sets (fixed
// seeds). In 5 dimensions both the L2-star (Warnock) and the centered (Hickernell)
// discrepancy are compared. In 20 dimensions only the centered one is: with 256
// points the L2-star discrepancy there is dominated by the 20-way box volumes near
// the origin, where no 256-point set can do much, and scrambled Sobol sets land on
// either side of the random median (measured: 1.3e-9..3.4e-9 over 10 seeds, against
// a random median of 2.1e-9), so asserting it would test luck, not the generator.
TEST(SobolSequence, LowerDiscrepancyThanUniformRandom) {
  for (std::size_t dims : {5u, 20u}) {
    std::vector<double> random_l2, random_cd;
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
      std::mt19937_64 rng(seed);
      std::uniform_real_distribution<double> u(0.0, 1.0);
      std::vector<std::vector<double>> pts(256, std::vector<double>(dims));
      for (auto& p : pts)
        for (auto& x : p) x = u(rng);
      random_l2.push_back(l2_star_squared(pts));
      random_cd.push_back(centered_squared(pts));
    }
    const double median_l2 = median(random_l2), median_cd = median(random_cd);
    for (std::uint64_t seed : {7u, 8u, 9u}) {
      const auto pts = sobol_points(SobolSequence(dims, seed), 256);
      const double cd = centered_squared(pts);
      EXPECT_LT(cd, median_cd) << dims << " dims, seed " << seed;
      EXPECT_LT(cd, 0.75 * *std::min_element(random_cd.begin(), random_cd.end()))
          << dims << " dims, seed " << seed << ": should beat every random set clearly";
      if (dims == 5) {
        const double l2 = l2_star_squared(pts);
        EXPECT_LT(l2, median_l2) << "seed " << seed;
        EXPECT_LT(l2, 0.5 * *std::min_element(random_l2.begin(), random_l2.end()))
            << "seed " << seed;
      }
    }
  }
}

TEST(SobolSequence, DeterministicPerSeedAndSeedSensitive) {
  const SobolSequence a(8, 123), b(8, 123), c(8, 124);
  int differing = 0;
  for (std::uint64_t n : {0ull, 1ull, 2ull, 17ull, 1000ull, 1ull << 33}) {
    EXPECT_EQ(a.point_bits(n), b.point_bits(n));
    EXPECT_EQ(a.point(n), b.point(n));
    const auto pa = a.point(n), pc = c.point(n);
    for (std::size_t d = 0; d < 8; ++d) differing += pa[d] != pc[d];
  }
  EXPECT_GT(differing, 40);  // of 48 coordinates; equal ones would be a coincidence
  // Even a single dimension differs by seed.
  EXPECT_NE(SobolSequence(1, 5).point(3), SobolSequence(1, 6).point(3));
}

TEST(SobolSequence, ValuesInUnitInterval) {
  for (std::uint64_t seed : {0u, 1u, 99u}) {
    const SobolSequence s(16, seed);
    double lo = 1, hi = 0;
    for (std::uint64_t n = 0; n < 4096; ++n)
      for (double x : s.point(n * 7919 + (n << 35))) {
        ASSERT_GE(x, 0.0);
        ASSERT_LT(x, 1.0);
        lo = std::min(lo, x), hi = std::max(hi, x);
      }
    EXPECT_LT(lo, 0.01);
    EXPECT_GT(hi, 0.99);
  }
  // The largest fixed-point value still maps below 1.
  const auto s = SobolSequence::unscrambled(1);
  for (std::uint64_t n : {~std::uint64_t{0}, ~std::uint64_t{0} - 1, std::uint64_t{1} << 63})
    EXPECT_LT(s.point(n)[0], 1.0);
}

TEST(SobolSequence, DimensionLimits) {
  EXPECT_GE(SobolSequence::max_dims(), 64u);
  EXPECT_THROW(SobolSequence(0, 1), std::invalid_argument);
  EXPECT_THROW(SobolSequence(SobolSequence::max_dims() + 1, 1), std::invalid_argument);
  const SobolSequence s(SobolSequence::max_dims(), 3);
  EXPECT_EQ(s.dims(), SobolSequence::max_dims());
  for (std::uint64_t n : {0ull, 1ull, 12345ull}) {
    const auto p = s.point(n);
    ASSERT_EQ(p.size(), SobolSequence::max_dims());
    for (double x : p) {
      ASSERT_GE(x, 0.0);
      ASSERT_LT(x, 1.0);
    }
  }
  // The last dimension is a real Sobol dimension too.
  const auto u = SobolSequence::unscrambled(SobolSequence::max_dims());
  for (int k = 1; k <= 8; ++k) EXPECT_TRUE(stratified(u, 0, k, SobolSequence::max_dims() - 1));
}

// 2-D projections. The first 2^m points of a pair of Sobol dimensions fall on a
// lattice: the top k digits of both coordinates are a linear map of the index bits,
// so a 2^k x 2^k grid (m = 2k) has either no empty cell or at least half its cells
// empty (2^m - 2^rank). No choice of direction numbers makes every pair full rank at
// every m, so this checks how many pairs fail and the mean empty fraction, against
// uniform random (about 37% empty) and the naive choice m_i = 1 (which, measured
// when calibrating, leaves 102 of 190 pairs deficient at 32x32 and 28% of cells
// empty on average; untuned random m_i leave 85 pairs and 23%). The direction
// numbers here leave 71 pairs and 19%.
TEST(SobolSequence, TwoDimensionalProjectionsOfTheFirstTwentyDimensions) {
  const std::size_t dims = 20;
  for (bool scrambled : {false, true}) {
    const SobolSequence s = scrambled ? SobolSequence(dims, 77) : SobolSequence::unscrambled(dims);
    for (int g : {8, 16, 32, 64}) {
      const auto pts = sobol_points(s, static_cast<std::size_t>(g) * g);
      int deficient = 0;
      double empty_fraction = 0;
      for (std::size_t a = 0; a < dims; ++a)
        for (std::size_t b = a + 1; b < dims; ++b) {
          const int empty = empty_cells(pts, a, b, g);
          EXPECT_TRUE(empty == 0 || empty >= g * g / 2) << "not a lattice: " << a << "," << b;
          if (a == 0 && b == 1) {
            EXPECT_EQ(empty, 0) << "dimensions 0 and 1 form a (0,2)-sequence";
          }
          deficient += empty > 0;
          empty_fraction += double(empty) / (g * g);
        }
      empty_fraction /= dims * (dims - 1) / 2;
      EXPECT_LT(empty_fraction, 0.30) << g << "x" << g << (scrambled ? " scrambled" : "");
      if (g == 32) {
        EXPECT_LE(deficient, 75) << "pairs with empty cells, 1024 points in 32x32";
        EXPECT_LT(empty_fraction, 0.20);
      }
    }
  }
}

TEST(SobolSequence, ConcurrentUseMatchesSerial) {
  const SobolSequence s(30, 11);
  std::vector<std::vector<double>> serial;
  for (std::uint64_t n = 0; n < 2000; ++n) serial.push_back(s.point(n));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      // Concurrent construction (the shared direction table may grow) and use.
      const SobolSequence local(30 + 100 * t, 11);
      for (std::uint64_t n = t; n < 2000; n += 4) {
        mismatches[t] += s.point(n) != serial[n];
        const auto p = local.point(n);
        mismatches[t] += p.size() != std::size_t(30 + 100 * t);
      }
    });
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}
