// The public benchmark suite (../shared/bench/suite.md) in C++: ten minimisation problems
// with known optima, each a search space and a function of a trial's params. Used by the
// quality benchmark (bench_quality) and by the sampler tests. Header-only.
//
// Regret = best value found - fstar.
#pragma once

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "caviar/space.h"

namespace caviar::suite {

struct Problem {
  std::string name;
  SearchSpace space;
  std::function<double(const Params&)> f;  // params in internal form (see space.h)
  double fstar;
};

namespace detail {

inline constexpr double kPi = 3.141592653589793;

inline SearchSpace box(int d, double low, double high) {
  nlohmann::json list = nlohmann::json::array();
  for (int i = 0; i < d; ++i)
    list.push_back({{"name", "x" + std::to_string(i)}, {"type", "float"}, {"low", low}, {"high", high}});
  return SearchSpace::from_config_json(list);
}

inline std::vector<double> xs(const Params& p, int d) {
  std::vector<double> x(d);
  for (int i = 0; i < d; ++i) x[i] = p.at("x" + std::to_string(i));
  return x;
}

inline double hartmann(const std::vector<double>& x, const double* a, const double* p, int d) {
  const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  double f = 0;
  for (int i = 0; i < 4; ++i) {
    double s = 0;
    for (int j = 0; j < d; ++j) {
      double dx = x[j] - p[i * d + j] * 1e-4;
      s += a[i * d + j] * dx * dx;
    }
    f -= alpha[i] * std::exp(-s);
  }
  return f;
}

}  // namespace detail

inline double branin(double x0, double x1) {
  using detail::kPi;
  const double b = 5.1 / (4 * kPi * kPi), c = 5 / kPi, t = 1 / (8 * kPi);
  double q = x1 - b * x0 * x0 + c * x0 - 6;
  return q * q + 10 * (1 - t) * std::cos(x0) + 10;
}

inline double hartmann3(const std::vector<double>& x) {
  static const double a[] = {3.0, 10, 30, 0.1, 10, 35, 3.0, 10, 30, 0.1, 10, 35};
  static const double p[] = {3689, 1170, 2673, 4699, 4387, 7470,
                             1091, 8732, 5547, 381,  5743, 8828};
  return detail::hartmann(x, a, p, 3);
}

inline double hartmann6(const std::vector<double>& x) {
  static const double a[] = {10, 3,   17,   3.5, 1.7, 8,  0.05, 10, 17,   0.1, 8,   14,
                             3,  3.5, 1.7,  10,  17,  8,  17,   8,  0.05, 10,  0.1, 14};
  static const double p[] = {1312, 1696, 5569, 124,  8283, 5886, 2329, 4135,
                             8307, 3736, 1004, 9991, 2348, 1451, 3522, 2883,
                             3047, 6650, 4047, 8828, 8732, 5743, 1091, 381};
  return detail::hartmann(x, a, p, 6);
}

inline std::vector<Problem> problems() {
  using detail::box;
  using detail::kPi;
  using detail::xs;
  std::vector<Problem> out;
  {
    nlohmann::json l = {{{"name", "x0"}, {"type", "float"}, {"low", -5}, {"high", 10}},
                        {{"name", "x1"}, {"type", "float"}, {"low", 0}, {"high", 15}}};
    out.push_back({"branin2", SearchSpace::from_config_json(l),
                   [](const Params& p) { return branin(p.at("x0"), p.at("x1")); },
                   5 / (4 * kPi)});
  }
  out.push_back({"hartmann3", box(3, 0, 1), [](const Params& p) { return hartmann3(xs(p, 3)); },
                 -3.862779787332663});
  out.push_back({"hartmann6", box(6, 0, 1), [](const Params& p) { return hartmann6(xs(p, 6)); },
                 -3.32236801141551});
  out.push_back({"rosenbrock4", box(4, -5, 10),
                 [](const Params& p) {
                   auto x = xs(p, 4);
                   double f = 0;
                   for (int i = 0; i < 3; ++i)
                     f += 100 * std::pow(x[i + 1] - x[i] * x[i], 2) + std::pow(x[i] - 1, 2);
                   return f;
                 },
                 0.0});
  out.push_back({"ackley5", box(5, -32.768, 32.768),
                 [](const Params& p) {
                   auto x = xs(p, 5);
                   double s2 = 0, sc = 0;
                   for (double v : x) s2 += v * v, sc += std::cos(2 * kPi * v);
                   return -20 * std::exp(-0.2 * std::sqrt(s2 / 5)) - std::exp(sc / 5) + 20 +
                          2.718281828459045;
                 },
                 0.0});
  out.push_back({"levy6", box(6, -10, 10),
                 [](const Params& p) {
                   auto x = xs(p, 6);
                   std::vector<double> w(6);
                   for (int i = 0; i < 6; ++i) w[i] = 1 + (x[i] - 1) / 4;
                   double f = std::pow(std::sin(kPi * w[0]), 2);
                   for (int i = 0; i < 5; ++i)
                     f += std::pow(w[i] - 1, 2) * (1 + 10 * std::pow(std::sin(kPi * w[i] + 1), 2));
                   f += std::pow(w[5] - 1, 2) * (1 + std::pow(std::sin(2 * kPi * w[5]), 2));
                   return f;
                 },
                 0.0});
  out.push_back({"styblinski8", box(8, -5, 5),
                 [](const Params& p) {
                   auto x = xs(p, 8);
                   double f = 0;
                   for (double v : x) f += v * v * v * v - 16 * v * v + 5 * v;
                   return f / 2;
                 },
                 8 * -39.166165703771412});
  out.push_back({"rastrigin4", box(4, -5.12, 5.12),
                 [](const Params& p) {
                   auto x = xs(p, 4);
                   double f = 40;
                   for (double v : x) f += v * v - 10 * std::cos(2 * kPi * v);
                   return f;
                 },
                 0.0});
  {
    nlohmann::json l = {
        {{"name", "lr"}, {"type", "float"}, {"low", 1e-5}, {"high", 1.0}, {"scale", "log"}},
        {{"name", "wd"}, {"type", "float"}, {"low", 1e-6}, {"high", 1e-1}, {"scale", "log"}}};
    out.push_back({"hp_log2", SearchSpace::from_config_json(l),
                   [](const Params& p) {
                     double u = std::log10(p.at("lr")) + 2.5, v = std::log10(p.at("wd")) + 4;
                     return u * u + 0.5 * v * v + 0.5 * u * v;
                   },
                   0.0});
  }
  {
    nlohmann::json l = {
        {{"name", "layers"}, {"type", "int"}, {"low", 1}, {"high", 6}},
        {{"name", "optimizer"}, {"type", "choice"}, {"values", {"sgd", "momentum", "adam"}}},
        {{"name", "one_minus_beta"}, {"type", "float"}, {"low", 1e-3}, {"high", 0.2},
         {"scale", "log"}}};
    out.push_back({"hp_mixed3", SearchSpace::from_config_json(l),
                   [](const Params& p) {
                     const double c[] = {0.6, 0.25, 0.0}, best[] = {5, 4, 3}, w[] = {0, 1, 1},
                                  t[] = {0, -1, -2};
                     int o = static_cast<int>(p.at("optimizer"));  // choice index
                     double s = std::log10(p.at("one_minus_beta"));
                     return c[o] + 0.1 * std::pow(p.at("layers") - best[o], 2) +
                            w[o] * std::pow(s - t[o], 2);
                   },
                   0.0});
  }
  return out;
}

// The problem with its optimum moved by `s` in the unit cube of its space (each parameter on
// its scale): f after u -> (u - s) mod 1. The cube is wrapped round, so every value is still
// taken and f* is kept. For re-tuning (bench_drift, the warm start's tests).
inline Problem moved(const Problem& p, const std::vector<double>& s) {
  Problem out = p;
  out.f = [f = p.f, space = p.space, s](const Params& params) {
    Params x = params;
    for (std::size_t i = 0; i < space.size(); ++i) {
      const Parameter& q = space.params()[i];
      double u = q.to_unit(params.at(q.name)) - s[i];
      x[q.name] = q.from_unit(u - std::floor(u));
    }
    return f(x);
  };
  return out;
}

inline Problem problem(const std::string& name) {
  for (auto& p : problems())
    if (p.name == name) return p;
  throw std::invalid_argument("no problem named " + name);
}

}  // namespace caviar::suite
