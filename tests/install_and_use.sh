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
# The Python package, where Debian's python3 finds it below the prefix (when built).
for package in "$work"/prefix/lib/python3*/dist-packages; do
  [ -d "$package/caviar" ] || continue
  out=$(cd "$work" && PYTHONPATH="$package" /usr/bin/python3 -c 'import caviar, caviar.optuna
s = caviar.Study(space={"x": {"type": "float", "low": 0, "high": 1}})
s.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=8)
print("python: %d trials from %s" % (len(s.trials), caviar.__file__))')
  echo "$out"
  echo "$out" | grep -q "^python: 8 trials from $package/caviar/__init__.py"
done
