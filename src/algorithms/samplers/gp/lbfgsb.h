// A small bound-constrained L-BFGS minimiser (projected L-BFGS), used by the GP sampler to
// fit kernel hyperparameters and to refine the acquisition's maximiser in the unit cube.
//
// Limited-memory BFGS (Nocedal 1980; Liu & Nocedal 1989) with the box handled by
// projection, in the spirit of L-BFGS-B (Byrd, Lu, Nocedal & Zhu 1995) but simpler:
// variables that sit on a bound with the gradient pushing outward are frozen for the
// step, the two-loop recursion gives the direction on the free ones, and a backtracking
// (Armijo) line search runs along the projected path clamp(x + t d). Good enough for the
// smooth, low-dimensional problems here (a few to a few dozen variables); deterministic.
// A function value that is not finite counts as "worse", so the search backs off.
#pragma once

#include <functional>

#include <Eigen/Core>

namespace caviar::detail {

struct LbfgsbOptions {
  int max_iterations = 100;
  int memory = 8;              // (s, y) pairs kept
  double gradient_tol = 1e-6;  // stop when the projected gradient's max-norm is below this
  double value_tol = 1e-9;     // ... or when an iteration improves f by less than this (relative)
};

struct LbfgsbResult {
  double value = 0;  // f at the returned x
  int iterations = 0;
  int evaluations = 0;
};

// f(x, gradient) returns f(x) and writes its gradient (same size as x).
using Objective = std::function<double(const Eigen::VectorXd& x, Eigen::VectorXd& gradient)>;

// Minimises f over lower <= x <= upper starting from x (clamped first); x holds the best
// point found on return.
LbfgsbResult minimize_lbfgsb(const Objective& f, Eigen::VectorXd& x, const Eigen::VectorXd& lower,
                             const Eigen::VectorXd& upper, const LbfgsbOptions& options = {});

}  // namespace caviar::detail
