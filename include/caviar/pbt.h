// Population Based Training (PBT): a scheduler that trains a population of models at once
// and, every `interval` steps, lets the worst members copy the best ones and perturb the
// copy, so hyperparameters change during training (a schedule found, not fixed).
//
// Reference: M. Jaderberg, V. Dalibard, S. Osindero, W. M. Czarnecki, J. Donahue,
// A. Razavi, O. Vinyals, T. Green, I. Dunning, K. Simonyan, C. Fernando, K. Kavukcuoglu,
// "Population Based Training of Neural Networks", arXiv:1711.09846, 2017. caviar uses
// the paper's truncation selection (exploit) and perturb/resample (explore).
//
// How caviar runs it (docs/pruners.md#pbt). Optuna's schema fixes a trial's parameters,
// so member m of the population runs as a chain of trials, one per *segment* of
// `interval` steps: segment k reports steps k·interval+1 .. min((k+1)·interval, max_steps),
// restores the checkpoint its decision named and leaves its own checkpoint behind. When a
// member's segment ends at step s, its next segment is decided (when a worker asks for
// it) from the scores at s of every member that has reached s:
//   exploit  a member in the bottom `quantile` copies the checkpoint (saved at s) and the
//            parameters of a member drawn uniformly from the top `quantile`;
//   explore  the copy's parameters are each, with `resample_probability`, drawn again from
//            the prior, else perturbed by a factor from `factors` on their own scale;
//   else     the member continues from its own checkpoint with its own parameters.
// Each segment trial stores its lineage as the system attribute "caviar:pbt" (member,
// segment, decision step, parent trial, donor trial, what changed); `caviar trials
// --lineage` prints every member's chain. The scheduler is a function of the stored
// history, like a sampler: any worker, in any process, makes the same decision.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caviar/sampler.h"
#include "caviar/space.h"
#include "caviar/trial.h"

namespace caviar {

struct PbtOptions {
  int population = 8;                      // P >= 2 members
  std::int64_t interval = 1;               // steps (epochs) per segment, >= 1
  std::int64_t max_steps = 0;              // each member trains to this step (required)
  double quantile = 0.25;                  // bottom/top fraction, in (0, 0.5]
  double resample_probability = 0.25;      // per parameter, in [0, 1]
  std::vector<double> factors = {0.8, 1.2};  // perturbation factors, one drawn uniformly
  std::vector<std::string> explore;        // parameters explore may change; empty: all
  bool keep_checkpoints = false;           // keep every segment's checkpoint, not only
                                           // the ones a later segment may still restore

  int segments() const { return static_cast<int>((max_steps + interval - 1) / interval); }
};

// The options from the config's `scheduler:` mapping ({name: pbt, population: 16, ...}),
// checked against `space`. Throws ConfigError naming the key (`scheduler.quantile`).
PbtOptions pbt_options_from_json(const json& scheduler, const SearchSpace& space);

// ---- The decision, as pure functions (unit-testable) ----

struct PbtScore {
  int member = 0;
  double value = 0;  // the member's last reported value at the decision step
};

struct PbtRank {
  int rank = 0;                // 1 = best among `ranked`
  int ranked = 0;              // members with a score at the step
  std::optional<int> donor;    // the member to copy; nullopt: continue
};

// How many members the bottom and the top quantile hold among n: min(⌈q·n⌉, ⌊n/2⌋), so
// the two never overlap (n = 4, q = 0.25: 1; n = 16: 4; n = 1: 0).
int pbt_quantile_count(int n, double quantile);

// Truncation selection: ranks `scores` best first (by `direction`; NaN worst; ties go to
// the lower member number) and, if `member` is in the bottom quantile, draws its donor
// uniformly from the top quantile with a generator seeded by `seed`. Throws UsageError if
// `member` has no score.
PbtRank pbt_exploit(const std::vector<PbtScore>& scores, int member, double quantile,
                    Direction direction, std::uint64_t seed);

struct PbtExplored {
  Params params;                    // internal values, conditions applied
  json changes = json::object();    // {name: [old, new]} in user values (null: absent)
};

// Explore: for each parameter of `params` that options.explore allows, with
// probability resample_probability a new value from the prior (uniform on its scale);
// otherwise a float or int is multiplied by a factor drawn from options.factors on its
// scale (Parameter::scaled: clamped, on its grid). Choices change
// only by resampling. Parameters that a changed condition makes active are drawn from the
// prior; ones it makes inactive are dropped. Deterministic for a seed.
PbtExplored pbt_explore(const SearchSpace& space, const Params& params, const PbtOptions& options,
                        std::uint64_t seed);

// ---- The scheduler ----

// One segment to run: its parameters and its lineage (the "caviar:pbt" attribute):
// {"member", "segment", "step" (where it starts: the checkpoint's step), "stop",
//  "parent_trial" (the member's previous segment, or null), "restore_trial" (whose
//  checkpoint it restores, or null), "donor_trial", "donor_member" (null unless it
//  exploited), "rank", "ranked" (at the decision), "changes" ({name: [old, new]}),
//  "attempt" (1, 2, ... for reruns of a failed segment), "rerun_of" (or null)}.
struct PbtSegment {
  Params params;
  json lineage;
  std::string restore_source;  // the checkpoint folder to copy ("" on a first segment)
};

class PbtScheduler {
 public:
  // `sampler` draws the first members' parameters (member m is the sampler's trial m),
  // and its seed seeds the decisions; `retry`: a segment that fails is run again this
  // many times before its member stops.
  PbtScheduler(PbtOptions options, SearchSpace space, Direction direction,
               const SamplerOptions& sampler, int retry = 0);

  // The next segment to run, given the study's history (every trial, all states), or
  // nullopt when no member is ready (all running, finished at max_steps, or stopped by a
  // failure). Ready members go lowest start step first, then lowest member: the
  // population moves together even when fewer workers than members take turns. A member
  // whose last segment failed uncounted (stale, interrupted) runs it again with the same
  // parameters from the same checkpoint. `fixed`: parameters of an enqueued trial being
  // claimed; they seed the next new member. Safe to call from several threads.
  std::optional<PbtSegment> next(const std::vector<TrialRecord>& history, const Params& fixed = {}) const;

  // The checkpoint folders in `history` that no segment can restore any more: those of
  // failed segments, and of complete segments that ended at a step s < max_steps below
  // where every member stands (its latest complete segment's stop; a member stopped by
  // failures does not count). A decision at step s reads only checkpoints saved at s, and
  // a rerun restores the same one as the run it repeats. The final checkpoints (at
  // max_steps) and the best complete segment's are never listed. The Tuner removes these
  // unless options().keep_checkpoints.
  std::vector<std::string> superseded_checkpoints(const std::vector<TrialRecord>& history) const;

  const PbtOptions& options() const { return options_; }
  // The trials of a whole run without failures: population × segments.
  int planned_trials() const { return options_.population * options_.segments(); }

 private:
  PbtOptions options_;
  SearchSpace space_;
  Direction direction_;
  std::uint64_t seed_;
  int retry_;
  std::shared_ptr<Sampler> sampler_;
};

// ---- The lineage attribute ----

// The lineage a segment trial stores (its "caviar:pbt" attribute, described at PbtSegment),
// or nullptr if the trial is not a segment.
const json* pbt_lineage_of(const TrialRecord& trial);
// A whole-number field of a segment's lineage (PBT's or a babysat model's), or `fallback` if it
// is absent or not a whole number.
std::int64_t lineage_int(const json& lineage, const char* key, std::int64_t fallback = 0);

}  // namespace caviar
