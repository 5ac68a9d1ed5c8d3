#!/usr/bin/env bash
# The runs of results/estimators and the benchmark on them, as they were made: quantized networks
# (exact truth) and float ones (noisy truth) on the synthetic task, on digits and on MNIST's 10,000
# test images, then `estimator-benchmark`. Rerunning resumes: complete runs and estimates are kept.
#
#     scripts/estimator_benchmark.sh [OUT]      # OUT: the bundle's directory (default figures/estimators)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-figures/estimators}"
PY=.venv/bin/python
R=runs/estimators
TRAIN="$PY -m ib_keras train --workers 1"
start=$(date +%s)
for a in tanh relu; do
  $TRAIN --protocol lorenzen --activation $a --quantize-bits 8 --seeds 2 --epochs 400 --record-points 8 --out $R/tishby-8bit
  $TRAIN --protocol lorenzen --activation $a --quantize-bits 4 --seeds 2 --epochs 400 --record-points 8 --out $R/tishby-4bit
  $TRAIN --protocol lorenzen --activation $a --dataset digits --hidden 1024,64,16 --quantize-bits 8 --seeds 1 \
    --epochs 100 --record-points 6 --out $R/digits-8bit
  $TRAIN --protocol chelombiev --activation $a --seeds 2 --epochs 400 --record-points 8 --out $R/tishby-float
  $TRAIN --protocol lorenzen --activation $a --dataset digits --hidden 1024,64,16 --seeds 1 --epochs 100 \
    --record-points 6 --out $R/digits-float
done
# A quantized network records every input of its data set: MNIST's 10,000 test images as a data set of their own
[ -f $R/mnist-test.npz ] || $PY -c "
import numpy as np
from ib_keras.data.mnist import mnist
m = mnist()
np.savez('$R/mnist-test.npz', x=m.x_test.reshape(len(m.x_test), -1).astype(np.float32) / 255, y=m.y_test.astype(np.int64))"
$TRAIN --protocol lorenzen --activation relu --dataset $R/mnist-test.npz --hidden 1024,20,20,20 --quantize-bits 8 \
  --seeds 1 --epochs 30 --record-points 3 --split random --out $R/mnist-8bit
trained=$(date +%s)
$PY -m ib_keras estimator-benchmark --work $R/work \
  --exact $R/tishby-8bit/tanh/seed-000.h5 $R/tishby-8bit/relu/seed-000.h5 $R/tishby-4bit/relu/seed-000.h5 \
          $R/digits-8bit $R/mnist-8bit \
  --noisy $R/tishby-float/tanh/seed-000.h5 $R/tishby-float/relu/seed-000.h5 $R/digits-float \
  --out "$OUT"
echo "train $((trained - start)) s, benchmark $(($(date +%s) - trained)) s"
