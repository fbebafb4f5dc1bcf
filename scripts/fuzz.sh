#!/usr/bin/env bash
# Fuzzes caviar's readers with libFuzzer (docs/testing.md). Builds the fuzz targets of
# fuzz/ with clang++, ASan and UBSan in build-fuzz, then runs each for SECONDS (default
# 600), FUZZ_JOBS (default 2) at a time, from its committed corpus fuzz/corpus/<target>/.
# New inputs go to build-fuzz/corpus/<target>/, findings to build-fuzz/findings/<target>/,
# logs to build-fuzz/logs/. Prints per target: executions, coverage, corpus, findings.
# To keep new inputs: fuzz_<target> -merge=1 fuzz/corpus/<target> build-fuzz/corpus/<target>.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(config_reader metric_lines storage_url optuna_distribution reaper_reader)
jobs=${FUZZ_JOBS:-2}
out=build-fuzz

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CXX=clang++ cmake -S . -B $out -DCMAKE_BUILD_TYPE=Release -DCAVIAR_FUZZ=ON \
  -DCAVIAR_BUILD_TESTS=OFF -DCAVIAR_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build $out -j "$jobs" --target "${targets[@]/#/fuzz_}"

fuzz() {  # one target, for $seconds
  local t=$1 dict=()
  rm -rf $out/findings/$t
  mkdir -p $out/corpus/$t $out/findings/$t $out/logs
  [ -f fuzz/dict/$t.dict ] && dict=(-dict=fuzz/dict/$t.dict)
  # A finding: an escaped exception, a sanitizer's report, more than 10 s for one input or
  # more than 2 GiB of memory. Inputs up to 8 KiB.
  $out/fuzz/fuzz_$t -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -artifact_prefix=$out/findings/$t/ "${dict[@]}" \
    $out/corpus/$t fuzz/corpus/$t >$out/logs/$t.log 2>&1 || true
}
running=0
for t in "${targets[@]}"; do
  fuzz "$t" &
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

status=0
printf '%-22s %12s %8s %8s %8s %s\n' target executions exec/s cov corpus findings
for t in "${targets[@]}"; do
  log=$out/logs/$t.log
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || echo '?')
  corpus=$(ls $out/corpus/$t | wc -l)
  findings=$(ls $out/findings/$t | wc -l)
  [ "$findings" -eq 0 ] || status=1
  printf '%-22s %12s %8s %8s %8s %s\n' "$t" "$execs" "$rate" "$cov" "$corpus" "$findings"
done
exit $status
