#!/usr/bin/env bash
# Runs every test through CTest. Called by `make test` after the build.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 600
