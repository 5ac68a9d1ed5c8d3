"""The paper's 12-10-7-5-4-3-2 network (or any widths, or a small CNN), built as one Keras model holding K
independent copies."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
from keras import ops

from ib_keras.networks.activations import LINEAR, OUTPUT_ACTIVATION, check_activation
from ib_keras.networks.initializers import MemberGlorotUniform, MemberTruncatedNormal
from ib_keras.networks.architecture import Conv, Layer, Pool, check_hidden, is_convolutional
from ib_keras.networks.layers import EnsembleConv2D, EnsembleDense, EnsembleMaxPool, EnsembleNoise
from ib_keras.networks.protocols import (DEFAULT_PROTOCOL, GLOROT_UNIFORM, HIDDEN_UNITS, N_CLASSES, get_protocol,
                                         kernel_stddevs)

BATCH_SIZE = 256  # the default protocol's; each protocol carries its own
_OPTIMIZERS = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}  # a protocol's optimizer by name


@keras.saving.register_keras_serializable(package="ib_keras")
def ensemble_crossentropy(y_true, y_pred):
    """Categorical cross-entropy (nats) summed over members: (batch, K, C) -> (batch,).

    Averaged over the batch by Keras, the loss is the sum of the members' own mean losses, so
    each member's gradient is exactly its gradient when trained alone.
    """
    return ops.sum(keras.losses.categorical_crossentropy(y_true, y_pred), axis=-1)


def build_ensemble(
    activation: str,
    seeds: Sequence[int],
    l2: float = 0.0,
    protocol: str = DEFAULT_PROTOCOL,
    input_shape: int | Sequence[int] = 12,
    hidden: Sequence[Layer] = HIDDEN_UNITS,
    n_classes: int = N_CLASSES,
    noise_std: float = 0.0,
    quantize_bits: int | None = None,
) -> keras.Model:
    """A compiled model of ``len(seeds)`` independent networks, member k initialised from seeds[k].

    Input (batch, K, features), output (batch, K, n_classes) softmax probabilities, through
    hidden layers (`ib_keras.networks.architecture`: the paper's Dense 10-7-5-4-3 by default; or
    convolutions and max pooling first, on the features read as images of ``input_shape`` (H, W,
    C)) that use ``activation``; kernels are initialised by the protocol's rules
    (`ib_keras.networks.protocols`) with zero biases. ``l2`` adds l2 * sum ||W||^2 / 2 over hidden
    kernels (not biases, not the output layer). Compiled with the protocol's optimizer (Adam;
    plain SGD for saxe-mnist) and learning rate, and `ensemble_crossentropy`.
    ``noise_std`` s > 0 makes noisy networks (Goldfeld et al., ICML 2019): an `EnsembleNoise`
    adds N(0, s^2) to every hidden unit after its activation, in training only (Dense networks).
    ``quantize_bits`` 4 or 8 trains quantized networks (Lorenzen et al., ICLR 2022; Dense networks):
    every layer's output on a grid of 2^bits levels (`ib_keras.networks.quantization`), the output
    layer's logits before a separate Softmax layer.
    """
    check_activation(activation)
    if not seeds:
        raise ValueError("need at least one seed")
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2}")
    if not 0 <= noise_std < math.inf:
        raise ValueError(f"noise_std must be a finite number >= 0, got {noise_std}")
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    convolutional = is_convolutional(hidden)
    check_hidden(hidden, shape if convolutional else None)
    if convolutional and (noise_std > 0 or quantize_bits):
        raise ValueError("noisy and quantized networks (noise_std, quantize_bits) are Dense networks; give Dense "
                         "widths")
    if noise_std > 0 and quantize_bits:
        raise ValueError("a network is noisy (noise_std) or quantized (quantize_bits), not both")
    members = len(seeds)
    inputs = keras.Input((members, math.prod(shape)), name="x")
    h = keras.layers.Reshape((members, *shape), name="images")(inputs) if convolutional else inputs
    chosen = get_protocol(protocol)
    stddevs = kernel_stddevs(activation, protocol, shape, hidden, n_classes)
    layer = 0  # the weighted layers' index: their names and initialisation streams
    for position, spec in enumerate((*hidden, n_classes)):
        if isinstance(spec, Pool):
            h = EnsembleMaxPool(spec.size, name=f"pool_{position}")(h)
            continue
        is_hidden = position < len(hidden)
        glorot = (chosen.hidden_init if is_hidden else chosen.output_init) == GLOROT_UNIFORM
        arguments = dict(
            members=members,
            activation=activation if is_hidden else LINEAR if quantize_bits else OUTPUT_ACTIVATION,
            kernel_initializer=MemberGlorotUniform(seeds, layer) if glorot else MemberTruncatedNormal(stddevs[layer],
                                                                                                     seeds, layer),
            # Keras' L2(c) adds c * sum(W^2), so c = l2 / 2 gives the paper's penalty.
            kernel_regularizer=keras.regularizers.L2(l2 / 2) if is_hidden and l2 > 0 else None,
            name=f"layer_{layer}",
        )
        if isinstance(spec, Conv):
            h = EnsembleConv2D(spec.filters, spec.size, **arguments)(h)
        else:
            if len(h.shape) > 3:  # the first Dense layer after the convolutions
                h = keras.layers.Reshape((members, -1), name="flatten")(h)
            h = EnsembleDense(spec, quantize_bits=quantize_bits, **arguments)(h)
        if is_hidden and noise_std > 0:
            h = EnsembleNoise(noise_std, seeds, layer, name=f"noise_{layer}")(h)
        layer += 1
    if quantize_bits:  # the softmax of the quantized logits, as TFMO quantizes a softmax layer
        h = keras.layers.Softmax(name=OUTPUT_ACTIVATION)(h)
    model = keras.Model(inputs, h, name=f"{activation}_x{members}")
    model.compile(optimizer=_OPTIMIZERS[chosen.optimizer](chosen.learning_rate), loss=ensemble_crossentropy)
    return model
