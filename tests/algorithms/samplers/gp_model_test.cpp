// The GP model: the Matérn-5/2 kernel, the posterior against closed forms and dense algebra,
// robustness on singular data, log EI in its far tail, the bounded L-BFGS.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <thread>

#include <Eigen/LU>

#include "bench/suite.h"
#include "caviar/error.h"
#include "caviar/sampler.h"
#include "algorithms/samplers/gp/acquisition.h"
#include "algorithms/samplers/gp/cost_model.h"
#include "algorithms/samplers/gp/gaussian_process.h"
#include "algorithms/samplers/gp/lbfgsb.h"
#include "algorithms/samplers/gp/output_transform.h"
#include "algorithms/samplers/gp/pruned_values.h"
#include "support/history.h"

using namespace caviar;
using caviar::testing::complete;
using caviar::testing::median;
using detail::GaussianProcess;
using detail::GpHyperparameters;

namespace {

GpHyperparameters hyper(std::vector<double> length_scales, double signal, double noise) {
  GpHyperparameters h;
  h.length_scales = Eigen::Map<Eigen::VectorXd>(length_scales.data(), static_cast<Eigen::Index>(length_scales.size()));
  h.signal_variance = signal;
  h.noise_variance = noise;
  return h;
}

}  // namespace

TEST(GpKernel, Matern52AtKnownDistances) {
  // (1 + √5 r + 5r²/3) e^{−√5 r}: r = 0 gives 1; r = 1 gives (1 + 2.2360680 + 1.6666667)
  // × e^{−2.2360680} = 4.9027346 × 0.10687792 = 0.52399411.
  EXPECT_DOUBLE_EQ(detail::matern52(0.0), 1.0);
  EXPECT_NEAR(detail::matern52(0.5), 0.828649142418125, 1e-14);
  EXPECT_NEAR(detail::matern52(1.0), 0.52399410883182, 1e-14);
  EXPECT_NEAR(detail::matern52(2.0), 0.138660219138504, 1e-14);
  // ARD: with ℓ = (0.5, 2), points (0, 0) and (0.5, 1) are at r² = 1 + 0.25.
  Eigen::MatrixXd X(2, 2);
  X << 0, 0, 0.5, 1;
  GaussianProcess model(Eigen::MatrixXd(0, 2), Eigen::VectorXd(0), hyper({0.5, 2}, 3.0, 1e-6));
  Eigen::MatrixXd K = model.kernel(X, X);
  EXPECT_NEAR(K(0, 1), 3.0 * detail::matern52(std::sqrt(1.25)), 1e-12);
  EXPECT_NEAR(K(1, 0), K(0, 1), 1e-15);
  EXPECT_DOUBLE_EQ(K(0, 0), 3.0);
}

TEST(GpModel, PosteriorMatchesTheClosedFormForTwoPoints) {
  // x = 0, 1 with y = 1, 2; s² = 1, ℓ = 1, noise 0.01; test point 0.25.
  // K = [[a, b], [b, a]] with a = 1.01, b = m(1) = 0.52399411; k* = (m(0.25), m(0.75))
  // = (0.95095992, 0.67564780). Mean k*ᵀK⁻¹y = (k1 (a y1 − b y2) + k2 (a y2 − b y1)) /
  // (a² − b²) = 1.30732176; variance 1 − (a k1² − 2 b k1 k2 + a k2²) / (a² − b²) = 0.05961433.
  Eigen::MatrixXd X(2, 1);
  X << 0, 1;
  Eigen::VectorXd y(2);
  y << 1, 2;
  GaussianProcess model(X, y, hyper({1.0}, 1.0, 0.01));
  EXPECT_EQ(model.jitter(), 0.0);
  double mean, var;
  model.predict(Eigen::VectorXd::Constant(1, 0.25), mean, var);
  EXPECT_NEAR(mean, 1.30732175678091, 1e-12);
  EXPECT_NEAR(var, 0.0596143329893698, 1e-12);
  // The same with s² = 2 and ℓ = 0.5 (distances double): 1.14340698 and 0.57568647.
  GaussianProcess wide(X, y, hyper({0.5}, 2.0, 0.01));
  wide.predict(Eigen::VectorXd::Constant(1, 0.25), mean, var);
  EXPECT_NEAR(mean, 1.14340697700926, 1e-12);
  EXPECT_NEAR(var, 0.575686469282421, 1e-12);
  // The batch form agrees.
  Eigen::VectorXd means, vars;
  wide.predict(Eigen::MatrixXd::Constant(1, 1, 0.25), means, vars);
  EXPECT_NEAR(means[0], mean, 1e-12);
  EXPECT_NEAR(vars[0], var, 1e-12);
}

TEST(GpModel, PosteriorAndGradientsMatchDenseAlgebraInTwoDimensions) {
  Eigen::MatrixXd X(3, 2);
  X << 0.1, 0.2, 0.7, 0.4, 0.3, 0.9;
  Eigen::VectorXd y(3);
  y << 0.5, -1.0, 0.25;
  GpHyperparameters h = hyper({0.3, 0.8}, 1.5, 1e-3);
  GaussianProcess model(X, y, h);
  Eigen::VectorXd x(2);
  x << 0.45, 0.6;
  Eigen::MatrixXd K = model.kernel(X, X) + h.noise_variance * Eigen::MatrixXd::Identity(3, 3);
  Eigen::VectorXd k = model.kernel(X, x.transpose());
  Eigen::MatrixXd Kinv = K.fullPivLu().inverse();
  double mean, var;
  Eigen::VectorXd dm, dv;
  model.predict(x, mean, var, &dm, &dv);
  EXPECT_NEAR(mean, k.dot(Kinv * y), 1e-10);
  EXPECT_NEAR(var, 1.5 - k.dot(Kinv * k), 1e-10);
  // Gradients against central differences.
  for (int i = 0; i < 2; ++i) {
    Eigen::VectorXd a = x, b = x;
    a[i] += 1e-6, b[i] -= 1e-6;
    double ma, va, mb, vb;
    model.predict(a, ma, va);
    model.predict(b, mb, vb);
    EXPECT_NEAR(dm[i], (ma - mb) / 2e-6, 1e-5);
    EXPECT_NEAR(dv[i], (va - vb) / 2e-6, 1e-5);
  }
}

TEST(GpModel, LogPosteriorGradientMatchesFiniteDifferences) {
  detail::Rng rng(3);
  Eigen::MatrixXd X(30, 3);
  Eigen::VectorXd y(30);
  for (int i = 0; i < 30; ++i) {
    for (int k = 0; k < 3; ++k) X(i, k) = rng.uniform();
    y[i] = std::sin(3 * X(i, 0)) + X(i, 2) + 0.01 * rng.normal();
  }
  GpHyperparameters h = hyper({0.3, 0.5, 1.2}, 1.3, 1e-3);
  detail::GpFitOptions o;
  Eigen::VectorXd g;
  detail::gp_log_posterior(X, y, h, o, &g);
  for (int k = 0; k < 5; ++k) {
    auto bumped = [&](double e) {
      GpHyperparameters q = h;
      if (k < 3) q.length_scales[k] *= std::exp(e);
      if (k == 3) q.signal_variance *= std::exp(e);
      if (k == 4) q.noise_variance *= std::exp(e);
      return detail::gp_log_posterior(X, y, q, o);
    };
    EXPECT_NEAR(g[k], (bumped(1e-6) - bumped(-1e-6)) / 2e-6, 1e-5 * std::max(1.0, std::abs(g[k])))
        << "θ_" << k;
  }
}

TEST(GpModel, DuplicatePointsWithoutNoiseGetJitterNotACrash) {
  Eigen::MatrixXd X(4, 2);
  X << 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.2, 0.9;
  Eigen::VectorXd y(4);
  y << 1, 1.2, 0.8, -1;
  GaussianProcess model(X, y, hyper({0.3, 0.3}, 1.0, 0.0));  // K is singular
  EXPECT_TRUE(model.conditioned());
  EXPECT_GT(model.jitter(), 0.0);
  double mean, var;
  model.predict(Eigen::Vector2d(0.5, 0.5), mean, var);
  EXPECT_TRUE(std::isfinite(mean) && std::isfinite(var));
  EXPECT_NEAR(mean, 1.0, 1e-3);  // the duplicates' average
  EXPECT_GE(var, 0.0);
  // The fit on the same data returns finite hyperparameters.
  detail::Rng rng(1);
  GpHyperparameters h = detail::fit_gp_hyperparameters(X, y, {}, rng);
  EXPECT_TRUE(h.length_scales.allFinite());
  EXPECT_TRUE(std::isfinite(h.signal_variance) && std::isfinite(h.noise_variance));
  // Non-finite data: the prior, not an exception.
  y[0] = NAN;
  GaussianProcess broken(X, y, hyper({0.3, 0.3}, 1.0, 1e-6));
  EXPECT_FALSE(broken.conditioned());
  broken.predict(Eigen::Vector2d(0.1, 0.1), mean, var);
  EXPECT_EQ(mean, 0.0);
  EXPECT_EQ(var, 1.0);
}

TEST(GpAcquisition, LogEiMatchesLogOfEiAndStaysFiniteInTheTail) {
  auto h = [](double z) {
    double pdf = std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
    double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
    return pdf + z * cdf;
  };
  for (double z : {-5.0, -3.0, -1.5, -1.0, -0.5, 0.0, 0.7, 2.0, 5.0})
    EXPECT_NEAR(detail::log_h(z), std::log(h(z)), 1e-9 * std::max(1.0, std::abs(std::log(h(z)))))
        << "z = " << z;
  // z = −40: h ≈ φ(40)/40² ≈ e^{−808} underflows to 0 in double, log h does not. The
  // reference is the plain formula in long double (range to e^{−11000}; the cancellation
  // of φ + zΦ costs about 3 of its 19 digits there).
  EXPECT_EQ(h(-40.0), 0.0);
  auto reference = [](long double z) {
    long double pdf = std::exp(-0.5L * z * z) / std::sqrt(2.0L * std::numbers::pi_v<long double>);
    long double cdf = 0.5L * std::erfc(-z / std::sqrt(2.0L));
    return static_cast<double>(std::log(pdf + z * cdf));
  };
  for (double z : {-40.0, -35.0, -30.5, -29.5, -20.0, -8.0}) {
    ASSERT_TRUE(std::isfinite(detail::log_h(z)));
    EXPECT_NEAR(detail::log_h(z), reference(z), 1e-12 * std::abs(reference(z))) << "z = " << z;
  }
  EXPECT_NEAR(detail::log_h(-40.0), -808.29856835662, 1e-9);
  EXPECT_TRUE(std::isfinite(detail::log_h(-1e4)));
  // Increasing everywhere, across the branch points (z = −1 and −30).
  for (double z = -60; z < 6; z += 0.37) EXPECT_LT(detail::log_h(z), detail::log_h(z + 0.37));
  // The derivative against central differences, tail included.
  for (double z : {-45.0, -29.0, -12.0, -2.0, -0.3, 1.0, 4.0}) {
    double fd = (detail::log_h(z + 1e-6) - detail::log_h(z - 1e-6)) / 2e-6;
    EXPECT_NEAR(detail::log_h_derivative(z), fd, 1e-5 * std::max(1.0, std::abs(fd))) << "z = " << z;
  }
}

// EI and augmented EI at hand-worked posteriors, and their gradients.
TEST(GpAcquisition, AugmentedEiIsEiTimesTheNoiseFactor) {
  // EI of N(μ, s²) under best, minimising: (best − μ) Φ(z) + s φ(z), z = (best − μ)/s.
  auto ei = [](double best, double mean, double var) {
    double s = std::sqrt(var), z = (best - mean) / s;
    return (best - mean) * 0.5 * std::erfc(-z / std::sqrt(2.0)) +
           s * std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
  };
  const detail::LogAcquisition plain{0.2, 0.0};
  EXPECT_NEAR(plain(0.5, 0.09), std::log(ei(0.2, 0.5, 0.09)), 1e-12);
  // s² = 0.03, σn² = 0.01: r = 0.2, σn = 0.1, so the factor is 1 − 0.1/0.2 = 1/2.
  const detail::LogAcquisition augmented{0.2, 0.01};
  EXPECT_NEAR(augmented(0.5, 0.03), std::log(0.5 * ei(0.2, 0.5, 0.03)), 1e-12);
  // s² = 0.0005, σn² = 0.02: r² = 0.0205, factor 1 − √(0.02/0.0205) ≈ 0.01227.
  const detail::LogAcquisition noisy{0.0, 0.02};
  EXPECT_NEAR(noisy(0.1, 0.0005), std::log((1 - std::sqrt(0.02 / 0.0205)) * ei(0.0, 0.1, 0.0005)),
              1e-9);
  // A posterior pinned down to nothing: the factor's log is very negative but finite.
  EXPECT_TRUE(std::isfinite(noisy(0.1, 0.0)));
  EXPECT_LT(noisy(0.1, 0.0), noisy(0.1, 1e-8));
  // Gradients against central differences, tail of log h and noiseless case included.
  for (const detail::LogAcquisition& a : {plain, augmented, noisy})
    for (double mean : {-1.0, 0.1, 3.0})
      for (double var : {1e-4, 0.05, 0.8}) {
        double dm = 0, dv = 0;
        a(mean, var, &dm, &dv);
        double fm = (a(mean + 1e-6, var) - a(mean - 1e-6, var)) / 2e-6;
        double hv = var * 1e-5;
        double fv = (a(mean, var + hv) - a(mean, var - hv)) / (2 * hv);
        EXPECT_NEAR(dm, fm, 1e-5 * std::max(1.0, std::abs(fm))) << mean << " " << var;
        EXPECT_NEAR(dv, fv, 1e-5 * std::max(1.0, std::abs(fv))) << mean << " " << var;
      }
}

TEST(Lbfgsb, FindsBoundAndInteriorMinima) {
  detail::Objective quadratic = [](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    g.resize(2);
    g << 2 * (x[0] - 2), 2 * (x[1] + 1);
    return (x[0] - 2) * (x[0] - 2) + (x[1] + 1) * (x[1] + 1);
  };
  Eigen::VectorXd x = Eigen::Vector2d(0.5, 0.5);
  detail::minimize_lbfgsb(quadratic, x, Eigen::Vector2d(0, 0), Eigen::Vector2d(1, 1));
  EXPECT_NEAR(x[0], 1.0, 1e-12);  // on the bounds
  EXPECT_NEAR(x[1], 0.0, 1e-12);
  detail::Objective rosenbrock = [](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    double a = 1 - x[0], b = x[1] - x[0] * x[0];
    g.resize(2);
    g << -2 * a - 400 * x[0] * b, 200 * b;
    return a * a + 100 * b * b;
  };
  x = Eigen::Vector2d(-1.2, 1.0);
  detail::LbfgsbOptions o;
  o.max_iterations = 500;
  o.value_tol = 0;
  detail::minimize_lbfgsb(rosenbrock, x, Eigen::Vector2d(-2, -2), Eigen::Vector2d(2, 2), o);
  EXPECT_NEAR(x[0], 1.0, 1e-4);
  EXPECT_NEAR(x[1], 1.0, 1e-4);
}
