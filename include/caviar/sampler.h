// Samplers: functions of history that propose the next point.
//
// A sampler answers one question: given the space, the study's history (finished and
// running trials) and the trial's number, which point of the unit cube comes next?
// It works in the scale-transformed cube (see space.h), so scales come for free. State
// that a sampler needs (a grid position, a Sobol index) is derived from the history and
// the trial number, so workers on several machines sample consistently.
//
// suggest() may be called from several threads at once on one sampler.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caviar/space.h"
#include "caviar/trial.h"

namespace caviar {

struct SampleContext {
  const SearchSpace& space;
  const std::vector<TrialRecord>& history;  // every trial of the study, all states
  int trial_number;                         // the number the new trial will get
  Direction direction;
  const Params& fixed;                      // values that must be kept (enqueued trials)
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual std::string name() const = 0;
  // The next trial's params (internal values), or nullopt when the sampler has nothing
  // left (an exhausted grid).
  virtual std::optional<Params> suggest(const SampleContext& context) = 0;
  // Whether suggest() reads the history; false lets the storage skip loading it.
  virtual bool needs_history() const { return true; }
  // What the sampler wants stored with the study, as study system attributes (key to
  // value), given the same context as the suggest() call just made; Study::ask writes
  // the values that changed once the trial has started. Default: nothing. (The zoom
  // sampler stores its boxes under "caviar:zoom".)
  virtual std::map<std::string, json> study_notes(const SampleContext&) { return {}; }
};

struct SamplerOptions {
  std::string name = "auto";  // auto | random | sobol | grid | zoom | tpe | gp | cmaes
  std::uint64_t seed = 0;
  // The sampler's own keys from the config's `sampler:` mapping (all but name and seed),
  // e.g. {"points": 5} for grid. Each sampler checks its keys; see docs/samplers.md.
  json settings = json::object();
  // Observations from an earlier study of the same problem (a re-tuning's old study, see
  // caviar/retune.h), in this space's internal values: with any, the model-based samplers
  // (auto, gp, tpe) are warm-started from them (make_warm_start_sampler); the others ignore
  // them.
  std::shared_ptr<const std::vector<TrialRecord>> prior;
};

// Builds a sampler by name; throws ConfigError for an unknown name or a bad setting,
// naming the key (`sampler.points`).
std::unique_ptr<Sampler> make_sampler(const SamplerOptions& options);

// Independent uniform points in the cube. Trial n of seed s always gets the same point.
std::unique_ptr<Sampler> make_random_sampler(std::uint64_t seed);
// Scrambled Sobol points in the cube; trial n gets point n of the seed's sequence.
std::unique_ptr<Sampler> make_sobol_sampler(std::uint64_t seed);
// Every combination: `points` values per float (spaced on its scale), every value of ints
// (at most `points` if there are more) and choices. Returns the lowest-index grid point no
// trial has taken yet; nullopt when all are taken.
std::unique_ptr<Sampler> make_grid_sampler(int points);

// The zoom sampler, coarse to fine, is declared in include/caviar/zoom.h.

// CMA-ES with IPOP restarts (docs/samplers.md#cmaes). N. Hansen, "The CMA Evolution
// Strategy: A Tutorial" (arXiv:1604.00772) for the algorithm; A. Auger and N. Hansen, "A
// Restart CMA Evolution Strategy With Increasing Population Size" (CEC 2005) for IPOP.
// The float and int parameters without a condition form the CMA-ES space (the unit cube,
// ints rounded by from_unit; out-of-cube samples are redrawn, then clipped); choices and
// conditional parameters are drawn on their own, favouring the best trials' values. After
// `startup` Sobol trials, CMA-ES starts at the weighted mean of the best half of them and
// trial numbers are laid out in generations of `popsize`; each generation's update is
// replayed from its finished trials, so every worker derives the same state from the
// history. A restart (random start, population doubled) follows a collapsed step size, an
// exploding condition number or a stalled best value.
struct CmaEsSamplerOptions {
  int startup = 8;        // Sobol trials first (0: CMA-ES starts at a random point)
  double sigma0 = 0.1;    // initial step size, in units of the cube's side
  int popsize = 0;        // 0: 4 + floor(3 ln n) for n CMA-ES parameters
  bool ipop = true;       // restarts with a doubled population; false: one run
};
std::unique_ptr<Sampler> make_cmaes_sampler(std::uint64_t seed,
                                            const CmaEsSamplerOptions& options = {});

// Tree-structured Parzen estimator (docs/samplers.md#tpe). J. Bergstra, R. Bardenet,
// Y. Bengio and B. Kégl, "Algorithms for Hyper-Parameter Optimization" (NeurIPS 2011);
// multivariate kernels as in S. Falkner, A. Klein and F. Hutter, "BOHB" (ICML 2018).
// The finished trials are split into the best `gamma` share (good, at most `good_max`,
// weighted by rank) and the rest; a Parzen estimator of each, l(x) and g(x), is fitted in
// the unit cube, and of `candidates` points drawn from l the one with the largest
// l(x)/g(x) is taken.
// Parameters active in the same trials form a group with one joint model (`multivariate`)
// or each parameter has its own. Running trials count as bad (`constant_liar`), so
// parallel workers spread out. The first `startup` trials are scrambled Sobol points.
// Details: src/algorithms/samplers/tpe/tpe_sampler.cpp and src/algorithms/samplers/tpe/parzen_estimator.h.
struct TpeOptions {
  bool multivariate = true;    // joint model per group of co-occurring parameters
  int startup = 10;            // finished trials before the model is used
  bool startup_sobol = true;   // startup points: scrambled Sobol (true) or random
  int candidates = 24;         // draws from l(x) per suggestion
  double gamma = 0.25;         // share of finished trials that are good: ceil(gamma * n)
  int good_max = 25;           // at most this many good trials
  bool constant_liar = true;   // running trials join the bad group
  double prior_weight = 1.0;   // weight of the broad prior kernel, next to the trials'
  bool rank_weights = true;    // good trials weigh ln(k + 1/2) - ln(rank); false: equally
  // Kernel widths: "neighbour" (per coordinate, the distance to the neighbouring
  // observations, as in the original TPE) or "scott" (0.2 n^(-1/(d+4)) for all, Optuna's
  // multivariate rule).
  std::string bandwidth = "neighbour";
};
std::unique_ptr<Sampler> make_tpe_sampler(std::uint64_t seed, const TpeOptions& options = {});

// Gaussian-process Bayesian optimisation (docs/samplers.md#gp). Matérn-5/2 kernel with one
// length scale per dimension (Rasmussen & Williams 2006, ch. 4–5), hyperparameters by
// maximum a posteriori with the dimension-scaled length-scale prior of Hvarfner, Hellsten
// & Nardi, "Vanilla Bayesian Optimization Performs Great in High Dimensions" (ICML 2024);
// acquisition: log expected improvement, computed stably as in Ament et al., "Unexpected
// Improvements to Expected Improvement for Bayesian Optimization" (NeurIPS 2023).
// The model lives in the scale-transformed cube: ints rounded (cell centres), choices
// one-hot, inactive conditional parameters at 0.5. Running, waiting and failed trials are
// kriging-believer fantasies at the posterior mean; pruned trials count with their last
// intermediate value, raised by the median gain complete trials made from that step to
// their end (`pruned: aligned`), so early reports are not taken for final ones. With
// `cost: on` a second GP learns the trials' log seconds per step and the acquisition is EI
// per second (Snoek, Larochelle & Adams, NeurIPS 2012). The first `startup` finished
// trials are scrambled Sobol points.
// Beyond `max_trials` finished trials the model keeps the best half of that cap and a
// farthest-point spread of the rest. Details: src/algorithms/samplers/gp/gp_sampler.cpp and
// src/algorithms/samplers/gp/gaussian_process.h.
struct GpOptions {
  int startup = 10;         // finished trials (Sobol points) before the model is used
  int candidates = 512;     // points scored by the acquisition per suggestion
  int refine = 5;           // best candidates refined by L-BFGS and neighbour moves
  int max_trials = 300;     // data cap for the posterior
  int fit_trials = 100;     // at most this many of them fit the hyperparameters
  int restarts = 2;         // hyperparameter fit starts while the model has <= 50 points
  double local_fraction = 0.25;  // share of candidates drawn around the best trials
  // Output warp before standardising: none, auto (log when the values are strongly
  // right-skewed, e.g. losses spanning decades), rank (normal scores of the ranks).
  enum class Transform { None, Auto, Rank } transform = Transform::Auto;
  // A pruned trial's value: its last report (last), or that plus the median gain complete
  // trials made from the same step to their end (aligned; needs 3 such complete trials).
  enum class Pruned { Last, Aligned } pruned = Pruned::Aligned;
  // Expected improvement per second (Snoek et al. 2012): a second GP learns each trial's
  // log seconds per step and the acquisition divides by it. off (default: on our
  // Fashion-MNIST benchmark it chose cheaper trials but did not reach the target sooner,
  // docs/benchmarks.md); on; auto: on once the median finished trial took at least 1 s.
  enum class Cost { Auto, On, Off } cost = Cost::Off;
  // The objective's noise: auto (measured in the learning curves, from the jitter of each
  // complete trial's last 4 reports, once 3 trials have them; then the log warp keeps values
  // within the noise together and the GP's noise prior sits on it), or prior (always
  // inferred from the values alone, under a prior that expects almost none).
  enum class Noise { Auto, Prior } noise = Noise::Auto;
  // The acquisition (algorithms/samplers/gp/acquisition.h): ei (log expected improvement over the best
  // value), aei (augmented EI for noisy objectives, Huang et al. 2006: a point the data
  // already pin down to within the noise is not proposed again), or auto (aei once trials
  // report learning curves, the mark of a training run and its noise; ei otherwise).
  enum class Acquisition { Auto, Ei, Aei } acquisition = Acquisition::Auto;
  // Where the model is indifferent (with augmented EI only, i.e. noisy objectives): after
  // the acquisition is maximised, each parameter whose fitted length scales exceed the
  // cube's width gets a uniform random value, kept while the posterior mean stays within
  // one noise sd and the log acquisition within this much of its maximum (1: a factor e).
  // 0: always the argmax.
  double indifference = 1.0;
};
std::unique_ptr<Sampler> make_gp_sampler(std::uint64_t seed, const GpOptions& options = {});

// Warm start from an earlier study (docs/retune.md#warm-start). The old observations are a
// prior whose weight is learned from the new study as it runs:
//   1. the old study's response surface, a Nadaraya-Watson kernel regression of the old
//      values in the unit cube (bandwidth: the old points' median nearest-neighbour
//      distance), predicts every complete new trial;
//   2. rho, Spearman's rank correlation of those predictions with the new values, is how
//      well the old ranking holds on the new data; the weight is rho shrunk towards a prior
//      belief, w = clamp((n rho + m rho0) / (n + m), 0, 1) with n new complete trials (rho
//      counts from 3), m = `strength` and rho0 = `belief`;
//   3. each suggestion trusts the old study with probability w (a draw from the seed and
//      the trial number, the same in every worker): the inner sampler then sees the old
//      trials beside the new ones, their values moved by the median offset between the new
//      values and the old surface's predictions, except those within `near` of a new trial,
//      where the new data speak for themselves; otherwise it sees the new trials alone (a
//      cold suggestion, which also spreads the points rho is measured on).
// When the old ranking stops holding (rho <= 0) the weight falls towards 0 and the study
// runs cold. The weight follows the ranking-loss idea of M. Feurer, B. Letham, F. Hutter and
// E. Bakshy, "Practical Transfer Learning for Bayesian Optimization" (arXiv:1802.02219,
// RGPE), with observations instead of models, as in S. Watanabe, N. Awad, M. Onishi and
// F. Hutter, "Speeding Up Multi-Objective Hyperparameter Optimization by Task Similarity-
// Based Meta-Learning for the Tree-Structured Parzen Estimator" (IJCAI 2023).
// The sampler's study note "caviar:warm_start" records {weight, rho, trials, prior, old,
// offset, warm} as of the last suggestion.
struct WarmStartOptions {
  double strength = 4;   // m: pseudo-trials' worth of the prior belief
  double belief = 0.5;   // rho0: the rank correlation believed before any new trial
  double near = 0.1;     // times the cube's diagonal (sqrt of the dimension)
  int max_prior = 300;   // old trials considered at most (evenly spaced by value rank)
};
struct WarmStartState {
  double weight = 0;     // w
  double rho = 0;        // Spearman's rho over the new complete trials (0 below 3)
  int trials = 0;        // n: new complete trials with a finite value
  int prior = 0;         // old trials a warm suggestion sees
  int old = 0;           // old trials usable in this space
  double offset = 0;     // added to the old values (in the study's direction)
  std::vector<TrialRecord> shown;  // those old trials, values moved, numbered -1, -2, ...
};
// The weight and the old trials shown for `context`'s history; a pure function.
WarmStartState warm_start_state(const SampleContext& context, const std::vector<TrialRecord>& prior,
                                const WarmStartOptions& options = {});
std::unique_ptr<Sampler> make_warm_start_sampler(std::unique_ptr<Sampler> inner,
                                                 std::shared_ptr<const std::vector<TrialRecord>> prior,
                                                 std::uint64_t seed, const WarmStartOptions& options = {});

// The default: gp for spaces of up to 20 unconditional parameters and the first 1,000
// trials, tpe otherwise (conditional or larger spaces, longer studies). See
// docs/samplers.md#auto for the rule and the measurements behind it.
std::unique_ptr<Sampler> make_auto_sampler(std::uint64_t seed);

}  // namespace caviar
