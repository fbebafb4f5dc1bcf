#include "algorithms/samplers/qmc/sobol_sequence.h"

#include <algorithm>
#include <array>
#include <bit>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>

namespace caviar::detail {

namespace {

constexpr int kBits = 64;                  // fixed-point digits per coordinate
constexpr unsigned kMaxDegree = 14;        // primitive polynomials of degree 1..14
constexpr std::size_t kSearchedDims = 32;  // dimensions whose m_i are searched
constexpr int kSearchBits = 12;            // 2-D quality judged on 2^1..2^12 points
constexpr std::size_t kCandidates = 64;    // candidate m vectors tried per dimension
constexpr int kSquareWeight = 16;          // extra weight of the 2^(m/2) x 2^(m/2) grids

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// ---- primitive polynomials over GF(2) ----------------------------------------

// a * b mod p in GF(2)[x]; p has degree `degree`, a and b are reduced.
std::uint32_t mulmod(std::uint32_t a, std::uint32_t b, std::uint32_t p, unsigned degree) {
  std::uint32_t r = 0;
  while (b) {
    if (b & 1u) r ^= a;
    b >>= 1;
    a <<= 1;
    if (a >> degree & 1u) a ^= p;
  }
  return r;
}

std::uint32_t powmod_x(std::uint64_t e, std::uint32_t p, unsigned degree) {
  std::uint32_t base = degree == 1 ? (2u ^ p) : 2u;  // x reduced mod p
  std::uint32_t r = 1;
  while (e) {
    if (e & 1u) r = mulmod(r, base, p, degree);
    base = mulmod(base, base, p, degree);
    e >>= 1;
  }
  return r;
}

std::vector<std::uint64_t> prime_factors(std::uint64_t n) {
  std::vector<std::uint64_t> f;
  for (std::uint64_t q = 2; q * q <= n; ++q) {
    if (n % q) continue;
    f.push_back(q);
    while (n % q == 0) n /= q;
  }
  if (n > 1) f.push_back(n);
  return f;
}

// p (bit k = coefficient of x^k, degree `degree`) is primitive iff p(0) = 1 and x has
// order exactly 2^degree - 1 in GF(2)[x]/(p); a reducible p has fewer units than that.
bool is_primitive(std::uint32_t p, unsigned degree) {
  if (!(p & 1u)) return false;
  const std::uint64_t order = (std::uint64_t{1} << degree) - 1;
  if (powmod_x(order, p, degree) != 1) return false;
  for (std::uint64_t q : prime_factors(order))
    if (q != order && powmod_x(order / q, p, degree) == 1) return false;
  return true;
}

std::uint64_t euler_phi(std::uint64_t n) {
  std::uint64_t r = n;
  for (std::uint64_t q : prime_factors(n)) r = r / q * (q - 1);
  return r;
}

// ---- direction numbers --------------------------------------------------------

using Directions = std::array<std::uint64_t, kBits>;  // v_1..v_64 as 0.b1b2...b64
using Rows = std::array<std::uint32_t, kSearchBits>;  // generator-matrix rows, search only

// Sobol's recurrence on fixed-point direction numbers v_i = m_i / 2^i:
// v_i = v_{i-s} XOR v_{i-s} / 2^s XOR (XOR over k = 1..s-1 of a_k v_{i-k}), where
// p = x^s + a_1 x^(s-1) + ... + a_(s-1) x + 1.
Directions directions_from(std::uint32_t poly, const std::vector<std::uint64_t>& m) {
  Directions v{};
  const unsigned s = static_cast<unsigned>(m.size());
  for (unsigned i = 1; i <= s && i <= kBits; ++i) v[i - 1] = m[i - 1] << (kBits - i);
  for (unsigned i = s + 1; i <= kBits; ++i) {
    std::uint64_t x = v[i - s - 1] ^ (v[i - s - 1] >> s);
    for (unsigned k = 1; k < s; ++k)
      if (poly >> (s - k) & 1u) x ^= v[i - k - 1];
    v[i - 1] = x;
  }
  return v;
}

Directions van_der_corput() {
  Directions v{};
  for (int i = 1; i <= kBits; ++i) v[i - 1] = std::uint64_t{1} << (kBits - i);
  return v;
}

// Row r (digit r+1) of the first kSearchBits columns: bit i-1 is digit r+1 of v_i.
Rows rows_of(const Directions& v) {
  Rows rows{};
  for (int r = 0; r < kSearchBits; ++r)
    for (int i = 0; i < kSearchBits; ++i)
      rows[r] |= static_cast<std::uint32_t>(v[i] >> (kBits - 1 - r) & 1u) << i;
  return rows;
}

// Badness of the 2-D projection of dimensions a and b over the first 2^m points,
// m = 1..kSearchBits: the sum of the t-values plus kSquareWeight times the rank lost
// on the square grid 2^(m/2) x 2^(m/2) for even m. Stops once it reaches `limit`.
//
// Restricted to m columns, row r of a generator matrix is a bit vector whose lowest
// set bit is r (the matrix is unit upper triangular), so the first d1 rows of `a`
// already form a basis keyed by lowest set bit; rows of `b` are reduced against it.
long pair_badness(const Rows& a, const Rows& b, long limit) {
  long bad = 0;
  for (int m = 1; m <= kSearchBits && bad < limit; ++m) {
    const std::uint32_t mask = (std::uint32_t{1} << m) - 1;
    // quality: the largest d such that for every d1 + d2 = d the first d1 rows of a
    // and the first d2 rows of b are independent (t-value = m - quality). d1 = 0 and
    // d1 = m always pass.
    int quality = m;
    int square_rank = m;
    for (int d1 = 1; d1 < m; ++d1) {
      const bool square = 2 * d1 == m;
      const int tries = square ? d1 : quality - d1;
      if (tries <= 0) continue;
      std::array<std::uint32_t, kSearchBits> pivot{};
      for (int r = 0; r < d1; ++r) pivot[r] = a[r] & mask;
      int prefix = 0, independent = 0;
      bool unbroken = true;
      for (int r = 0; r < tries; ++r) {
        std::uint32_t x = b[r] & mask;
        while (x && pivot[std::countr_zero(x)]) x ^= pivot[std::countr_zero(x)];
        if (x) {
          pivot[std::countr_zero(x)] = x;
          ++independent;
          prefix += unbroken;
        } else {
          unbroken = false;
          if (!square) break;
        }
      }
      quality = std::min(quality, d1 + prefix);
      if (square) square_rank = d1 + independent;
    }
    bad += (m - quality) + kSquareWeight * (m - square_rank);
  }
  return bad;
}

// Every m vector (m_i odd, m_i < 2^i) of a degree-s polynomial when there are at
// most kCandidates of them, else kCandidates drawn from a fixed stream.
std::vector<std::vector<std::uint64_t>> candidates(unsigned s, std::size_t dim) {
  std::vector<std::vector<std::uint64_t>> out;
  const unsigned free_bits = s * (s - 1) / 2;  // m_i has i-1 free bits
  if (free_bits < 63 && (std::uint64_t{1} << free_bits) <= kCandidates) {
    for (std::uint64_t c = 0; c < (std::uint64_t{1} << free_bits); ++c) {
      std::vector<std::uint64_t> m(s);
      std::uint64_t bits = c;
      for (unsigned i = 1; i <= s; ++i) {
        m[i - 1] = ((bits & ((std::uint64_t{1} << (i - 1)) - 1)) << 1) | 1u;
        bits >>= i - 1;
      }
      out.push_back(std::move(m));
    }
    return out;
  }
  std::uint64_t state = 0x536F626F6C000000ull ^ dim;  // "Sobol"
  for (std::size_t c = 0; c < kCandidates; ++c) {
    std::vector<std::uint64_t> m(s);
    for (unsigned i = 1; i <= s; ++i) {
      const std::uint64_t mask = i == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << i) - 1;
      m[i - 1] = (splitmix64(state) & mask) | 1u;
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<std::uint64_t> random_initial(unsigned s, std::size_t dim) {
  std::uint64_t state = 0x536F626F6C524E47ull ^ (std::uint64_t{dim} << 20);
  std::vector<std::uint64_t> m(s);
  for (unsigned i = 1; i <= s; ++i) {
    const std::uint64_t mask = i == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << i) - 1;
    m[i - 1] = (splitmix64(state) & mask) | 1u;
  }
  return m;
}

// The process-wide table, grown on demand (the search for dimension d only looks at
// dimensions below d, so growing in steps gives the same table as building at once).
struct Table {
  std::mutex mu;
  unsigned degree_done = 0;
  std::vector<std::uint32_t> polys{0};  // polys[d]; dimension 0 has none
  std::vector<std::vector<std::uint64_t>> initial{{}};
  std::vector<Directions> v{van_der_corput()};
  std::vector<Rows> rows{rows_of(van_der_corput())};

  void grow(std::size_t dims) {
    while (polys.size() < dims && degree_done < kMaxDegree) {
      const unsigned s = ++degree_done;
      for (std::uint32_t p = (1u << s) | 1u; p < (2u << s); p += 2)
        if (is_primitive(p, s)) polys.push_back(p);
    }
    while (v.size() < dims) {
      const std::size_t d = v.size();
      const std::uint32_t poly = polys[d];
      const unsigned s = static_cast<unsigned>(std::bit_width(poly) - 1);
      std::vector<std::uint64_t> best;
      if (d < kSearchedDims) {
        long best_bad = -1;
        for (auto& m : candidates(s, d)) {
          const Rows r = rows_of(directions_from(poly, m));
          long bad = 0;
          for (std::size_t k = 0; k < d; ++k) {
            const long limit = best_bad < 0 ? (1L << 60) : best_bad - bad;
            bad += pair_badness(rows[k], r, limit);
            if (best_bad >= 0 && bad >= best_bad) break;
          }
          if (best_bad < 0 || bad < best_bad) best_bad = bad, best = m;
        }
      } else {
        best = random_initial(s, d);
      }
      v.push_back(directions_from(poly, best));
      rows.push_back(rows_of(v.back()));
      initial.push_back(std::move(best));
    }
  }
};

Table& table(std::size_t dims) {
  static Table t;
  std::lock_guard<std::mutex> lock(t.mu);
  t.grow(dims);
  return t;
}

// Column c (1-based, MSB first) of a random lower-triangular matrix with unit diagonal.
std::uint64_t random_column(std::mt19937_64& rng, int c) {
  const std::uint64_t diagonal = std::uint64_t{1} << (kBits - c);
  return diagonal | (rng() & (diagonal - 1));
}

}  // namespace

std::size_t SobolSequence::max_dims() {
  static const std::size_t n = [] {
    std::size_t count = 1;  // van der Corput
    for (unsigned s = 1; s <= kMaxDegree; ++s)
      count += euler_phi((std::uint64_t{1} << s) - 1) / s;
    return count;
  }();
  return n;
}

SobolSequence::SobolSequence(std::size_t dims, std::uint64_t seed)
    : SobolSequence(dims, seed, true) {}

SobolSequence SobolSequence::unscrambled(std::size_t dims) {
  return SobolSequence(dims, 0, false);
}

SobolSequence::SobolSequence(std::size_t dims, std::uint64_t seed, bool scramble)
    : dims_(dims) {
  if (dims == 0 || dims > max_dims())
    throw std::invalid_argument("SobolSequence: dims must be in 1.." +
                                std::to_string(max_dims()) + ", got " + std::to_string(dims));
  directions_.assign(kBits * dims, 0);
  shift_.assign(dims, 0);
  std::vector<Directions> v;
  {
    Table& t = table(dims);
    std::lock_guard<std::mutex> lock(t.mu);
    v.assign(t.v.begin(), t.v.begin() + static_cast<std::ptrdiff_t>(dims));
  }
  std::mt19937_64 rng(seed);
  for (std::size_t d = 0; d < dims; ++d) {
    Directions scrambled = v[d];
    if (scramble) {
      // L * v = XOR of the columns of L picked by the digits of v.
      Directions column{};
      for (int c = 1; c <= kBits; ++c) column[c - 1] = random_column(rng, c);
      for (auto& x : scrambled) {
        std::uint64_t y = 0;
        for (std::uint64_t bits = x; bits; bits &= bits - 1)
          y ^= column[kBits - 1 - std::countr_zero(bits)];
        x = y;
      }
      shift_[d] = rng();
    }
    for (int b = 0; b < kBits; ++b) directions_[b * dims + d] = scrambled[b];
  }
}

void SobolSequence::point(std::uint64_t index, double* out) const {
  const std::size_t n = dims_;
  thread_local std::vector<std::uint64_t> acc;
  acc.assign(shift_.begin(), shift_.end());
  for (std::uint64_t g = index ^ (index >> 1); g; g &= g - 1) {
    const std::uint64_t* row = directions_.data() + std::countr_zero(g) * n;
    for (std::size_t d = 0; d < n; ++d) acc[d] ^= row[d];
  }
  for (std::size_t d = 0; d < n; ++d) out[d] = static_cast<double>(acc[d] >> 11) * 0x1p-53;
}

std::vector<double> SobolSequence::point(std::uint64_t index) const {
  std::vector<double> out(dims_);
  point(index, out.data());
  return out;
}

std::vector<std::uint64_t> SobolSequence::point_bits(std::uint64_t index) const {
  std::vector<std::uint64_t> acc(shift_);
  for (std::uint64_t g = index ^ (index >> 1); g; g &= g - 1) {
    const std::uint64_t* row = directions_.data() + std::countr_zero(g) * dims_;
    for (std::size_t d = 0; d < dims_; ++d) acc[d] ^= row[d];
  }
  return acc;
}

std::uint32_t SobolSequence::primitive_polynomial(std::size_t dim) {
  if (dim >= max_dims()) throw std::invalid_argument("SobolSequence: dimension out of range");
  Table& t = table(dim + 1);
  std::lock_guard<std::mutex> lock(t.mu);
  return t.polys[dim];
}

std::vector<std::uint64_t> SobolSequence::initial_direction_numbers(std::size_t dim) {
  if (dim >= max_dims()) throw std::invalid_argument("SobolSequence: dimension out of range");
  Table& t = table(dim + 1);
  std::lock_guard<std::mutex> lock(t.mu);
  return t.initial[dim];
}

}  // namespace caviar::detail
