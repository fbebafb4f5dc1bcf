#!/usr/bin/env bash
# Training throughput, caviar next to PyTorch in one session: alternates
# `bench_trainer` (784-256-256-10, Adam, batch 128, 1 thread) and the anchor script
# `trainer_anchor.py` (PyTorch on OpenBLAS), PAIRS times, and prints each pair's ratio.
#
#   bench/run_trainer.sh [BUILD_DIR] [PAIRS]      (needs: apt-get install python3-torch)
set -euo pipefail
build=${1:-build}
pairs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
anchor=${CAVIAR_SHARED:-$here/../../shared}/bench/trainer_anchor.py
data=/usr/share/datasets/fashion-mnist
[ -x "$build/bench/bench_trainer" ] || { echo "build $build/bench/bench_trainer first" >&2; exit 2; }
[ -f "$anchor" ] || { echo "trainer_anchor.py not found at $anchor (set CAVIAR_SHARED)" >&2; exit 2; }
echo "| pair | load | caviar samples/s | PyTorch samples/s | ratio |"
echo "|---:|---:|---:|---:|---:|"
for i in $(seq 1 "$pairs"); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  ours=$("$build/bench/bench_trainer" --epochs 3 --threads 1 | awk -F'|' '/^\| 1 \|/ {gsub(/ /, "", $3); print $3}')
  theirs=$(ANCHOR_OUT=$(mktemp) OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 THREADS=1 /usr/bin/python3 "$anchor" "$data" 3 2>/dev/null |
           /usr/bin/python3 -c 'import sys, json, statistics
rows = [json.loads(l) for l in sys.stdin if l.startswith("{")]
print(round(statistics.median(r["samples_per_s"] for r in rows)))')
  echo "| $i | $load | $ours | $theirs | $(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }') |"
done
