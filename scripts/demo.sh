#!/usr/bin/env bash
# The main job: tune the built-in MLP on Fashion-MNIST over the seed lesson's
# hyperparameters, on the embedded default storage (SQLite). About 5 minutes on 2 cores.
set -euo pipefail
caviar=${1:-build/caviar}
cd "$(dirname "$0")/.."
caviar=$(realpath "$caviar")
config=examples/fashion-mnist.yaml
echo "== caviar tune $config"
echo "   (the study lives in examples/fashion-mnist.db: run again to continue it, delete it to start over)"
echo "   (--dashboard: open the URL it prints to watch the models train, live)"
"$caviar" tune "$config" --dashboard
echo
echo "== caviar best $config"
"$caviar" best "$config"
echo
echo "== caviar importance $config   (which hyperparameters mattered: docs/importance.md)"
"$caviar" importance "$config" --pairs 3 || true   # needs 2 complete trials
echo
cat <<TXT
Where to look next:
  $caviar trials $config                 every trial, its parameters and how it ended
  $caviar trials $config --format csv    the same for a spreadsheet or pandas
  $caviar dashboard $config              the study's live pages again (docs/dashboard.md)
  $caviar report $config --out report.html    every plot of the study in one offline page
  $caviar zoom $config --out narrowed.yaml    the region that worked, as the next round's config
  $caviar babysit $config --epochs 24    the best trial's values as one model, watched and steered by hand (docs/babysit.md)
  $caviar train --lr 0.003 --epochs 10   train the MLP once with your own hyperparameters
  examples/quickstart/study.yaml         tune your own training command (any language)
  docs/config.md, docs/protocol.md       the config file and the trial protocol
TXT
