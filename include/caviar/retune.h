// Re-tuning when the data changed (`caviar retune CONFIG --from OLD`, docs/cli.md): a new
// study linked to the old one that first runs the old study's best configurations on the
// new data, then goes on sampling. The verdict (does the old best still hold?) is
// compare_studies (caviar/compare.h).
//
// After them the study's sampler (auto, gp or tpe) is warm-started from the old study's
// trials with a weight learned as the new study runs (make_warm_start_sampler in
// caviar/sampler.h): a Study opened on a study holding the link loads the old trials
// itself, so every process tuning it samples alike.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "caviar/study.h"
#include "caviar/study_view.h"

namespace caviar {

// The `k` best complete trials of `trials` with distinct parameters (best first, by the
// one "best trial" rule: rankable, better for `direction`, the earlier on a tie).
std::vector<const TrialRecord*> best_distinct(const std::vector<TrialRecord>& trials, Direction direction, int k);

// Throws UsageError when a study with `study`'s options cannot re-tune `old` running its
// `k` best first: it is `old` (the same name), their directions differ, k < 0, or old has
// no complete trial (k > 0). Call it before the new study is opened, so
// that a refusal stores nothing; start_retune checks it again.
void check_retune(const StudyView& old, const StudyOptions& study, int k);

// Links `study` to `old` and enqueues old's `k` best configurations (in the new study's
// space: a parameter it does not have is dropped, a value outside it refused), once: a
// study that holds the link already is left as it is (a restarted re-tuning). The link is
// the study attribute "caviar:retune": {"from" (old's name), "time", "runs": [{"old_trial",
// "params"}]}. Returns the configurations enqueued now (none when linked already). Throws
// UsageError as check_retune does.
std::vector<json> start_retune(Study& study, const StudyView& old, int k);

// A re-tuned study's link to its old study, as stored in "caviar:retune": the old study's
// name and the old trials run first ({number, user params}).
struct RetuneLink {
  std::string from;
  std::vector<std::pair<int, json>> runs;
};
// `record`'s link, or nullopt when it has none (or a malformed one).
std::optional<RetuneLink> retune_link(const StudyRecord& record);

// The old study's complete trials in `space`'s internal values, as a sampler's prior
// (SamplerOptions::prior): a trial lacking a parameter `space` needs, or holding a value
// outside it, is left out, as are parameters `space` does not have.
std::shared_ptr<const std::vector<TrialRecord>> retune_prior(const StudyView& old, const SearchSpace& space);

// The prior of a study linked by "caviar:retune" (`record`'s attributes) to an old study in
// `storage`; null when it has no link or the old study is gone.
std::shared_ptr<const std::vector<TrialRecord>> linked_prior(const std::shared_ptr<Storage>& storage,
                                                             const StudyRecord& record, const SearchSpace& space);

}  // namespace caviar
