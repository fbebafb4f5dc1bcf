// Gaussian-process Bayesian optimisation: the `gp` sampler.
//
// Per suggestion (a pure function of seed, trial number and history):
//  1. Fewer than `startup` finished trials with a value: a scrambled Sobol point.
//  2. Data: complete trials (value), pruned ones with an intermediate report (their last
//     reported value, raised by complete trials' median gain from that step on: see
//     samplers/pruned_values.h), in the scale-transformed unit cube; ints at their cell centre,
//     choices one-hot, an inactive conditional parameter at 0.5 in each of its coordinates.
//     Maximisation flips the sign. Beyond `max_trials` points, the better half of the cap
//     is kept by value and the other half is a farthest-point spread of the rest.
//  3. Output transform and standardisation (samplers/output_transform.h); with `noise: auto`
//     and learning curves to measure it on, the log warp never spreads apart values closer
//     than the reports' noise, and the GP's noise prior is centred on that noise.
//  4. Matérn-5/2 ARD GP, MAP hyperparameters (gaussian_process.h), fitted on at most
//     `fit_trials` of the points (the best ones plus a spread).
//  5. Running, waiting and failed trials (the last 200 in history order) enter as
//     kriging-believer fantasies, observed at the posterior mean: the mean is unchanged and
//     the variance shrinks there, so the next suggestions go elsewhere.
//  6. The acquisition (algorithms/samplers/gp/acquisition.h): log expected improvement (Ament et al. 2023)
//     over the best transformed value; once trials report learning curves (`acquisition:
//     auto`), augmented EI (Huang et al. 2006), over the posterior mean at the effective best
//     trial, which does not propose again what the data already pin down to within the
//     noise. With `cost`, less the predicted log seconds per step (EI per second,
//     samplers/cost_model.h). It is maximised over `candidates` points (three quarters
//     uniform, a quarter Gaussian perturbations of the five best trials), every candidate
//     scored at its rounded point; the best `refine` are polished by bounded L-BFGS over
//     the continuous parameters (and the relaxation of ints with more than 16 values), then
//     by a neighbourhood search over ints (±1 step) and choices (every value), twice.
//  7. With augmented EI, `indifference`: a parameter whose length scales all exceed the
//     cube's width gets a uniform draw instead of its argmax value (nearly always a bound)
//     when the mean stays within the noise and the acquisition within a factor e^indifference.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "caviar/sampler.h"
#include "base/random.h"
#include "algorithms/samplers/gp/acquisition.h"
#include "algorithms/samplers/gp/cost_model.h"
#include "algorithms/samplers/gp/gaussian_process.h"
#include "algorithms/samplers/gp/lbfgsb.h"
#include "algorithms/samplers/gp/output_transform.h"
#include "algorithms/samplers/gp/pruned_values.h"
#include "algorithms/samplers/factories.h"
#include "caviar/error.h"

namespace caviar {
namespace {

using detail::GaussianProcess;
using detail::LogAcquisition;
using Eigen::MatrixXd;
using Eigen::VectorXd;

// Where each parameter lives in the GP's input vector.
struct Column {
  enum Kind { Continuous, Discrete, Choice } kind;
  int offset;  // first coordinate
  int width;   // 1, or the number of choices
};

class Encoding {
 public:
  explicit Encoding(const SearchSpace& space) : space_(space) {
    for (const auto& p : space.params()) {
      Column c{Column::Continuous, dims_, 1};
      if (p.type == ParamType::Choice) {
        c.kind = Column::Choice;
        c.width = static_cast<int>(std::max<std::size_t>(p.choices.size(), 1));
      } else if (p.type == ParamType::Int || p.step) {
        c.kind = Column::Discrete;
      }
      columns_.push_back(c);
      dims_ += c.width;
    }
  }
  int dims() const { return dims_; }
  const std::vector<Column>& columns() const { return columns_; }

  // A trial's params (internal values) as a GP input; absent parameters at 0.5.
  VectorXd encode(const Params& params) const {
    VectorXd z = VectorXd::Constant(dims_, 0.5);
    const auto& ps = space_.params();
    for (std::size_t i = 0; i < ps.size(); ++i) {
      auto it = params.find(ps[i].name);
      if (it == params.end()) continue;
      const Column& c = columns_[i];
      if (c.kind == Column::Choice) {
        double k = std::round(it->second);
        if (!(k >= 0 && k < c.width)) continue;
        z.segment(c.offset, c.width).setZero();
        z[c.offset + static_cast<int>(k)] = 1.0;
      } else {
        double u = ps[i].to_unit(it->second);
        z[c.offset] = std::isfinite(u) ? u : 0.5;
      }
    }
    return z;
  }

  // A trial's params as a raw point of the cube (one coordinate per parameter).
  std::vector<double> raw(const Params& params) const {
    const auto& ps = space_.params();
    std::vector<double> u(ps.size(), 0.5);
    for (std::size_t i = 0; i < ps.size(); ++i) {
      auto it = params.find(ps[i].name);
      if (it == params.end()) continue;
      double v = ps[i].to_unit(it->second);
      if (std::isfinite(v)) u[i] = std::clamp(v, 0.0, 1.0);
    }
    return u;
  }

  Params decode(const std::vector<double>& u, const Params& fixed) const {
    return space_.from_unit(u, fixed);
  }

 private:
  const SearchSpace& space_;
  std::vector<Column> columns_;
  int dims_ = 0;
};

// Indices of at most `cap` points: the best cap/2 by y, then a farthest-point spread of
// the rest (each next point the one farthest from those chosen so far).
std::vector<Eigen::Index> select_subset(const MatrixXd& X, const VectorXd& y, int cap) {
  const Eigen::Index n = X.rows();
  std::vector<Eigen::Index> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (n <= cap) return order;
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return y[a] < y[b]; });
  const Eigen::Index keep = cap / 2;
  std::vector<Eigen::Index> chosen(order.begin(), order.begin() + keep);
  std::vector<Eigen::Index> rest(order.begin() + keep, order.end());
  VectorXd nearest = VectorXd::Constant(static_cast<Eigen::Index>(rest.size()),
                                        std::numeric_limits<double>::infinity());
  auto update = [&](Eigen::Index picked) {
    for (std::size_t r = 0; r < rest.size(); ++r) {
      double dist = (X.row(rest[r]) - X.row(picked)).squaredNorm();
      nearest[static_cast<Eigen::Index>(r)] = std::min(nearest[static_cast<Eigen::Index>(r)], dist);
    }
  };
  for (Eigen::Index i : chosen) update(i);
  std::vector<bool> used(rest.size(), false);
  while (static_cast<int>(chosen.size()) < cap) {
    Eigen::Index best = -1;
    for (std::size_t r = 0; r < rest.size(); ++r)
      if (!used[r] && (best < 0 || nearest[static_cast<Eigen::Index>(r)] > nearest[best]))
        best = static_cast<Eigen::Index>(r);
    used[static_cast<std::size_t>(best)] = true;
    chosen.push_back(rest[static_cast<std::size_t>(best)]);
    update(rest[static_cast<std::size_t>(best)]);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

MatrixXd rows_of(const MatrixXd& X, const std::vector<Eigen::Index>& idx) {
  MatrixXd out(static_cast<Eigen::Index>(idx.size()), X.cols());
  for (std::size_t i = 0; i < idx.size(); ++i) out.row(static_cast<Eigen::Index>(i)) = X.row(idx[i]);
  return out;
}
VectorXd rows_of(const VectorXd& y, const std::vector<Eigen::Index>& idx) {
  VectorXd out(static_cast<Eigen::Index>(idx.size()));
  for (std::size_t i = 0; i < idx.size(); ++i) out[static_cast<Eigen::Index>(i)] = y[idx[i]];
  return out;
}

// The acquisition at GP inputs (rows of Z), less the predicted log seconds per step when
// costs are modelled.
struct Scorer {
  const GaussianProcess& model;
  const LogAcquisition& acquisition;
  const detail::CostModel* cost;

  VectorXd operator()(const MatrixXd& Z) const {
    VectorXd mean, var;
    model.predict(Z, mean, var);
    VectorXd out(Z.rows());
    for (Eigen::Index i = 0; i < Z.rows(); ++i) out[i] = acquisition(mean[i], var[i]);
    if (cost) out -= (*cost)(Z);
    return out;
  }
};

// Ints (and stepped floats) with more values than this are also refined by L-BFGS on their
// continuous relaxation; all are rounded before a point is scored.
constexpr std::size_t kRelaxAbove = 16;

class GpSampler final : public Sampler {
 public:
  GpSampler(std::uint64_t seed, GpOptions o)
      : seed_(seed), o_(o), sobol_(make_sobol_sampler(seed)) {}
  std::string name() const override { return "gp"; }

  // Long because it is one Bayesian-optimisation step in order (the data, the output warp
  // and noise, the fit, the acquisition's candidates, their refinement, the indifferent
  // parameters), each step reading what the previous ones fitted.
  std::optional<Params> suggest(const SampleContext& c) override {
    if (c.space.empty()) return c.space.from_unit({}, c.fixed);
    const Encoding enc(c.space);
    const double sign = c.direction == Direction::Maximize ? -1.0 : 1.0;

    std::vector<VectorXd> xs, pending;
    std::vector<double> ys;
    std::vector<std::vector<double>> raws;
    std::vector<std::size_t> timed;  // indices into xs of trials with a measured cost
    std::vector<double> log_costs, seconds;
    const detail::PrunedValues pruned_values(c.history, o_.pruned == GpOptions::Pruned::Aligned);
    for (const auto& t : c.history) {
      if (t.number == c.trial_number || t.params.empty()) continue;
      std::optional<double> v;
      if (t.state == TrialState::Complete && t.value) v = *t.value;
      if (t.state == TrialState::Pruned) v = pruned_values(t);
      if (v && std::isfinite(*v)) {
        if (o_.cost != GpOptions::Cost::Off && t.finished) {
          std::optional<std::int64_t> last_step;
          if (!t.intermediate.empty()) last_step = t.intermediate.rbegin()->first;
          const double duration = t.duration_seconds();
          if (auto lc = detail::CostModel::log_cost(duration, last_step)) {
            timed.push_back(xs.size());
            log_costs.push_back(*lc);
            seconds.push_back(duration);
          }
        }
        xs.push_back(enc.encode(t.params));
        ys.push_back(sign * *v);
        raws.push_back(enc.raw(t.params));
      } else if (t.state != TrialState::Pruned) {
        pending.push_back(enc.encode(t.params));  // running, waiting, failed
      }
    }
    if (static_cast<int>(ys.size()) < std::max(1, o_.startup)) return sobol_->suggest(c);

    const Eigen::Index d = enc.dims();
    MatrixXd X_all(static_cast<Eigen::Index>(xs.size()), d);
    VectorXd y_all(static_cast<Eigen::Index>(ys.size()));
    for (std::size_t i = 0; i < xs.size(); ++i) {
      X_all.row(static_cast<Eigen::Index>(i)) = xs[i].transpose();
      y_all[static_cast<Eigen::Index>(i)] = ys[i];
    }
    // Data cap.
    std::vector<Eigen::Index> kept = select_subset(X_all, y_all, o_.max_trials);
    MatrixXd X = rows_of(X_all, kept);
    // Output transform; with `noise: auto`, the noise measured in the learning curves.
    std::optional<double> noise;
    if (o_.noise == GpOptions::Noise::Auto) noise = detail::report_noise_variance(c.history);
    const detail::TransformedOutputs out =
        detail::transform_outputs(rows_of(y_all, kept), o_.transform, noise ? std::sqrt(*noise) : 0);
    const VectorXd& y = out.y;

    // Two streams of (seed, trial number): the fit's extra starts and the candidates.
    const auto number = static_cast<std::uint64_t>(c.trial_number);
    detail::Rng fit_rng(detail::mix64(seed_, 0x6770666974ULL), number);
    detail::Rng rng(detail::mix64(seed_, 0x677061637175ULL), number);
    detail::GpFitOptions fit_options;
    fit_options.restarts = o_.restarts;
    if (std::isfinite(out.noise_variance)) {
      // Measured, so the prior sits on it (a factor e^0.5 either way is one sd).
      fit_options.noise_log_mean = std::log(std::clamp(
          out.noise_variance, fit_options.min_noise_variance, fit_options.max_noise_variance));
      fit_options.noise_log_sd = 0.5;
    }
    std::vector<Eigen::Index> fit_idx = select_subset(X, y, o_.fit_trials);
    detail::GpHyperparameters h =
        detail::fit_gp_hyperparameters(rows_of(X, fit_idx), rows_of(y, fit_idx), fit_options, fit_rng);
    GaussianProcess model(X, y, h);
    // The acquisition's incumbent comes from the data alone, before the fantasies below
    // (which leave the mean where it is and are no evidence).
    const bool augmented =
        o_.acquisition == GpOptions::Acquisition::Aei ||
        (o_.acquisition == GpOptions::Acquisition::Auto &&
         std::any_of(c.history.begin(), c.history.end(),
                     [](const TrialRecord& t) { return !t.intermediate.empty(); }));
    const LogAcquisition acquisition = make_acquisition(model, X, y, h, augmented);

    // Kriging believer: pending points observed at the posterior mean.
    if (!pending.empty()) {
      const std::size_t max_pending = 200;
      std::size_t first = pending.size() > max_pending ? pending.size() - max_pending : 0;
      MatrixXd P(static_cast<Eigen::Index>(pending.size() - first), d);
      for (std::size_t i = first; i < pending.size(); ++i)
        P.row(static_cast<Eigen::Index>(i - first)) = pending[i].transpose();
      VectorXd pm, pv;
      model.predict(P, pm, pv);
      MatrixXd X2(X.rows() + P.rows(), d);
      X2 << X, P;
      VectorXd y2(y.size() + pm.size());
      y2 << y, pm;
      model = GaussianProcess(std::move(X2), std::move(y2), h);
    }
    const std::optional<detail::CostModel> cost = fit_cost_model(xs, timed, log_costs, seconds, fit_rng);
    const Scorer score{model, acquisition, cost ? &*cost : nullptr};

    // Candidates: raw cube points (one coordinate per parameter).
    const std::size_t P = c.space.size();
    const int n_cand = std::max(1, o_.candidates);
    std::vector<std::vector<double>> cand;
    cand.reserve(static_cast<std::size_t>(n_cand));
    std::vector<std::size_t> by_value(ys.size());
    std::iota(by_value.begin(), by_value.end(), 0);
    std::stable_sort(by_value.begin(), by_value.end(), [&](auto a, auto b) { return ys[a] < ys[b]; });
    const std::size_t top = std::min<std::size_t>(5, by_value.size());
    const int n_local = static_cast<int>(o_.local_fraction * n_cand);
    for (int i = 0; i < n_cand; ++i) {
      std::vector<double> u(P);
      if (i < n_local) {
        const auto& base = raws[by_value[static_cast<std::size_t>(i) % top]];
        double sigma = (i / static_cast<int>(top)) % 2 == 0 ? 0.02 : 0.1;
        for (std::size_t k = 0; k < P; ++k)
          u[k] = std::clamp(base[k] + sigma * rng.normal(), 0.0, 1.0);
      } else {
        for (auto& x : u) x = rng.uniform();
      }
      cand.push_back(std::move(u));
    }
    MatrixXd Z(n_cand, d);
    for (int i = 0; i < n_cand; ++i)
      Z.row(i) = enc.encode(enc.decode(cand[static_cast<std::size_t>(i)], c.fixed)).transpose();
    VectorXd scores = score(Z);

    // Refine the best few.
    std::vector<int> order(static_cast<std::size_t>(n_cand));
    std::iota(order.begin(), order.end(), 0);
    const int n_refine = std::min(std::max(o_.refine, 1), n_cand);
    std::partial_sort(order.begin(), order.begin() + n_refine, order.end(),
                      [&](int a, int b) { return scores[a] > scores[b]; });
    std::vector<double> best_u = cand[static_cast<std::size_t>(order[0])];
    double best_score = scores[order[0]];
    for (int r = 0; r < n_refine; ++r) {
      std::vector<double> u = cand[static_cast<std::size_t>(order[static_cast<std::size_t>(r)])];
      double s = refine(enc, c, score, u);
      if (s > best_score) best_score = s, best_u = u;
    }
    if (o_.indifference > 0 && augmented) draw_where_indifferent(enc, c, score, best_score, best_u);
    return enc.decode(best_u, c.fixed);
  }

 private:
  // ei: over the best value. aei: over the posterior mean at the trial with the least
  // mean + sd (Huang et al.'s effective best), with the fitted noise.
  static LogAcquisition make_acquisition(const GaussianProcess& model, const MatrixXd& X,
                                         const VectorXd& y, const detail::GpHyperparameters& h,
                                         bool augmented) {
    if (!augmented) return {y.minCoeff(), 0.0};
    VectorXd mean, var;
    model.predict(X, mean, var);
    Eigen::Index at = 0;
    (mean + var.cwiseSqrt()).minCoeff(&at);
    return {mean[at], h.noise_variance};
  }

  // The cost model (cost_model.h) when costs are to be modelled: `cost: on`, or `auto` with
  // a median trial of at least kCostAutoSeconds; from at most fit_trials of the timed trials.
  static constexpr double kCostAutoSeconds = 1.0;
  std::optional<detail::CostModel> fit_cost_model(const std::vector<VectorXd>& xs,
                                                  const std::vector<std::size_t>& timed,
                                                  const std::vector<double>& log_costs,
                                                  std::vector<double> seconds,
                                                  detail::Rng& rng) const {
    if (o_.cost == GpOptions::Cost::Off || timed.size() < 2) return std::nullopt;
    if (o_.cost == GpOptions::Cost::Auto) {
      auto mid = seconds.begin() + static_cast<std::ptrdiff_t>(seconds.size() / 2);
      std::nth_element(seconds.begin(), mid, seconds.end());
      if (*mid < kCostAutoSeconds) return std::nullopt;
    }
    MatrixXd X(static_cast<Eigen::Index>(timed.size()), xs.front().size());
    VectorXd lc(static_cast<Eigen::Index>(timed.size()));
    for (std::size_t i = 0; i < timed.size(); ++i) {
      X.row(static_cast<Eigen::Index>(i)) = xs[timed[i]].transpose();
      lc[static_cast<Eigen::Index>(i)] = log_costs[i];
    }
    std::vector<Eigen::Index> keep = select_subset(X, lc, o_.fit_trials);
    return detail::CostModel::fit(rows_of(X, keep), rows_of(lc, keep), o_.restarts, rng);
  }

  // Where the model is indifferent, a random value rather than the acquisition's argmax.
  // Each free parameter whose length scales all exceed the unit cube's width (the model
  // sees little change across its whole range) gets a uniform draw, in a random order,
  // kept when the posterior mean stays within one noise sd of the argmax's (the data
  // cannot tell the two apart) and the log acquisition within `indifference` of its
  // maximum. Such a parameter otherwise sits at whichever bound its faint trend and the
  // larger variance at the edge favour, trial after trial, and its interior is never
  // tried. Only with augmented EI, i.e. for noisy objectives such as training runs.
  static constexpr double kIndifferentLengthScale = 1.0;
  void draw_where_indifferent(const Encoding& enc, const SampleContext& c, const Scorer& scorer,
                              double best_score, std::vector<double>& u) const {
    const detail::GpHyperparameters& h = scorer.model.hyperparameters();
    const VectorXd& ls = h.length_scales;
    auto mean_at = [&](const std::vector<double>& point) {
      double mean, var;
      scorer.model.predict(enc.encode(enc.decode(point, c.fixed)), mean, var);
      return mean;
    };
    const double worst_mean = mean_at(u) + std::sqrt(h.noise_variance);
    detail::Rng rng(detail::mix64(seed_, 0x696e64696666ULL), static_cast<std::uint64_t>(c.trial_number));
    const auto& ps = c.space.params();
    std::vector<std::size_t> order(ps.size());
    std::iota(order.begin(), order.end(), 0);
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    for (std::size_t i : order) {
      const Column& col = enc.columns()[i];
      if (c.fixed.count(ps[i].name) || ls.segment(col.offset, col.width).minCoeff() < kIndifferentLengthScale)
        continue;
      std::vector<double> trial = u;
      trial[i] = rng.uniform();
      const MatrixXd z = enc.encode(enc.decode(trial, c.fixed)).transpose();
      if (mean_at(trial) <= worst_mean && scorer(z)[0] >= best_score - o_.indifference)
        u = std::move(trial);
    }
  }

  // Improves u in place: L-BFGS over the continuous active free parameters, then a
  // neighbourhood search over discrete ones, twice. Returns the final acquisition value.
  double refine(const Encoding& enc, const SampleContext& c, const Scorer& scorer,
                std::vector<double>& u) const {
    const auto& ps = c.space.params();
    const GaussianProcess& model = scorer.model;
    const LogAcquisition& acquisition = scorer.acquisition;
    const detail::CostModel* cost = scorer.cost;
    auto score_of = [&](const std::vector<double>& point) {
      const MatrixXd z = enc.encode(enc.decode(point, c.fixed)).transpose();
      return scorer(z)[0];
    };
    double score = score_of(u);
    for (int round = 0; round < 2; ++round) {
      // Continuous parameters that are active and not fixed, and ints (steps) with many
      // values, relaxed to continuous here and rounded when the result is scored.
      Params now = enc.decode(u, c.fixed);
      std::vector<std::size_t> free;
      for (std::size_t i = 0; i < ps.size(); ++i) {
        const Column& col = enc.columns()[i];
        bool relaxable = col.kind == Column::Continuous ||
                         (col.kind == Column::Discrete && ps[i].cardinality() > kRelaxAbove);
        if (relaxable && now.count(ps[i].name) && !c.fixed.count(ps[i].name)) free.push_back(i);
      }
      if (!free.empty()) {
        VectorXd z0 = enc.encode(now);
        const auto m = static_cast<Eigen::Index>(free.size());
        VectorXd x(m);
        for (Eigen::Index k = 0; k < m; ++k) x[k] = u[free[k]];
        detail::Objective f = [&](const VectorXd& v, VectorXd& g) {
          VectorXd z = z0;
          for (Eigen::Index k = 0; k < m; ++k) z[enc.columns()[free[k]].offset] = v[k];
          double mean, var;
          VectorXd dm, dv;
          model.predict(z, mean, var, &dm, &dv);
          double d_mean, d_var;
          double value = acquisition(mean, var, &d_mean, &d_var);
          VectorXd dc;
          if (cost) value -= (*cost)(z, &dc);
          g.resize(m);
          for (Eigen::Index k = 0; k < m; ++k) {
            auto j = enc.columns()[free[k]].offset;
            g[k] = -(d_mean * dm[j] + d_var * dv[j] - (cost ? dc[j] : 0.0));
          }
          return -value;
        };
        detail::LbfgsbOptions lo;
        lo.max_iterations = 40;
        lo.gradient_tol = 1e-6;
        detail::minimize_lbfgsb(f, x, VectorXd::Zero(m), VectorXd::Ones(m), lo);
        std::vector<double> trial = u;
        for (Eigen::Index k = 0; k < m; ++k) trial[free[k]] = x[k];
        double s = score_of(trial);
        if (s > score) score = s, u = trial;
      }
      // Discrete neighbourhood: ints ±1 step, every choice.  (The relaxed ints above were
      // rounded by score_of; their neighbours are tried here as well.)
      bool moved = false;
      for (std::size_t i = 0; i < ps.size(); ++i) {
        const Column& col = enc.columns()[i];
        if (col.kind == Column::Continuous || c.fixed.count(ps[i].name)) continue;
        const Parameter& p = ps[i];
        std::vector<double> options;
        double v = p.from_unit(u[i]);
        if (col.kind == Column::Choice) {
          for (int k = 0; k < col.width; ++k)
            if (k != static_cast<int>(v)) options.push_back((k + 0.5) / col.width);
        } else {
          double step = p.step.value_or(1.0);
          if (v - step >= p.low - 1e-12) options.push_back(p.to_unit(v - step));
          if (v + step <= p.high + 1e-12) options.push_back(p.to_unit(v + step));
        }
        for (double o : options) {
          std::vector<double> trial = u;
          trial[i] = o;
          double s = score_of(trial);
          if (s > score + 1e-12) score = s, u = trial, moved = true;
        }
      }
      if (!moved) break;
    }
    return score;
  }

  std::uint64_t seed_;
  GpOptions o_;
  std::unique_ptr<Sampler> sobol_;
};

}  // namespace

std::unique_ptr<Sampler> make_gp_sampler(std::uint64_t seed, const GpOptions& options) {
  return std::make_unique<GpSampler>(seed, options);
}

namespace detail {

std::unique_ptr<Sampler> gp_sampler_from(std::uint64_t seed, Settings& settings) {
  GpOptions g;
  g.startup = settings.integer("startup", g.startup, 1, 1'000'000);
  g.candidates = settings.integer("candidates", g.candidates, 1, 1'000'000);
  g.refine = settings.integer("refine", g.refine, 1, 1000);
  g.max_trials = settings.integer("max_trials", g.max_trials, 2, 5000);
  g.fit_trials = settings.integer("fit_trials", g.fit_trials, 2, 5000);
  g.restarts = settings.integer("restarts", g.restarts, 1, 100);
  std::string t = settings.word("transform", "auto", {"auto", "none", "rank"});
  g.transform = t == "auto"   ? GpOptions::Transform::Auto
                : t == "none" ? GpOptions::Transform::None
                              : GpOptions::Transform::Rank;
  g.pruned = settings.word("pruned", "aligned", {"aligned", "last"}) == "aligned"
                 ? GpOptions::Pruned::Aligned
                 : GpOptions::Pruned::Last;
  std::string cost = settings.word("cost", "off", {"auto", "on", "off"});
  g.cost = cost == "auto" ? GpOptions::Cost::Auto : cost == "on" ? GpOptions::Cost::On : GpOptions::Cost::Off;
  g.noise = settings.word("noise", "auto", {"auto", "prior"}) == "auto" ? GpOptions::Noise::Auto
                                                                    : GpOptions::Noise::Prior;
  std::string acquisition = settings.word("acquisition", "auto", {"auto", "ei", "aei"});
  g.acquisition = acquisition == "auto" ? GpOptions::Acquisition::Auto
                  : acquisition == "ei" ? GpOptions::Acquisition::Ei
                                        : GpOptions::Acquisition::Aei;
  g.indifference = settings.number("indifference", g.indifference, 0, 1e6);
  return make_gp_sampler(seed, g);
}

}  // namespace detail
}  // namespace caviar
