#!/usr/bin/env bash
# Report.RendersInHeadlessChromium: tunes a small real study (a command objective that
# prints a learning curve, a median pruner, the zoom sampler), writes `caviar report`, and
# opens the page in headless Chromium with the network refused (report_in_browser.mjs).
# Leaves a screenshot of the page in the build folder.
#   report_in_browser.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
source_dir=$(realpath "$2")
caviar=$build/caviar
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# loss: a bowl in log10(lr) and log10(1 - beta) (when the optimizer has a beta), plus
# small terms for layers and the optimizer; each step prints a higher value that falls
# to the final one, as a training curve would.
cat >objective.sh <<'SH'
lr=$CAVIAR_PARAM_LR beta=${CAVIAR_PARAM_BETA:-0.99} layers=$CAVIAR_PARAM_LAYERS opt=$CAVIAR_PARAM_OPTIMIZER
final=$(awk -v lr="$lr" -v beta="$beta" -v layers="$layers" -v opt="$opt" 'BEGIN {
  a = log(lr) / log(10) + 2.5; b = log(1 - beta) / log(10) + 2
  printf "%.6f", a * a + 0.5 * b * b + 0.1 * (layers - 2) ^ 2 + (opt == "sgd" ? 0.3 : 0) }')
for step in 1 2 3 4 5; do
  awk -v f="$final" -v s="$step" 'BEGIN { printf "epoch=%d loss=%.6f\n", s, f + (5 - s) * 0.25 * (1 + f) }'
  sleep 0.05
done
SH
cat >study.yaml <<'YAML'
study: report-test
storage: sqlite:///study.db
metric: loss
objective:
  command: [sh, objective.sh]
parameters:
  lr:        {type: float, low: 1.0e-4, high: 1, scale: log}
  optimizer: {type: choice, values: [sgd, momentum]}
  beta:      {type: float, low: 0.8, high: 0.999, scale: reverse_log, when: "optimizer == momentum"}
  layers:    {type: int, low: 1, high: 4}
sampler: {name: zoom, round: 12, rounds: 3, seed: 1}
pruner:  {name: median, warmup_steps: 1, min_trials: 4}
budget:  {trials: 36, parallel: 2}
YAML
"$caviar" tune study.yaml -q >tune.log 2>&1 || { cat tune.log; exit 1; }
pruned=$("$caviar" trials study.yaml --state pruned --format csv | tail -n +2 | wc -l)
complete=$("$caviar" trials study.yaml --state complete --format csv | tail -n +2 | wc -l)
echo "study: $complete complete, $pruned pruned"
[ "$pruned" -gt 0 ] || { echo "FAIL: the test study has no pruned trial"; exit 1; }

# The command line: --help, a missing study (exit 2, nothing written), the report.
"$caviar" report --help | grep -q -- "--out"
rc=0; "$caviar" report --storage sqlite:///study.db --study nope --out nope.html 2>err.txt || rc=$?
[ "$rc" -eq 2 ] && grep -q "not found" err.txt && [ ! -e nope.html ] ||
  { echo "FAIL: a missing study gave rc=$rc: $(cat err.txt)"; exit 1; }
printed=$("$caviar" report --storage sqlite:///study.db --study report-test --out report.html)
[ "$printed" = report.html ] || { echo "FAIL: caviar report printed '$printed'"; exit 1; }
echo "report: $(du -k report.html | cut -f1) KiB"

# Two edge cases through ask/tell: choices only without intermediate values, and a study
# whose only trial is still running (no complete trial).
cat >choices.yaml <<'YAML'
study: choices-only
storage: sqlite:///choices.db
metric: loss
objective:
  command: [sh, -c, "echo loss=1"]
parameters:
  act:   {type: choice, values: [relu, tanh, gelu]}
  batch: {type: choice, values: [32, 64]}
sampler: {name: random, seed: 2}
YAML
for i in 0 1 2 3 4 5; do
  "$caviar" ask choices.yaml >/dev/null
  "$caviar" tell choices.yaml --trial "$i" --value "0.$((i * 7 % 10))$i"
done
"$caviar" report choices.yaml --out choices.html >/dev/null
sed -e 's/choices-only/none-complete/' -e 's/choices.db/none.db/' choices.yaml >none.yaml
"$caviar" ask none.yaml >/dev/null
"$caviar" report none.yaml --out none.html >/dev/null
# A re-tuning of the first study (the same problem): its page draws the verdict too.
rc=0; "$caviar" retune study.yaml --from report-test --study report-retuned --trials 12 -q >retune.log 2>&1 || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 10 ] || { cat retune.log; exit 1; }
"$caviar" report --storage sqlite:///study.db --study report-retuned --out retuned.html >/dev/null

# report.html, 4 parameters: history, importance, 6 pairs, 4 slices, parallel coordinates,
# curves. choices.html, 2 parameters: history, importance, 1 pair, 2 slices, parallel
# coordinates, a note for the curves. none.html: notes only. retuned.html: report.html's
# plots and the verdict's two (the old best old against new, the importance old and new).
cat >cases.json <<JSON
[{"html": "report.html", "screenshot": "$build/report-screenshot.png", "plots": 14, "rounds": 3, "curves": true, "complete": true},
 {"html": "choices.html", "plots": 6, "rounds": 0, "curves": false, "complete": true},
 {"html": "none.html", "plots": 0, "rounds": 0, "curves": false, "complete": false},
 {"html": "retuned.html", "plots": 16, "rounds": 1, "curves": true, "complete": true, "retune": true}]
JSON
node "$source_dir/tests/report_in_browser.mjs" "$source_dir" cases.json
