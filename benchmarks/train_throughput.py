"""Training throughput: one network at a time with model.fit vs the `train` command's trainer, and
what `train --tensorboard` (the live information plane) adds to the trainer.

All do the same work per network: the paper's tanh network, E epochs, recorded by the
ActivationRecorder at the default log-spaced epochs. (b) trains N seeds as `train` does (the
seeds shared between --workers processes, each training its share as one model); (a) trains the
first few of them one at a time (its cost per network-epoch does not depend on how many); (c) is
(b) with `--tensorboard` (EBAB at every recorded epoch, plane images). Wall time includes starting
workers, building, compiling and writing. Prints ms per network-epoch for each and the ratios,
measured in the same run.

    .venv/bin/python benchmarks/train_throughput.py [--networks 50] [--baseline-networks 3] [--epochs 1000] [--workers CORES]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import ib_keras  # noqa: F401  (sets TensorFlow's environment before it loads)
import keras
import numpy as np

from ib_keras import ActivationRecorder
from ib_keras.data.tishby import split_indices, tishby_dataset
from ib_keras.networks.models import BATCH_SIZE, HIDDEN_UNITS, N_CLASSES
from ib_keras.networks.protocols import DEFAULT_PROTOCOL, PROTOCOLS
from ib_keras.networks.schedules import log_spaced_epochs
from ib_keras.live.view import LiveView
from ib_keras.train.runs import plan_training, train_plan
from ib_keras.train.spec import TrainSpec


def _plain_model(seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [keras.Input((12,))]
        + [keras.layers.Dense(units, activation="tanh") for units in HIDDEN_UNITS]
        + [keras.layers.Dense(N_CLASSES, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.Adam(PROTOCOLS[DEFAULT_PROTOCOL].learning_rate),
                  loss="categorical_crossentropy")
    return model


def one_at_a_time(seeds, epochs, record, data, directory: Path) -> float:
    """Seconds to train each network alone with model.fit and the recorder."""
    x, y, train_idx, test_idx = data
    onehot = np.eye(N_CLASSES, dtype=np.float32)[y]
    start = time.perf_counter()
    for seed in seeds:
        recorder = ActivationRecorder(directory / f"plain-{seed}.h5", x, y, train_idx, test_idx, record)
        _plain_model(seed).fit(x[train_idx], onehot[train_idx], batch_size=BATCH_SIZE, epochs=epochs,
                               verbose=0, callbacks=[recorder])
        keras.backend.clear_session()
    return time.perf_counter() - start


def as_train_does(seeds, epochs, workers, directory: Path, live: LiveView | None = None) -> float:
    """Seconds for the `train` command's trainer to train and record all networks (and, with
    ``live``, to write their information to TensorBoard as `train --tensorboard` does)."""
    start = time.perf_counter()
    train_plan(plan_training(TrainSpec("tanh", epochs=epochs), seeds, directory), progress=False, workers=workers,
               extra_callbacks=live)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=50, help="seeds trained together in (b)")
    parser.add_argument("--baseline-networks", type=int, default=3, help="seeds trained one at a time in (a); 0: skip (a)")
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="train's --workers in (b)")
    args = parser.parse_args()
    x, y = tishby_dataset()
    data = (x, y, *split_indices(len(x)))
    seeds = list(range(args.networks))
    record = log_spaced_epochs(args.epochs)
    print(f"tanh networks, {args.epochs} epochs, {len(record)} recorded epochs each; "
          f"(a) {args.baseline_networks} one at a time, (b) {args.networks} shared by {args.workers} workers")
    with tempfile.TemporaryDirectory() as directory:
        baseline = one_at_a_time(seeds[: args.baseline_networks], args.epochs, record, data, Path(directory))
        ensemble = as_train_does(seeds, args.epochs, args.workers, Path(directory) / "train")
        live = as_train_does(seeds, args.epochs, args.workers, Path(directory) / "live",
                             LiveView(Path(directory) / "tensorboard"))
    per_ensemble = 1000 * ensemble / (args.networks * args.epochs)
    print(f"(b) train's trainer + recorder:          {per_ensemble:8.3f} ms per network-epoch")
    print(f"(c) (b) with --tensorboard:              {1000 * live / (args.networks * args.epochs):8.3f} ms per network-epoch"
          f"; --tensorboard adds {live / ensemble - 1:.1%} to (b)")
    if args.baseline_networks:
        per_baseline = 1000 * baseline / (args.baseline_networks * args.epochs)
        print(f"(a) one at a time, model.fit + recorder: {per_baseline:8.3f} ms per network-epoch; "
              f"ratio (a)/(b): {per_baseline / per_ensemble:.1f}x")


if __name__ == "__main__":
    main()
