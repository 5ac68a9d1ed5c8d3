"""Layers holding K independent networks, so K networks train as one model: Dense, convolution, max
pooling, and the noise of a noisy network."""

from __future__ import annotations

import keras
from keras import ops

from ib_keras.networks.activations import PRELU, activation_function
from ib_keras.networks.quantization import (BATCH_RANGE, MOVING_DECAY, MOVING_START, check_bits, fake_quantize,
                                            nudged_grid, range_rule)
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
        quantize_bits: 4 or 8: quantization-aware training (`ib_keras.networks.quantization`): the
            output (after the activation; for ``"linear"``, the logits a softmax layer takes) rounded
            to a grid of 2^bits levels per member, by the batch's range (tanh) or a moving average of
            the training batches' ranges with the kernel quantized too (the rest). The grid of the
            last call is kept in the non-trainable ``grid`` (members, 2): (low, scale) per member.

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
        quantize_bits: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = units
        self.members = members
        self.activation = activation
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.quantize_bits = check_bits(quantize_bits)
        if self.quantize_bits and activation == PRELU:
            raise ValueError("a quantized layer takes no prelu (their code quantizes tanh and ReLU networks)")
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
        if self.quantize_bits:
            self.grid = self.add_weight(name="grid", shape=(self.members, 2), initializer="ones", trainable=False)
            if range_rule(self.activation) != BATCH_RANGE:
                self.range_low = self.add_weight(name="range_low", shape=(self.members,), trainable=False,
                                                 initializer=keras.initializers.Constant(-MOVING_START))
                self.range_high = self.add_weight(name="range_high", shape=(self.members,), trainable=False,
                                                  initializer=keras.initializers.Constant(MOVING_START))

    def call(self, inputs, training=None):
        kernel = self.kernel
        moving = self.quantize_bits and range_rule(self.activation) != BATCH_RANGE
        if moving:  # the kernel by its own range, widened to hold 0, per member
            low = ops.minimum(ops.min(kernel, axis=(1, 2)), 0.0)[:, None, None]
            high = ops.maximum(ops.max(kernel, axis=(1, 2)), 0.0)[:, None, None]
            kernel = fake_quantize(kernel, *nudged_grid(low, high, self.quantize_bits), self.quantize_bits)
        if self.quantize_bits:  # member by member: each member's operations have the shapes they have alone
            z = ops.stack([ops.matmul(inputs[:, k], kernel[k]) + self.bias[k] for k in range(self.members)], axis=1)
        else:
            z = ops.einsum("bki,kij->bkj", inputs, kernel) + self.bias
        if self._function is None:
            return ops.relu(z) - self.slope * ops.relu(-z)
        outputs = self._function(z)
        if not self.quantize_bits:
            return outputs
        low, high = ops.min(outputs, axis=(0, 2)), ops.max(outputs, axis=(0, 2))  # this batch's, per member
        if moving:
            if training:
                decay = 1.0 - MOVING_DECAY
                self.range_low.assign(self.range_low - (self.range_low - ops.minimum(low, 0.0)) * decay)
                self.range_high.assign(self.range_high - (self.range_high - ops.maximum(high, 0.0)) * decay)
            low, high = self.range_low, self.range_high
        grid_low, scale = nudged_grid(low, high, self.quantize_bits)
        self.grid.assign(ops.stack([grid_low, scale], axis=-1))
        return fake_quantize(outputs, grid_low[None, :, None], scale[None, :, None], self.quantize_bits)

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
            "quantize_bits": self.quantize_bits,
        }


@keras.saving.register_keras_serializable(package="ib_keras")
class EnsembleConv2D(keras.layers.Layer):
    """2-D convolution of ``members`` independent networks: (batch, members, H, W, C) to (batch,
    members, H - size + 1, W - size + 1, filters), stride 1, no padding, a kernel of shape
    (members, size, size, C, filters) and a bias (members, filters).

    Member k's images are convolved with member k's kernel alone (K convolutions, stacked), so its
    output and gradients are those of a network alone, as in `EnsembleDense`. One grouped
    convolution (the members' channels side by side) gives the same, but TensorFlow runs grouped
    convolutions on CPU only through XLA, 7-14x slower per network (benchmarks/conv_ensemble.py).

    Args:
        filters: output channels of each member.
        size: the kernel's side.
        members: number of independent networks K.
        activation: a name from `ib_keras.networks.activations` (not ``"prelu"``).
        kernel_initializer: initializer of the (members, size, size, C, filters) kernel.
        kernel_regularizer: optional penalty on the kernel (summed over members).
    """

    def __init__(self, filters: int, size: int, members: int, activation: str, kernel_initializer="glorot_uniform",
                 kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if activation == PRELU:
            raise ValueError("a convolution takes no prelu (its slope is per unit); choose another activation")
        self.filters = filters
        self.size = size
        self.members = members
        self.activation = activation
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self._function = activation_function(activation)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.kernel = self.add_weight(name="kernel", shape=(self.members, self.size, self.size, channels, self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer)
        self.bias = self.add_weight(name="bias", shape=(self.members, self.filters), initializer="zeros")

    def call(self, inputs):
        outputs = [ops.conv(inputs[:, k], self.kernel[k], padding="valid") for k in range(self.members)]
        return self._function(ops.stack(outputs, axis=1) + self.bias[None, :, None, None, :])

    def compute_output_shape(self, input_shape):
        batch, members, height, width, _ = input_shape
        return (batch, members, height - self.size + 1, width - self.size + 1, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "size": self.size,
            "members": self.members,
            "activation": self.activation,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
        }


@keras.saving.register_keras_serializable(package="ib_keras")
class EnsembleMaxPool(keras.layers.Layer):
    """Max pooling over ``size`` x ``size`` (stride ``size``) of every member's channels: (batch,
    members, H, W, C) to (batch, members, H // size, W // size, C)."""

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def call(self, inputs):
        _, members, height, width, channels = inputs.shape
        pooled = ops.max_pool(ops.reshape(inputs, (-1, height, width, channels)), self.size, self.size)
        return ops.reshape(pooled, (-1, members, height // self.size, width // self.size, channels))

    def compute_output_shape(self, input_shape):
        batch, members, height, width, channels = input_shape
        return (batch, members, height // self.size, width // self.size, channels)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


ENSEMBLE_LAYERS = (EnsembleDense, EnsembleConv2D)  # the layers with a kernel per member


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
