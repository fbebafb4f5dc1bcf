// Zooming: coarse to fine. Sample the whole space, then sample again, more densely, inside
// the box that holds the best trials; repeat. This is the manual workflow of Andrew Ng's
// "Improving Deep Neural Networks", week 3, "Tuning process" ("coarse to fine": after a
// round of random trials, zoom into the region where the best ones are and sample more
// densely there), made automatic (the `zoom` sampler, docs/samplers.md) and kept manual
// (`caviar zoom`, docs/cli.md, which writes the narrowed space as a config to edit).
//
// The box is computed in each parameter's scale-transformed unit coordinates
// (Parameter::to_unit), so a log parameter zooms in decades, not in raw units:
//
//   1. keep the best ceil(keep · n) of the n complete trials, but at least two (ranked by
//      value for the study's direction); for a conditional parameter, the best of the m
//      complete trials where it is active, counted the same way (m < 2: its full range
//      stays; one trial is no evidence of where the good region is);
//   2. per numeric parameter, [lo, hi] = the smallest interval of the unit line holding
//      the kept values (for ints and stepped floats, the whole cells of the kept values);
//   3. widen each side by margin · max(hi − lo, min_width) and clip to [0, 1], so the
//      optimum is not cut off at the box's edge;
//   4. a choice keeps the values that appear among its kept trials.
//
// narrow() turns a box into a search space a person can read: the bounds are rounded
// outward to the fewest significant digits that widen the box by at most 25% on the
// parameter's scale (for log: 3.7e-4 -> 3e-4 below; for reverse_log the digits of 1 − x;
// for logit of x or 1 − x, whichever is nearer its end), ints stay ints, steps stay on
// the original grid, nothing leaves the original range, and `when` conditions follow the
// choices that are left.
#pragma once

#include <string>
#include <vector>

#include "caviar/sampler.h"
#include "caviar/space.h"
#include "caviar/trial.h"

namespace caviar {

// One parameter's part of a box.
struct ZoomRange {
  std::string name;
  double lo = 0, hi = 1;      // numeric: the unit-cube interval, 0 <= lo < hi <= 1
  std::vector<int> kept;      // choice: the kept choice indices, ascending
  int support = 0;            // trials the range was computed from (0: the full range)
};

struct ZoomBox {
  std::vector<ZoomRange> ranges;  // one per parameter, in the space's order
  int trials = 0;                 // complete trials considered
  int kept = 0;                   // of which kept as the best

  // The whole space (round 1).
  static ZoomBox whole(const SearchSpace& space);
  const ZoomRange* find(const std::string& name) const;

  // A point of the unit cube (one coordinate per parameter) mapped into the box: linearly
  // into [lo, hi] for numbers; uniformly among the kept values for choices. The result is
  // again a point of the whole space's unit cube, for SearchSpace::from_unit.
  std::vector<double> map(const SearchSpace& space, const std::vector<double>& u) const;
  // Whether a trial's params (internal values) lie in the box.
  bool contains(const SearchSpace& space, const Params& params) const;

  // {"<param>": {"low": <value>, "high": <value>} or {"values": [<choices>]}} in the
  // user's values: the smallest and largest value the box can produce.
  json to_json(const SearchSpace& space) const;
};

// The margin and floor of step 3, and the sampler's defaults (docs/samplers.md#zoom).
inline constexpr double kZoomDefaultKeep = 0.2;
inline constexpr double kZoomDefaultMargin = 0.1;
inline constexpr double kZoomMinWidth = 0.05;

// The box around the best `keep` fraction (0 < keep <= 1) of the complete trials in
// `trials` (other states are ignored). With no complete trial, the whole space. Throws
// UsageError for a keep or margin out of range.
ZoomBox zoom_box(const SearchSpace& space, const std::vector<TrialRecord>& trials,
                 Direction direction, double keep = kZoomDefaultKeep,
                 double margin = kZoomDefaultMargin);
// The same over a selection of trials (no copies).
ZoomBox zoom_box(const SearchSpace& space, const std::vector<const TrialRecord*>& trials,
                 Direction direction, double keep = kZoomDefaultKeep,
                 double margin = kZoomDefaultMargin);

// The search space inside `box`, with bounds rounded outward as described above.
// Parameters that can no longer be active (their condition names only dropped choices)
// are left out.
SearchSpace narrow(const SearchSpace& space, const ZoomBox& box);

// ---- The zoom sampler ----

// Coarse to fine (docs/samplers.md#zoom): trials [0, round) sample
// the whole cube; round r (trials [r·round, (r+1)·round)) samples inside the box around the
// best `keep` fraction of the complete trials numbered below r·round, widened by `margin`;
// from round `rounds` on, the last box is kept. Inside a box: Sobol points (one scrambled
// sequence per round) or, with inner_sobol = false, independent random points.
struct ZoomSettings {
  int round = 25;
  double keep = kZoomDefaultKeep;
  int rounds = 3;
  double margin = kZoomDefaultMargin;
  bool inner_sobol = true;
};
std::unique_ptr<Sampler> make_zoom_sampler(std::uint64_t seed, const ZoomSettings& settings = {});

}  // namespace caviar
