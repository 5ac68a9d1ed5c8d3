"""The convolutional ensemble: K separate branches (as shipped) against one grouped convolution for
the K members, and both against one network under Keras' own ``model.fit``.

The network is ``--hidden conv8x5,pool2,conv16x5,pool2,128`` on 28 x 28 images (synthetic, MNIST's
shape), tanh, batch 128. (a) `ib_keras.networks.layers.EnsembleConv2D` as shipped: each member's
convolution on its own, stacked (K branches); (b) the same layer as one grouped convolution, the
members' channels side by side (TensorFlow runs it on CPU through XLA alone); (c) one plain Keras
network (Conv2D, MaxPooling2D, Dense) under ``model.fit``. Prints seconds per network-epoch, what a call costs once
(building, compiling) taken out.

    .venv/bin/python benchmarks/conv_ensemble.py [--rows 10000] [--epochs 2] [--members 2,4]
"""

from __future__ import annotations

import argparse

import ib_keras  # noqa: F401  (sets TensorFlow's environment before it loads)
import keras
import numpy as np
from keras import ops

from timing import seconds_per_epoch  # benchmarks/timing.py, beside this script

from ib_keras.networks.architecture import parse_hidden
from ib_keras.networks.layers import EnsembleConv2D
from ib_keras.networks.models import build_ensemble
from ib_keras.train.fit import fit_ensemble

HIDDEN = "conv8x5,pool2,conv16x5,pool2,128"


def grouped(self, inputs):
    """EnsembleConv2D.call as one grouped convolution: group k member k's channels and kernel."""
    _, members, height, width, channels = inputs.shape
    side = self.size
    x = ops.reshape(ops.transpose(inputs, (0, 2, 3, 1, 4)), (-1, height, width, members * channels))
    kernel = ops.reshape(ops.transpose(self.kernel, (1, 2, 3, 0, 4)), (side, side, channels, members * self.filters))
    z = ops.reshape(ops.conv(x, kernel, padding="valid"), (-1, height - side + 1, width - side + 1, members,
                                                           self.filters))
    return self._function(ops.transpose(z, (0, 3, 1, 2, 4)) + self.bias[None, :, None, None, :])


def plain_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 5, activation="tanh"), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(16, 5, activation="tanh"), keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
        keras.layers.Dense(128, activation="tanh"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(4e-4), loss="categorical_crossentropy")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="training images")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs of each")
    parser.add_argument("--members", default="2,4", help="K networks per model, comma-separated")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(args.rows, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=args.rows)
    hidden = parse_hidden(HIDDEN)
    branches = EnsembleConv2D.call
    targets = np.eye(10, dtype=np.float32)[y]
    images = x.reshape(-1, 28, 28, 1)
    fit = seconds_per_epoch(lambda n: plain_model().fit(images, targets, batch_size=128, epochs=n, verbose=0),
                            args.epochs)
    print(f"model.fit, one network: {fit:.2f} s per network-epoch")
    for members in map(int, args.members.split(",")):
        seeds = list(range(members))
        for name, call in (("branches", branches), ("grouped", grouped)):
            EnsembleConv2D.call = call

            def train(n):
                model = build_ensemble("tanh", seeds, protocol="saxe-mnist", input_shape=(28, 28, 1), hidden=hidden,
                                       n_classes=10)
                fit_ensemble(model, x, y, seeds, n, batch_size=128)
                keras.backend.clear_session()

            per_network = seconds_per_epoch(train, args.epochs) / members
            print(f"K={members} {name:>8}: {per_network:.2f} s per network-epoch ({fit / per_network:.2f}x model.fit)")
    EnsembleConv2D.call = branches


if __name__ == "__main__":
    main()
