"""MNIST training throughput: Saxe et al.'s 784-1024-20-20-20-10 tanh network (`--protocol
saxe-mnist`), one `model.fit` network against the ensemble trainer's K networks in one model, and
both against the machine's matrix-product rate measured in the same run.

(a) a plain Keras model (Dense layers, SGD lr 0.001, batch 128) trained with ``model.fit`` on the
60,000 training images; (b) `ib_keras.train.fit.fit_ensemble` on K such networks in one model. No
recorder in either: this is the training's own cost. Each trains E epochs, what a call costs once
(compilation) taken out. Prints seconds per network-epoch, the GFLOP/s achieved (per weight and
training row: 2 flops forward, 2 for its gradient, 2 for the gradient of the layer's input but in
the first layer; `ib_keras.train.resources.network_epoch_flops`) and that rate over NumPy's float32
matrix-product rate on two (1024, 1024) matrices, measured before and after (the best of 512 to
4096 on the reference machine: 198 GFLOP/s at 1024, 184 at 2048, 192 at 4096).

    .venv/bin/python benchmarks/mnist_throughput.py [--epochs 3] [--members 2]
"""

from __future__ import annotations

import argparse

import ib_keras  # noqa: F401  (sets TensorFlow's environment before it loads)
import keras
import numpy as np

from timing import seconds_per_epoch  # benchmarks/timing.py, beside this script

from ib_keras.networks.models import build_ensemble
from ib_keras.system.compute import matmul_gflops
from ib_keras.train.fit import fit_ensemble
from ib_keras.train.resources import network_epoch_flops
from ib_keras.train.spec import TrainSpec


def plain_model(spec: TrainSpec, input_dim: int, n_classes: int) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((input_dim,))]
                             + [keras.layers.Dense(units, activation=spec.activation) for units in spec.hidden]
                             + [keras.layers.Dense(n_classes, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.001), loss="categorical_crossentropy")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs of each")
    parser.add_argument("--members", type=int, default=2, help="K networks in the ensemble's model")
    args = parser.parse_args()
    spec = TrainSpec("tanh", protocol="saxe-mnist")
    data = spec.data()
    train_idx, _ = data.split(spec.split, spec.split_seed)
    x, y = data.x[train_idx], data.y[train_idx]
    onehot = np.eye(data.n_classes, dtype=np.float32)[y]
    flops = network_epoch_flops(spec)
    peak_before = matmul_gflops()

    model = plain_model(spec, x.shape[1], data.n_classes)
    plain = seconds_per_epoch(lambda e: model.fit(x, onehot, batch_size=128, epochs=e, shuffle=True, verbose=0),
                              args.epochs)
    keras.backend.clear_session()
    seeds = list(range(args.members))
    ensemble_model = build_ensemble("tanh", seeds, 0.0, spec.protocol, x.shape[1], spec.hidden, data.n_classes)
    ensemble = seconds_per_epoch(lambda e: fit_ensemble(ensemble_model, x, y, seeds, e, 128),
                                 args.epochs) / args.members
    peak = max(peak_before, matmul_gflops())

    print(f"matrix-product peak (NumPy float32, 1024 x 1024): {peak:.0f} GFLOP/s; "
          f"{flops / 1e9:.0f} GFLOP per network-epoch")
    for name, seconds in (("(a) model.fit, one network", plain),
                          (f"(b) fit_ensemble, {args.members} networks in one model", ensemble)):
        rate = flops / seconds / 1e9
        print(f"{name:45s} {seconds:6.2f} s per network-epoch, {rate:5.0f} GFLOP/s = {rate / peak:.0%} of the peak")
    print(f"ratio (a)/(b): {plain / ensemble:.2f}x")


if __name__ == "__main__":
    main()
