#!/usr/bin/env bash
# Dashboard.PagesInHeadlessChromium: tunes a small real study (a command objective that
# prints a learning curve, a median pruner, the zoom sampler) and writes a study with
# Optuna (Debian's python3-optuna) into the same SQLite file; serves it with `caviar
# dashboard`, and opens every page in headless Chromium (dashboard_in_browser.mjs) while a
# second `caviar tune` adds trials, so that a live update must arrive. Then the same store
# served off loopback refuses a page without the token. A babysat model's page gives it a
# pause with its button. Screenshots go to the build folder.
#   dashboard_in_browser.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(realpath "$1")
source_dir=$(realpath "$2")
caviar=$build/caviar
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

cat >objective.sh <<'SH'
lr=$CAVIAR_PARAM_LR layers=$CAVIAR_PARAM_LAYERS opt=$CAVIAR_PARAM_OPTIMIZER
final=$(awk -v lr="$lr" -v layers="$layers" -v opt="$opt" 'BEGIN {
  a = log(lr) / log(10) + 2.5
  printf "%.6f", a * a + 0.1 * (layers - 2) ^ 2 + (opt == "sgd" ? 0.3 : 0) }')
for step in 1 2 3 4 5; do
  awk -v f="$final" -v s="$step" 'BEGIN { printf "epoch=%d loss=%.6f acc=%.4f\n", s, f + (5 - s) * 0.25 * (1 + f), 1 / (1 + f) }'
  echo "step $step of 5" >&2
  sleep "${SLEEP:-0.02}"
done
SH
cat >study.yaml <<'YAML'
study: dashboard-test
storage: sqlite:///study.db?schema=v3.0.0.d   # so that Debian's Optuna 3.1 writes its study beside
metric: loss
objective:
  command: [sh, objective.sh]
parameters:
  lr:        {type: float, low: 1.0e-4, high: 1, scale: log}
  optimizer: {type: choice, values: [sgd, momentum]}
  layers:    {type: int, low: 1, high: 4}
sampler: {name: zoom, round: 10, rounds: 2, seed: 1}
pruner:  {name: median, warmup_steps: 1, min_trials: 4}
budget:  {trials: 24, parallel: 2}
YAML
"$caviar" tune study.yaml -q >tune.log 2>&1 || { cat tune.log; exit 1; }

# A study that Optuna wrote, in the same file: TPE, reports, a pruned trial.
/usr/bin/python3 - <<'PY'
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(study_name="optuna-written", storage="sqlite:///study.db",
                            direction="maximize", sampler=optuna.samplers.TPESampler(seed=3))
def objective(trial):
    x = trial.suggest_float("x", -3, 3)
    n = trial.suggest_int("n", 1, 64, log=True)
    kind = trial.suggest_categorical("kind", ["a", "b"])
    for step in range(3):
        trial.report(-(x * x) + step, step)
    if trial.number == 4:
        raise optuna.TrialPruned()
    return -(x * x) + n / 64 + (kind == "a")
study.optimize(objective, n_trials=12)
PY

# A babysat model in the same file (docs/babysit.md): its page has the controls.
cat >babysat.yaml <<'YAML'
study: babysat
storage: sqlite:///study.db
direction: maximize
metric: val_acc
objective:
  builtin: mlp
  args: {dataset: spirals, spiral_points: 300, layers: 1, units: 16, optimizer: adam, threads: 1}
parameters:
  lr: {type: float, low: 1.0e-4, high: 0.3, scale: log}
YAML
"$caviar" babysit babysat.yaml --epochs 3 --set lr=0.01 -q >babysit.log 2>&1 || { cat babysit.log; exit 1; }

"$caviar" dashboard --help | grep -q -- "--port"
"$caviar" dashboard --storage sqlite:///study.db --port 0 >dashboard.out 2>dashboard.err &
pids+=($!)
for _ in $(seq 100); do grep -q "http://" dashboard.out 2>/dev/null && break; sleep 0.1; done
base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' dashboard.out | head -1)
[ -n "$base" ] || { echo "FAIL: caviar dashboard printed no URL"; cat dashboard.out dashboard.err; exit 1; }
echo "dashboard at $base"

# Which study is which, from the API.
study_id() { curl -s "$base/api/studies" | /usr/bin/python3 -c "import json,sys; print([s['id'] for s in json.load(sys.stdin)['studies'] if s['name'] == '$1'][0])"; }
ours=$(study_id dashboard-test)
theirs=$(study_id optuna-written)
babysat=$(study_id babysat)

# The live part: more trials of our study while the pages are open, slowly enough that
# the browser sees them arrive.
SLEEP=0.3 "$caviar" tune study.yaml --trials 2000 -q >tune2.log 2>&1 &
pids+=($!)

cat >checks.json <<JSON
{"pages": [{"path": "/", "kind": "studies"},
           {"path": "/study/$ours", "kind": "study", "live": true},
           {"path": "/study/$ours/trial/0", "kind": "trial"},
           {"path": "/study/$theirs", "kind": "study"},
           {"path": "/study/$theirs/trial/4", "kind": "trial"},
           {"path": "/study/$babysat", "kind": "study", "babysit": true}],
 "missing": ["/study/999", "/study/$ours/trial/99999", "/nope"]}
JSON
CAVIAR_SCREENSHOTS=$build node "$source_dir/tests/dashboard_in_browser.mjs" "$source_dir" "$base" checks.json

# The babysat model's page gave a pause (its Pause button): stored in the study, by the dashboard.
"$caviar" babysit status babysat.yaml --format json | /usr/bin/python3 -c "
import json, sys
controls = json.load(sys.stdin)['controls']
assert [c['action'] for c in controls] == ['pause'] and controls[0]['by'] == 'dashboard', controls
print('the babysat model page stored a pause')"

# Off loopback: a token is printed and every request without it is refused.
"$caviar" dashboard --storage sqlite:///study.db --host 0.0.0.0 --port 0 >open.out 2>open.err &
pids+=($!)
for _ in $(seq 100); do grep -q "token=" open.out 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*token=[0-9a-f]*' open.out | head -1)
[ -n "$url" ] || { echo "FAIL: off loopback, no URL with a token"; cat open.out open.err; exit 1; }
port=$(echo "$url" | sed -E 's|http://[^:]*:([0-9]+)/.*|\1|')
refused=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/studies")
allowed=$(curl -s -o /dev/null -w '%{http_code}' "$url")
[ "$refused" = 403 ] && [ "$allowed" = 200 ] ||
  { echo "FAIL: off loopback: $refused without the token, $allowed with it"; exit 1; }
echo "off loopback: 403 without the token, 200 with it"
