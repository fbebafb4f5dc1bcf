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
# Which BLAS each side runs on, written beside the ratio: the libraries mapped into the
# process after one matrix product (PyTorch's may differ from caviar's OpenBLAS).
ours_blas=$(ldd "$build/bench/bench_trainer" | awk '/blas|lapack/ {print $3}' | xargs -r readlink -f | sort -u | tr '\n' ' ')
theirs_blas=$(OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -c '
import torch
a = torch.randn(64, 64); (a @ a).sum()
print(torch.__version__, " ".join(sorted({l.split()[-1] for l in open("/proc/self/maps")
      if any(k in l.lower() for k in ("blas", "mkl", "lapack"))})))')
echo "caviar's BLAS: $ours_blas"
echo "PyTorch $theirs_blas"
echo
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
