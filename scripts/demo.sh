#!/usr/bin/env bash
# The main job: tune the example study on the embedded default storage (SQLite).
set -euo pipefail
caviar=${1:-build/caviar}
cd "$(dirname "$0")/.."
caviar=$(realpath "$caviar")
config=examples/quickstart/study.yaml
echo "== caviar tune $config"
"$caviar" tune "$config"
echo
echo "== caviar best $config"
"$caviar" best "$config"
echo
echo "Next: 'caviar trials $config' lists every trial; trial logs are under examples/quickstart/caviar-runs/."
