// Scrambled Sobol quasi-random points, random access, for the quasi-Monte Carlo sampler.
//
// Construction (all derived at run time; no table is copied from anywhere):
//
// * Dimension 0 is the van der Corput sequence in base 2 (identity generator matrix).
// * Dimension d >= 1 uses the d-th primitive polynomial over GF(2), counting in
//   increasing degree and, within a degree, in increasing value of the coefficient
//   bits (x+1, x^2+x+1, x^3+x+1, x^3+x^2+1, x^4+x+1, ...). Primitivity is tested
//   directly: p(0) = 1 and x has multiplicative order exactly 2^s - 1 modulo p
//   (x^(2^s-1) = 1 and x^((2^s-1)/q) != 1 for every prime q dividing 2^s - 1).
//   Degrees 1..14 give 1866 polynomials, so max_dims() = 1867.
// * Direction numbers follow Sobol's recurrence (in the Bratley-Fox form) from the
//   initial values m_1..m_s (odd, m_i < 2^i), kept as 64-bit fixed-point fractions,
//   so indices up to 2^64 - 1 keep the net structure.
// * Initial values m_i, fixed and deterministic (same on every platform):
//   - a degree-1 polynomial has only m_1 = 1 (dimension 1, the classic second
//     dimension whose matrix is Pascal's triangle mod 2);
//   - dimensions 2..31 are chosen by a greedy search in the spirit of Joe & Kuo
//     (2008): each new dimension takes, among the candidate m vectors (all of them
//     when there are at most 64, i.e. degree <= 4, else 64 drawn from a fixed
//     splitmix64 stream), the one with the least summed badness against every
//     earlier dimension, where the badness of a pair is, for the first 2^m points,
//     m = 1..12, its 2-D t-value plus 16 x the rank lost on the square grid
//     2^(m/2) x 2^(m/2) (the empty cells of a pair plot); ties keep the first;
//   - dimensions 32 and up take m_i from splitmix64 seeded by the dimension number.
//   The table is built once per process, on first use, up to the dimensions asked
//   for (about 40 ms for 20 dimensions, about 0.1 s for all of them).
// * Scrambling (seeded by std::mt19937_64): per dimension a random linear matrix
//   scramble (Matousek / Owen-style left multiplication by a random 64x64 lower
//   triangular binary matrix with unit diagonal) followed by a random 64-bit digital
//   shift. Both keep every (0,m,1)-net property of each dimension and every
//   elementary-interval count of every projection, while moving the origin point,
//   so the first point (index 0) need not be skipped: it is uniformly random.
//   Since scrambling is linear it is folded into the direction numbers at
//   construction; point(n) is then XOR over the set bits of gray(n): O(64 * dims).
//   Points come in Gray-code order (Antonov-Saleev), so every aligned block of 2^k
//   indices is a (t,k,s)-net like the first one.
//
// Limits: 64-bit fixed point, indices 0..2^64-1; doubles keep the top 53 bits.
// These are not the Joe-Kuo numbers and the search is greedy and small, so 2-D
// projections are better than untuned choices but not optimal: with 1024 points,
// 71 of the 190 pairs among the first 20 dimensions leave half of a 32x32 grid empty
// (a rank-deficient pair always does; m_i = 1 everywhere gives 102, untuned random
// m_i 85); dimensions 0 and 1 are a (0,2)-sequence. Dimensions past 31 are untuned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace caviar::detail {

// Scrambled Sobol points in [0,1)^dims. Random access: point(n) is the n-th point.
// Thread-safe for concurrent const calls.
class SobolSequence {
 public:
  // Throws std::invalid_argument if dims == 0 or dims > max_dims().
  SobolSequence(std::size_t dims, std::uint64_t seed);

  // The plain (unscrambled) Sobol sequence; its point(0) is the origin.
  static SobolSequence unscrambled(std::size_t dims);

  static std::size_t max_dims();
  std::size_t dims() const { return dims_; }

  // Values in [0,1), never exactly 1.
  std::vector<double> point(std::uint64_t index) const;
  // The same, written to out[0..dims()).
  void point(std::uint64_t index, double* out) const;
  // The 64-bit fixed-point coordinates: coordinate = bits / 2^64.
  std::vector<std::uint64_t> point_bits(std::uint64_t index) const;

  // Provenance, for tests and documentation. Dimension 0 is van der Corput and has
  // polynomial 0; otherwise bit k of the result is the coefficient of x^k.
  static std::uint32_t primitive_polynomial(std::size_t dim);
  // m_1..m_s of a dimension (empty for dimension 0).
  static std::vector<std::uint64_t> initial_direction_numbers(std::size_t dim);

 private:
  SobolSequence(std::size_t dims, std::uint64_t seed, bool scramble);

  std::size_t dims_;
  // directions_[bit * dims_ + d]: scrambled direction number of bit `bit` of gray(n).
  std::vector<std::uint64_t> directions_;
  std::vector<std::uint64_t> shift_;
};

}  // namespace caviar::detail
