// Babysitting one model (the seed's "panda"): a single model trained a few steps at a time,
// each stretch a *segment* trial that continues the previous one's checkpoint (PBT's
// segments and checkpoint protocol, include/caviar/pbt.h), so that between two segments
// a person, or caviar's suggestions, may change its hyperparameters, pause it, or go back
// to an earlier checkpoint and continue from there on a new *branch*.
//
// Everything is stored in the study, nothing lives in the babysitting process:
//   the segments   trials with the system attribute "caviar:babysit" (their lineage:
//                  segment, step, stop, branch, parent_trial, restore_trial, changes,
//                  origin, controls, rejected, note, rerun_of; see BabysitDecision);
//   the controls   what a person asked for (set, rollback, pause, resume, stop), one study
//                  system attribute each, "caviar:babysit:control:<id>" (BabysitControl),
//                  written by `caviar babysit set ...` or the dashboard while the model
//                  trains or while nothing runs;
// and babysit_next() turns them into the next segment, a pure function of what is
// stored, like a sampler: a babysitter killed at any moment starts again where the
// stored history says, and a control given while nothing ran is applied at the next
// start (docs/babysit.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "caviar/space.h"
#include "caviar/trial.h"

namespace caviar {

struct BabysitOptions {
  std::int64_t interval = 1;   // steps (epochs) per segment: a checkpoint after each
  std::int64_t max_steps = 0;  // train up to this step (>= 1); raise it to train on
  std::int64_t budget = 0;     // stop once the segments trained this many steps in all
                               // (every branch: steps a rollback left behind count); 0: none
  bool auto_apply = false;     // apply each suggestion at once (`--auto`)
  int patience = 2;            // steps since the last change before caviar suggests
  std::string lr;              // the learning-rate parameter; "": the first float named
                               // lr, learning_rate, alpha or eta
};

// One request to the babysitter.
struct BabysitControl {
  std::string id;                   // sorts in the order given (see make_babysit_control)
  std::string action;               // set | rollback | pause | resume | stop
  json params = json::object();     // set, rollback: {name: user value}
  std::optional<std::int64_t> to;   // rollback: continue the checkpoint saved at this step
  std::string time;                 // when it was given, UTC ISO 8601
  std::string by;                   // "cli", "dashboard" or "suggestion"
  std::string note;                 // an accepted suggestion's words
};

// A new control with a fresh id: the UTC time in nanoseconds (20 digits), '-', 8 random
// hex digits. Throws UsageError for an unknown action, a set without parameters or a
// rollback without `to` (or `to` < 0).
BabysitControl make_babysit_control(const std::string& action, json params = json::object(),
                                    std::optional<std::int64_t> to = std::nullopt,
                                    const std::string& by = "cli", const std::string& note = "");
// Where a control is stored (the study attribute's key) and its stored value.
std::string babysit_control_key(const BabysitControl& control);
json babysit_control_json(const BabysitControl& control);
// Every control stored in a study's system attributes, by id; malformed entries skipped.
std::vector<BabysitControl> babysit_controls(const json& study_system_attrs);

// The pause in force: when it was given (the last pause or resume given is a pause), or
// nullopt. And the first stop given after `started` (the id from which a babysitter
// listens), or nullptr: a stop is for the babysitter that runs when it is given.
std::optional<std::string> babysit_paused_since(const std::vector<BabysitControl>& controls);
inline constexpr const char* kBabysitPaused = "paused: `caviar babysit resume` continues it";
const BabysitControl* babysit_stop_after(const std::vector<BabysitControl>& controls, const std::string& started);

// Checks a set or rollback's values against the space and the parameters a checkpoint
// fixes (`fixed`: the built-in trainer's network shape and optimizer); returns them as
// internal values. Throws UsageError naming the parameter.
Params babysit_values(const SearchSpace& space, const json& params, const std::vector<std::string>& fixed);

// ---- The curve ----

// One step of the model's current branch.
struct BabysitPoint {
  std::int64_t step = 0;
  int trial = 0;                       // the segment that reported it
  std::optional<double> value;         // the study's metric
  std::optional<double> train_loss, val_loss, val_acc;
  std::optional<double> test_acc;      // at a segment's last step, when it reported one
  std::string time;                    // when its segment ended (UTC)
};

// The run as stored: its segments by number; `last` the latest that counts (not a failure
// caviar caused: stale, interrupted); `head` the latest complete one on the current branch;
// `path` head's chain of complete segments from the first; `curve` their steps.
struct BabysitRun {
  std::vector<const TrialRecord*> segments;
  const TrialRecord* last = nullptr;
  const TrialRecord* head = nullptr;
  std::vector<const TrialRecord*> path;
  std::vector<BabysitPoint> curve;
};
// `history`: every trial of the study. The pointers point into it (so not a temporary).
BabysitRun babysit_run(const std::vector<TrialRecord>& history);
BabysitRun babysit_run(std::vector<TrialRecord>&& history) = delete;

// The complete segment of the current branch that ended at `step` (its checkpoint), or
// nullptr for step 0 (from scratch). Throws UsageError listing the steps there are.
const TrialRecord* babysit_checkpoint_at(const BabysitRun& run, std::int64_t step);
// Checks a control against the model as it stands (what `caviar babysit set|rollback` and
// the dashboard do before storing one): its values (babysit_values) and, for a rollback,
// a checkpoint at `to` on the current branch. Throws UsageError.
void babysit_check(const SearchSpace& space, const BabysitRun& run, const BabysitControl& control,
                   const std::vector<std::string>& fixed);

// The test accuracy a segment ended with: the built-in trainer's "caviar:test_acc", else a
// test_acc (or test_accuracy) the command printed at its last step; nullopt if neither.
std::optional<double> segment_test_acc(const TrialRecord& trial);

// The lineage a babysat segment stores ("caviar:babysit"), or nullptr.
const json* babysit_lineage_of(const TrialRecord& trial);

// ---- Suggestions ----

struct BabysitSuggestion {
  std::string kind;                 // failed | diverging | overfitting | restart | plateau
  json params = json::object();     // {name: new user value}
  std::optional<std::int64_t> to;   // go back to this step's checkpoint first
  std::string words;                // what caviar saw and proposes, in one sentence
};

// Reads the current branch's curve and proposes the next nudge, or nullopt (keep going):
//   failed       the last segment failed (a divergence, a crash): lower the learning rate
//                threefold and go back to the last checkpoint;
//   diverging    the training loss (the metric, if no training loss is reported) rose at
//                each of the last two steps and stands above 1.25 times its lowest:
//                lower the learning rate threefold, back to the best step's checkpoint;
//   overfitting  the validation loss rose while the training loss fell over the last
//                `patience` steps and the metric has not improved: triple weight_decay
//                or l2 (or dropout + 0.1) if the space has one;
//   restart      a plateau, on a branch that began at step 0 with a learning rate at
//                least 8 times the one it has now, at most halfway to max_steps: start
//                over from step 0 with the rate it has now (its first steps trained
//                with a rate far too high);
//   plateau      the metric has not improved by 0.1 % in the last `patience` steps:
//                lower the learning rate threefold (a decay by hand).
// Only when at least `patience` steps were trained since the last change (a change needs
// time to show), except `failed`. Learning-rate nudges need a learning-rate parameter
// (BabysitOptions::lr) that is not already at its lowest.
std::optional<BabysitSuggestion> babysit_suggest(const SearchSpace& space, Direction direction,
                                                 const BabysitOptions& options, const BabysitRun& run,
                                                 const std::string& metric);

// ---- The next segment ----

struct BabysitDecision {
  enum class Kind {
    Run,      // run the segment below
    Busy,     // another babysitter is running a segment of this run (`message`)
    Paused,   // a pause is in force; wait for resume
    Stopped,  // a stop given since `started` (the babysitter's own start)
    Done,     // the current branch reached max_steps, or the run its budget
    Failed,   // the last segment failed and nothing says what to change (`message`)
  };
  Kind kind = Kind::Run;
  std::string message;
  // Run: the segment's parameters, its lineage ("caviar:babysit"):
  //   {"segment" (0, 1, ... in the order run), "step" (where it starts: the checkpoint's
  //    step), "stop", "branch" (0, then one more per rollback), "parent_trial" (the
  //    segment before it: the last that counts, or null), "restore_trial" (whose
  //    checkpoint it continues, or null), "changes" ({name: [old, new]} user values),
  //    "origin" (start | continue | set | rollback | suggestion | auto), "controls" (the
  //    ids of the controls it applies), "rejected" ([{id, why}]: controls that could not
  //    apply), "note" (a suggestion's words), "rerun_of" (the segment caviar failed that
  //    it runs again, or null)}
  // and the checkpoint folder to copy ("" from scratch).
  Params params;
  json lineage;
  std::string restore_source;
};

// The next step of the run in `history` (every trial of the study, all states; stale
// trials already failed), given the study's controls: a segment that caviar failed
// (stale, interrupted) runs again exactly; else the controls not yet applied are applied
// in order (set: new values; rollback: back to the checkpoint at `to` on the current
// branch, a new branch; pause/resume: the last one given holds; a stop counts only if
// given after `started`, the id from which this babysitter listens); else, with
// options.auto_apply, the suggestion; else the next `interval` steps with the same
// values. `first`: the first segment's parameters when the run has none (`origin` says
// where they came from, stored as its "note"). A rollback continues with the values the
// checkpoint was trained with, then the ones it gives. Throws UsageError for a
// rollback to a step the branch has no checkpoint of, or values not in the space.
BabysitDecision babysit_next(const SearchSpace& space, Direction direction, const BabysitOptions& options,
                             const std::vector<TrialRecord>& history, const std::vector<BabysitControl>& controls,
                             const std::string& started, const Params& first, const std::string& origin,
                             const std::string& metric, const std::vector<std::string>& fixed = {});

}  // namespace caviar
