// The system attributes caviar stores: its own facts about a study or a trial, kept in
// Optuna's study_system_attributes and trial_system_attributes tables (each value is
// JSON), so that Optuna's tools read the rest of the study as usual. This header is the
// one place each name is written; docs/storage.md lists them for users.
//
// Plain constants: safe to use from any thread.
#pragma once

namespace caviar::attr {

// ---- Study attributes ----

// The search space, as the list of config definitions (SearchSpace::to_config_json).
inline constexpr const char* kSpace = "caviar:space";
// Each time the space was changed on purpose (--allow-space-change):
// [{"changed": UTC time, "old": the space before, "changes": ["parameters.lr: was ..."]}].
inline constexpr const char* kSpaceChanges = "caviar:space_changes";
// The zoom sampler's boxes, round by round: {"rounds": [...]}.
inline constexpr const char* kZoom = "caviar:zoom";

// A request to the babysitter of the study's model (include/caviar/babysit.h), one per
// key: "caviar:babysit:control:<id>" = {"action", "params", "to", "time", "by", "note"}.
inline constexpr const char* kBabysitControl = "caviar:babysit:control:";

// A study made by `caviar retune --from OLD` (include/caviar/retune.h): {"from": OLD's
// name, "time", "runs": [{"old_trial", "params"}]: the old best configurations it ran first}.
inline constexpr const char* kRetune = "caviar:retune";
// The warm-started sampler of a re-tuning (make_warm_start_sampler in caviar/sampler.h),
// as of the last trial it sampled: {"weight", "rho", "trials", "prior", "old", "offset"}.
inline constexpr const char* kWarmStart = "caviar:warm_start";

// ---- Trial attributes ----

// Why a trial failed or stopped, as one line a person reads.
inline constexpr const char* kReason = "caviar:reason";
// The kind of failure that caviar itself caused: "stale" (its owner stopped beating) or
// "interrupted" (caviar was stopped while it ran).
inline constexpr const char* kFailure = "caviar:failure";
// true: the failure does not use up the study's trial budget (TrialRecord::counted).
inline constexpr const char* kUncounted = "caviar:uncounted";
// Who runs a trial: {"host", "boot_id", "pid_ns", "pid", "start"} of the process that
// started it and beats for it. A trial whose owner is on this machine and gone is failed at
// once as stale, without waiting for stale_after (docs/storage.md).
inline constexpr const char* kOwner = "caviar:owner";
// A rerun of a failed trial: which attempt this is (1 for the first run) and the number
// of the trial it repeats.
inline constexpr const char* kAttempt = "caviar:attempt";
inline constexpr const char* kRetryOf = "caviar:retry_of";
// A failed trial that was run again on request (`caviar tune --rerun-failed`): the number
// of the trial that repeats it. The failed trial is then uncounted.
inline constexpr const char* kRerunAs = "caviar:rerun_as";

// A command trial: its private folder, the last lines of its stderr, its exit code or the
// signal that ended it, and its wall-clock seconds (also set by the built-in trainer).
inline constexpr const char* kTrialDir = "caviar:trial_dir";
inline constexpr const char* kStderrTail = "caviar:stderr_tail";
inline constexpr const char* kExitCode = "caviar:exit_code";
inline constexpr const char* kSignal = "caviar:signal";
inline constexpr const char* kSeconds = "caviar:seconds";
// The devices a trial had to itself (resources.gpus, include/caviar/config.h): ["2", "3"].
inline constexpr const char* kGpus = "caviar:gpus";
// Every `name=number` a command trial printed on stdout, by step: {"3": {"val_loss": 0.31,
// "val_acc": 0.88}, ...} (docs/protocol.md). The metric itself is also in Optuna's
// intermediate values; this keeps the rest.
inline constexpr const char* kMetrics = "caviar:metrics";

// The built-in trainer: the learning curve, one entry per epoch, and the accuracy and loss
// of the best epoch's weights on the held-out test set.
inline constexpr const char* kEpochs = "caviar:epochs";
inline constexpr const char* kTestAcc = "caviar:test_acc";
inline constexpr const char* kTestLoss = "caviar:test_loss";

// A segment of a model that is continued from a checkpoint (PBT, include/caviar/pbt.h):
// its lineage, where it leaves its checkpoint, and the checkpoint folder it restores.
inline constexpr const char* kPbt = "caviar:pbt";
// A segment of a babysat model (include/caviar/babysit.h): its lineage.
inline constexpr const char* kBabysit = "caviar:babysit";
inline constexpr const char* kCheckpointDir = "caviar:checkpoint_dir";
inline constexpr const char* kRestoreSource = "caviar:restore_source";

}  // namespace caviar::attr
