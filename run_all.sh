#!/usr/bin/env bash
# The main job, quick by default: train the paper's networks for tanh and ReLU (3 seeds, 1500
# epochs, recording to runs/quick) and summarise one run of each. Creates or refreshes .venv.
# Rerunning resumes: complete runs are kept.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
out=runs/quick
for activation in tanh relu; do
  .venv/bin/python -m ib_keras train --activation "$activation" --seeds 3 --epochs 1500 --out "$out"
done
for activation in tanh relu; do
  .venv/bin/python -m ib_keras inspect "$out/$activation/seed-000.h5"
done
