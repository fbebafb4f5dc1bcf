#!/usr/bin/env bash
# Installs caviar into a temporary prefix, then builds and runs examples/cpp against it
# through find_package(caviar): the library, headers and CMake package a user gets.
set -euo pipefail
build=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -x "$work/prefix/bin/caviar"
test -f "$work/prefix/include/caviar/study.h"
"$work/prefix/bin/caviar" --help >/dev/null
cmake -S "$source_dir/examples/cpp" -B "$work/example" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/example" -j 2 >/dev/null
out=$("$work/example/tune_quadratic")
echo "$out"
echo "$out" | grep -Eq '^best of 64 trials: loss [0-9.]+ at lr='
