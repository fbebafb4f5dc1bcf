// The tuner's side of a segment trial (src/run/segment.h).
#include "run/segment.h"

#include <filesystem>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/pbt.h"
#include "caviar/tuner.h"

namespace caviar {

namespace fs = std::filesystem;

namespace detail {

TrialDraft segment_draft(Params params, const char* key, json lineage, const std::string& restore_source,
                         const fs::path& trial_root, int number) {
  TrialDraft draft{std::move(params), {{key, std::move(lineage)}}};
  draft.system_attrs[attr::kCheckpointDir] = fs::absolute(trial_dir(trial_root, number) / "checkpoint").string();
  if (!restore_source.empty()) draft.system_attrs[attr::kRestoreSource] = restore_source;
  return draft;
}

std::string prepare_segment(const TrialRecord& trial, const json* lineage, TrialContext& context) {
  if (!lineage) return "not a segment (no caviar:pbt or caviar:babysit attribute)";
  context.start_at = lineage_int(*lineage, "step");
  context.stop_at = lineage_int(*lineage, "stop");
  context.checkpoint_dir = trial.system_attrs.value(attr::kCheckpointDir, "");
  if (context.checkpoint_dir.empty()) context.checkpoint_dir = fs::absolute(context.trial_dir / "checkpoint");
  std::error_code ec;
  fs::remove_all(context.checkpoint_dir, ec);
  fs::create_directories(context.checkpoint_dir, ec);
  if (ec) return fmt::format("cannot create the checkpoint folder {}: {}", context.checkpoint_dir.string(), ec.message());
  const std::string source = trial.system_attrs.value(attr::kRestoreSource, "");
  if (source.empty()) return "";
  const std::string from = fmt::format("trial #{}'s checkpoint {}", lineage_int(*lineage, "restore_trial", -1), source);
  if (!fs::is_directory(source) || fs::is_empty(source, ec))
    return fmt::format("cannot restore {}: the folder is missing or empty", from);
  const fs::path copy = context.trial_dir / "restore";
  fs::remove_all(copy, ec);
  fs::create_directories(context.trial_dir, ec);
  fs::copy(source, copy, fs::copy_options::recursive, ec);
  if (ec) return fmt::format("cannot copy {} to {}: {}", from, copy.string(), ec.message());
  context.restore_from = fs::absolute(copy);
  return "";
}

std::string check_segment(const std::map<std::int64_t, double>& reports, const TrialContext& context,
                      std::int64_t max_steps) {
  if (!context.stop_at) return "";
  const std::int64_t stop = *context.stop_at;
  if (reports.empty()) return "the segment reported nothing";
  const std::int64_t first = reports.begin()->first, last = reports.rbegin()->first;
  if (first <= context.start_at)
    return fmt::format("the segment reported step {}, but it continues a checkpoint from step {}: it should "
                       "restore $CAVIAR_RESTORE_FROM and report steps {}..{} (print the step key)",
                       first, context.start_at, context.start_at + 1, stop);
  if (last != stop)
    return fmt::format("the segment's last report was at step {}, not at its stop step {} ($CAVIAR_STOP_AT)",
                       last, stop);
  std::error_code ec;
  if (stop < max_steps && (!fs::is_directory(context.checkpoint_dir) || fs::is_empty(context.checkpoint_dir, ec)))
    return fmt::format("the segment left no checkpoint in $CAVIAR_CHECKPOINT_DIR ({}); the member's next "
                       "segment needs it", context.checkpoint_dir.string());
  return "";
}

void cleanup_segment(const TrialContext& context) {
  if (context.restore_from.empty()) return;
  std::error_code ec;
  fs::remove_all(context.restore_from, ec);
}

}  // namespace detail
}  // namespace caviar
