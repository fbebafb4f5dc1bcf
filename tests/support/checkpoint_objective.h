// Test support: a trial command that follows the checkpoint protocol (docs/protocol.md),
// for the tests of PBT's and babysitting's segments, and a command line's JSON answer.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "caviar/trial.h"
#include "support/cli.h"
#include "support/files.h"

namespace caviar::testing {

// A trial command whose "loss" lives in its checkpoint: it starts at 10 (or at the
// restored value) and falls by lr every epoch. awk prints 17 digits, so the values that
// caviar stores are the exact doubles.
inline std::filesystem::path write_objective(const std::filesystem::path& dir) {
  const std::filesystem::path script = dir / "obj.sh";
  write_file(script, R"(#!/bin/sh
loss=10; epoch=0
if [ -n "$CAVIAR_RESTORE_FROM" ]; then read loss epoch < "$CAVIAR_RESTORE_FROM/state" || exit 4; fi
if [ "$epoch" != "$CAVIAR_START_AT" ]; then echo "restored epoch $epoch, not $CAVIAR_START_AT" >&2; exit 3; fi
exec awk -v loss="$loss" -v e="$epoch" -v stop="$CAVIAR_STOP_AT" -v lr="$CAVIAR_PARAM_LR" \
  -v out="$CAVIAR_CHECKPOINT_DIR/state" -v nap="${NAP:-0}" 'BEGIN {
  while (e < stop) {
    e++; loss -= lr; printf "epoch=%d loss=%.17g\n", e, loss; fflush()
    if (nap > 0) system("sleep " nap)
  }
  printf "%.17g %d\n", loss, e > out; close(out) }'
)");
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  return script;
}

// caviar with `args` in `dir`, which must exit 0; its stdout as JSON.
inline json cli_json(const std::filesystem::path& dir, std::vector<std::string> args) {
  CliResult run = run_caviar(dir, std::move(args));
  EXPECT_EQ(run.rc, 0) << run.describe();
  return json::parse(run.out);
}

}  // namespace caviar::testing
