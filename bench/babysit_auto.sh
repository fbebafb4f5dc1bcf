#!/bin/sh
# Babysitting with --auto (issue 31; docs/benchmarks.md, "Babysitting"): the built-in MLP on
# Fashion-MNIST started with a learning rate ten times the tuned one, every other value
# as tuned, and `caviar babysit --auto` left to steer it for at most twice the tuned
# epochs; beside it, in the same run, the tuned configuration trained for its epochs.
# The goal: the babysat model's test accuracy (its last segment's) within 0.5 points of
# the tuned one's.
#
# The tuned configuration is the best trial of `make demo` (examples/fashion-mnist.yaml,
# trial #15 at ad296d0): adam, lr 0.001015, beta1 0.9731, beta2 0.9997, decay 0.008417,
# 3 layers of 486 units, batch 64, 12 epochs.
#
#   bench/babysit_auto.sh build/caviar [WORK_DIR]
set -eu
caviar=$(readlink -f "${1:?usage: bench/babysit_auto.sh path/to/caviar [work dir]}")
work=${2:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"
tuned="--beta1 0.9731 --beta2 0.9997 --decay 0.008417 --layers 3 --units 486 --batch-size 64 --optimizer adam"

echo "tuned: caviar train --lr 0.001015 $tuned --epochs 12" >&2
start=$(date +%s)
"$caviar" train --lr 0.001015 $tuned --epochs 12 --threads 1 > tuned.log
tuned_s=$(( $(date +%s) - start ))
tuned_acc=$(sed -n 's/.*test_acc=\([0-9.]*\).*/\1/p' tuned.log | tail -1)

cat > babysit.yaml <<YAML
study: babysit-auto
storage: sqlite:///babysit.db
direction: maximize
metric: val_acc
objective:
  builtin: mlp
  args: {dataset: fashion-mnist, threads: 1}
parameters:
  lr:         {type: float, low: 1.0e-4, high: 0.1, scale: log}
  units:      {type: int, low: 32, high: 512, scale: log}
  batch_size: {type: choice, values: [32, 64, 128, 256]}
  layers:     {type: int, low: 1, high: 3}
  decay:      {type: float, low: 1.0e-3, high: 1, scale: log}
  optimizer:  {type: choice, values: [momentum, adam]}
  beta1:      {type: float, low: 0.8, high: 0.99, scale: reverse_log}
  beta2:      {type: float, low: 0.99, high: 0.9999, scale: reverse_log}
YAML
echo "babysat: caviar babysit --auto --epochs 24 from lr 0.01015" >&2
start=$(date +%s)
"$caviar" babysit babysit.yaml --auto --epochs 24 --budget 24 --set lr=0.01015 beta1=0.9731 beta2=0.9997 decay=0.008417 \
  layers=3 units=486 batch_size=64 optimizer=adam 2> babysit.log > babysit.out
babysit_s=$(( $(date +%s) - start ))
"$caviar" babysit status babysit.yaml --format json > tree.json
"$caviar" babysit status babysit.yaml > tree.txt
python3 - "$tuned_acc" "$tuned_s" "$babysit_s" <<'PY'
import json, sys
tuned, tuned_s, babysit_s = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
tree = json.load(open("tree.json"))
curve = tree["curve"]
last = curve[-1]
changes = [s for s in tree["segments"] if s["origin"] not in ("continue", "start")]
trained = sum(s["stop"] - s["step"] for s in tree["segments"])
print("| run | epochs trained in all | the model's step | test accuracy | seconds |")
print("|---|---:|---:|---:|---:|")
print(f"| tuned (lr 0.001015) | 12 | 12 | {tuned:.4f} | {tuned_s} |")
print(f"| babysat --auto from lr 0.01015 | {trained} | {last['step']} | {last['test_acc']:.4f} | {babysit_s} |")
print()
for s in changes:
    ch = ", ".join(f"{k} {v[0]:.4g} -> {v[1]:.4g}" if isinstance(v[0], float) else f"{k} {v[0]} -> {v[1]}" for k, v in s["changes"].items())
    print(f"- step {s['step']}: {s['origin']}: {ch} ({s['note']})")
gap = (tuned - last["test_acc"]) * 100
print()
print(f"gap: {gap:.2f} points (goal: at most 0.5) -> {'met' if gap <= 0.5 else 'NOT met'}")
PY
