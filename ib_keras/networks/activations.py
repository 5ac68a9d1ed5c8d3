"""The hidden-layer nonlinearities of the paper, with the initialisation gain each one uses.

Kernels start as TruncatedNormal(0, gain / sqrt(fan_in)), as in the authors' code: gain 1 for
the bounded or symmetric functions, 2 for the rectifier family.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

LEAKY_RELU_SLOPE = 0.2  # tf.nn.leaky_relu's default, which the authors' TensorFlow code used
OUTPUT_ACTIVATION = "softmax"
PRELU = "prelu"  # the one activation with a weight: a per-unit slope, learnt, starting at 0
LINEAR = "linear"  # no activation (a user's own model's Dense layer without one)

_GAINS = {  # in the paper's order
    "tanh": 1.0, "relu": 2.0, "softsign": 1.0, "softplus": 2.0, "centered_softplus": 2.0, "elu": 2.0,
    PRELU: 2.0, "swish": 2.0, "abs": 1.0, "leaky_relu": 2.0, "sigmoid": 1.0,
}
ACTIVATIONS = tuple(_GAINS)
STATELESS = (*(name for name in ACTIVATIONS if name != PRELU), OUTPUT_ACTIVATION, LINEAR)  # a function alone

def check_activation(name: str) -> str:
    """Return ``name`` if it is a hidden activation; raise ValueError listing the valid ones."""
    if name not in _GAINS:
        raise ValueError(f"unknown activation '{name}'; valid activations: {', '.join(ACTIVATIONS)}")
    return name


def init_gain(name: str) -> float:
    """The gain g of the kernel initialisation stddev g / sqrt(fan_in) for activation ``name``."""
    return _GAINS[check_activation(name)]


def activation_function(name: str) -> Callable:
    """The elementwise function of a stateless activation (every one but ``prelu``), softmax or
    ``"linear"`` (logits, for a softmax layer after them)."""
    from keras import ops  # here, not at the top: naming and checking activations needs no TensorFlow

    functions: dict[str, Callable] = {
        "tanh": ops.tanh,
        "softsign": ops.softsign,
        "abs": ops.abs,
        "sigmoid": ops.sigmoid,
        "relu": ops.relu,
        "leaky_relu": lambda x: ops.leaky_relu(x, negative_slope=LEAKY_RELU_SLOPE),
        "elu": ops.elu,
        "softplus": ops.softplus,
        "centered_softplus": lambda x: ops.softplus(x) - math.log(2.0),
        "swish": ops.silu,
        OUTPUT_ACTIVATION: lambda x: ops.softmax(x, axis=-1),
        LINEAR: lambda x: x,
    }
    if name not in functions:
        raise ValueError(f"'{name}' has no stateless function; valid: {', '.join(functions)}")
    return functions[name]


def numpy_function(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """The elementwise function of a stateless activation, softmax or ``"linear"`` (a layer without
    one, as `ib_keras.train.callbacks.activation_recorder.activation_name` names it) on NumPy arrays:
    the functions of `activation_function`, for the estimators, which run without TensorFlow."""
    def softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def softplus(z):
        return np.logaddexp(z, 0.0).astype(z.dtype)

    functions: dict[str, Callable] = {
        "tanh": np.tanh,
        "softsign": lambda z: z / (1 + np.abs(z)),
        "abs": np.abs,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "relu": lambda z: np.maximum(z, 0),
        "leaky_relu": lambda z: np.where(z > 0, z, LEAKY_RELU_SLOPE * z),
        "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
        "softplus": softplus,
        "centered_softplus": lambda z: softplus(z) - np.float32(math.log(2.0)),
        "swish": lambda z: z / (1 + np.exp(-z)),
        OUTPUT_ACTIVATION: softmax,
        LINEAR: lambda z: z,
    }
    if name not in functions:
        raise ValueError(f"'{name}' has no stateless function; valid: {', '.join(functions)}")
    return functions[name]
