"""Layers holding K independent networks, so K networks train as one model: Dense, and the noise of a
noisy network."""

from __future__ import annotations

import keras
from keras import ops

from ib_keras.networks.activations import PRELU, activation_function
from ib_keras.networks.seeding import NOISE_STREAM, stream


@keras.saving.register_keras_serializable(package="ib_keras")
class EnsembleDense(keras.layers.Layer):
    """Dense layer of ``members`` independent networks, applied member by member.

    Maps inputs (batch, members, fan_in) to outputs (batch, members, units) with a kernel of
    shape (members, fan_in, units) and a bias (members, units): member k only ever sees its own
    slice, so its gradients, and Adam's per-parameter updates, are those of a network alone.

    Args:
        units: output width of each member.
        members: number of independent networks K.
        activation: a name from `ib_keras.networks.activations` (``"prelu"`` adds a per-unit slope per
            member, starting at 0) or ``"softmax"``.
        kernel_initializer: initializer of the (members, fan_in, units) kernel.
        kernel_regularizer: optional penalty on the kernel (summed over members).

    Example:

    ```python
    x = keras.Input((50, 12))
    h = EnsembleDense(10, members=50, activation="tanh")(x)
    ```
    """

    def __init__(
        self,
        units: int,
        members: int,
        activation: str,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = units
        self.members = members
        self.activation = activation
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self._function = None if activation == PRELU else activation_function(activation)

    def build(self, input_shape):
        fan_in = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.members, fan_in, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = self.add_weight(name="bias", shape=(self.members, self.units), initializer="zeros")
        if self._function is None:
            self.slope = self.add_weight(name="slope", shape=(self.members, self.units), initializer="zeros")

    def call(self, inputs):
        z = ops.einsum("bki,kij->bkj", inputs, self.kernel) + self.bias
        if self._function is None:
            return ops.relu(z) - self.slope * ops.relu(-z)
        return self._function(z)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "members": self.members,
            "activation": self.activation,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        }


@keras.saving.register_keras_serializable(package="ib_keras")
class EnsembleNoise(keras.layers.Layer):
    """Adds N(0, stddev^2) noise to every unit in training: the noisy network's T = S + Z.

    Inputs (batch, members, units). Member k's noise comes from its own generator, seeded by
    ``seeds[k]`` and ``layer`` alone, so that a network's noise never depends on which other
    networks train beside it. Outside training (``training=False``: prediction, and what
    `ib_keras.ActivationRecorder` records) the layer passes its input through, so that
    the recorded activity is the noise-free S.

    Args:
        stddev: the noise's standard deviation s > 0, in activity units.
        seeds: one seed per member.
        layer: the index of the hidden layer the noise follows (its own random stream).
    """

    def __init__(self, stddev: float, seeds, layer: int, **kwargs):
        super().__init__(**kwargs)
        self.stddev = float(stddev)
        self.seeds = [int(seed) for seed in seeds]
        self.layer = int(layer)
        self._generators = [keras.random.SeedGenerator(int(stream(seed, NOISE_STREAM, layer).integers(2**31)))
                            for seed in self.seeds]

    def call(self, inputs, training=None):
        if not training:
            return inputs
        batch, units = ops.shape(inputs)[0], inputs.shape[-1]
        noise = ops.stack([keras.random.normal((batch, units), stddev=self.stddev, seed=generator)
                           for generator in self._generators], axis=1)
        return inputs + ops.cast(noise, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seeds": self.seeds, "layer": self.layer}
