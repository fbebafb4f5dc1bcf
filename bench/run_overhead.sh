#!/bin/sh
# Overhead, caviar next to Optuna in one session: runs bench_overhead and
# optuna_overhead.py back to back on the same cases and prints both tables and the ratio
# caviar/Optuna of trials per second for each case. Both sides' SQLite run in WAL with
# synchronous=NORMAL (caviar's setting; optuna_overhead.py --wal), so they do the same work.
#
#   bench/run_overhead.sh [BUILD_DIR] [-- options for both, e.g. --sqlite-trials 500]
#
# BUILD_DIR defaults to ./build (the one holding bench/bench_overhead).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
bin="$build/bench/bench_overhead"
if [ ! -x "$bin" ]; then
  echo "run_overhead.sh: $bin not found; build it first (cmake --build $build --target bench_overhead)" >&2
  exit 2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin" "$@" | tee "$out/caviar.md"
echo
/usr/bin/python3 "$here/optuna_overhead.py" --wal "$@" | tee "$out/optuna.md"
echo
echo "| case | caviar trials/s | Optuna trials/s | caviar/Optuna |"
echo "|---|---:|---:|---:|"
awk -F'|' '
  FNR == 1 { file++ }
  /^\| [a-z]/ && $2 !~ /case/ {
    name = $2; gsub(/ /, "", name); rate = $5; gsub(/ /, "", rate)
    if (file == 1) { c[name] = rate; order[++n] = name } else o[name] = rate
  }
  END {
    for (i = 1; i <= n; i++) {
      k = order[i]
      if (k in o && o[k] > 0) printf "| %s | %s | %s | %.1fx |\n", k, c[k], o[k], c[k] / o[k]
    }
  }' "$out/caviar.md" "$out/optuna.md"
