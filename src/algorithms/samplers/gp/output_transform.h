// The GP sampler's output side: how noisy the objective is, and how its values are warped
// and standardised before the GP sees them.
//
// Report noise. A training run's reports jitter from epoch to epoch around a smooth curve;
// that jitter is the noise of its final value too (a configuration trained again, or nudged
// by a hair, lands that far off). For every complete trial with at least 4 reports, a
// straight line is fitted to its last 4 (value against step) and σ² = RSS / (4 − 2), the
// unbiased residual variance; the estimate is the median over trials, once 3 trials have
// one. Pruned
// trials are left out: stopped on the steep part of their curve, they would count its
// bend as noise. Objectives that report nothing (or too little) have no estimate, and the
// GP then infers its noise from the values alone, under a prior that expects almost none.
//
// Output transform. Heavy tails (a few enormous losses) make a standardised GP see
// everything but the worst points as flat. `auto`: when the values are strongly
// right-skewed, max − median > 4 (median − min), they become log(y − min + c) with
// c = max(0.1 (median − min), 0.001 (max − min), 2σ), which keeps their order and spreads
// out the good end, but never spreads apart values closer than the noise σ (a lucky
// draw at the top would otherwise look like a sharp peak, and the sampler would dig there).
// `rank`: normal scores of the ranks. `none`: only standardised.
#pragma once

#include <optional>
#include <vector>

#include <Eigen/Dense>

#include "caviar/sampler.h"
#include "caviar/trial.h"

namespace caviar::detail {

// σ² of the reports, in the objective's units; nullopt below 3 complete trials with 4
// reports.
std::optional<double> report_noise_variance(const std::vector<TrialRecord>& history);

struct TransformedOutputs {
  Eigen::VectorXd y;      // warped, then mean 0 and variance 1
  double noise_variance;  // σ² in y's units at the best (smallest) value; NaN if unknown
};

// y to be minimised; noise_sd = σ in y's units, 0 when unknown. With `rank` the noise is
// not carried over (NaN).
TransformedOutputs transform_outputs(const Eigen::VectorXd& y, GpOptions::Transform mode,
                                     double noise_sd = 0);

}  // namespace caviar::detail
