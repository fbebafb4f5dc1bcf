// Comparing two studies of one problem (`caviar compare OLD NEW`, and the verdict of a
// re-tuning on new data, docs/cli.md): does the old best configuration still hold on the
// new study's data, or did the new study find a better one, and did the parameters'
// importance change?
//
// "The old best on the new data" is the new study's complete trial with exactly the old
// best trial's parameters (a re-tuning runs it first); without one, the old best's value
// on the old study stands in for it, and the comparison says so.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caviar/importance.h"
#include "caviar/space.h"
#include "caviar/storage.h"
#include "caviar/study_view.h"
#include "caviar/trial.h"

namespace caviar {

struct CompareOptions {
  // The old configuration holds while the new best is better than it by at most this
  // much (in the metric's units; >= 0).
  double tolerance = 0;
  ImportanceOptions importance;  // for the rankings (pairs are not measured)
};

// One side: a study, its space and trials.
struct ComparedStudy {
  StudyRecord record;
  SearchSpace space;
  std::vector<TrialRecord> trials;
};

// A stored study as one side of a comparison: its record, space and trials, read now.
ComparedStudy compared(const StudyView& study);

// {"old": {"study", "trials", "best": {"number", "value", "params"} or null},
//  "new": {"study", "trials", "best": ..., "old_best_here": {"number", "value"} or null},
//  "baseline": the old best's value on the new data (or, without it, on the old data),
//  "baseline_from": "new" | "old", "gain": how much better the new best is than the
//  baseline (positive: better; null without both), "tolerance",
//  "verdict": "holds" | "better" | "unknown" (no complete trial on one side),
//  "importance": [{"name", "old_share", "old_rank", "new_share", "new_rank"}] (null shares
//  where a side has too few trials), "importance_note": why a side has none, or ""}.
// The direction is the new study's; a study with another direction throws UsageError, as
// does a negative tolerance.
json compare_studies(const ComparedStudy& old_study, const ComparedStudy& new_study, const CompareOptions& options = {});

// The old study a re-tuned study links to (its "caviar:retune" attribute, caviar/retune.h),
// read now from `storage`; null without a link or when the old study is gone.
std::shared_ptr<const ComparedStudy> linked_old_study(const std::shared_ptr<Storage>& storage, const StudyRecord& study);

// A re-tuning's verdict as the report and the dashboard draw it: compare_studies(old, new)
// with "runs": the old best configurations the re-tuning ran first, each {"old_trial",
// "old_value", "new_trial", "new_value"} (values null where not complete), and
// "warm_start": the warm-started sampler's last note ({weight, rho, trials, prior, old}) or
// null.
json retune_verdict_data(const ComparedStudy& old_study, const ComparedStudy& new_study);

}  // namespace caviar
