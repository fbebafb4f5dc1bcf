// The GP sampler's acquisition function, in logs: expected improvement (ei) or augmented
// expected improvement for noisy objectives (aei).
//
// ei: log EI over the incumbent `best`, log h((best − μ)/s) + log s (Ament et al. 2023,
// gaussian_process.h's log_h), for minimisation.
//
// aei (Huang, Allen, Notz & Zeng 2006, "Global optimization of stochastic black-box systems
// via sequential kriging meta-models", J. Global Optimization 34): the same EI over the
// posterior mean at the "effective best" trial (the least mean + sd; chosen by the sampler),
// times 1 − σn/√(s² + σn²), where σn² is the observation noise. In logs the factor is
// log s² − log r − log(r + σn) with r = √(s² + σn²), which stays finite as s² → 0. It falls
// to 0 where the data already pin the mean down to within the noise: a noisy objective's
// lucky trial, or a region trained again and again, is not proposed once more, and the
// search goes on to points whose value another draw could still change.
#pragma once

namespace caviar::detail {

struct LogAcquisition {
  double best = 0;       // the incumbent, in the GP's (minimised, standardised) units
  double noise_var = 0;  // σn²: aei's observation noise; 0 gives plain EI

  // At a posterior N(mean, var); with its derivatives with respect to mean and var.
  double operator()(double mean, double var, double* d_mean = nullptr,
                    double* d_var = nullptr) const;
};

}  // namespace caviar::detail
