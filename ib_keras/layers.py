"""A Dense layer holding K independent networks' weights, so K networks train as one model."""

from __future__ import annotations

import keras
from keras import ops

from ib_keras.activations import PRELU, activation_function


@keras.saving.register_keras_serializable(package="ib_keras")
class EnsembleDense(keras.layers.Layer):
    """Dense layer of ``members`` independent networks, applied member by member.

    Maps inputs (batch, members, fan_in) to outputs (batch, members, units) with a kernel of
    shape (members, fan_in, units) and a bias (members, units): member k only ever sees its own
    slice, so its gradients, and Adam's per-parameter updates, are those of a network alone.

    Args:
        units: output width of each member.
        members: number of independent networks K.
        activation: a name from `ib_keras.activations` (``"prelu"`` adds a per-unit slope per
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
