"""Minibatch training of K independent networks held in one Keras model.

Each member keeps its own minibatch order, drawn from its own seed (or, for Shwartz-Ziv &
Tishby's protocol, every member takes the rows in file order every epoch); one compiled call runs a
whole epoch of Keras' own ``train_step`` for all members (XLA-compiled, but for a model with
convolutions), and Keras callbacks see the usual
``on_train_begin`` / ``on_epoch_end`` / ``on_train_end`` lifecycle. A callback that restores a
checkpoint in ``on_train_begin`` (`ib_keras.train.callbacks.TrainingCheckpoint`, or Keras'
``BackupAndRestore``) sets the epoch the training continues from, as for Keras' ``fit``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from ib_keras.networks.layers import ENSEMBLE_LAYERS, EnsembleConv2D
from ib_keras.networks.models import BATCH_SIZE
from ib_keras.networks.seeding import SHUFFLE_STREAM, stream


_CONVOLUTIONS = (EnsembleConv2D, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def model_members(model: keras.Model) -> int:
    """K for an ensemble of `EnsembleDense` (and `EnsembleConv2D`) layers, whose input is (batch, K,
    features); 1 for any other model (a plain one: input (batch, features), or images (batch, H, W,
    C)...)."""
    members = {layer.members for layer in model.layers if isinstance(layer, ENSEMBLE_LAYERS)}
    if not members:
        return 1
    if len(members) > 1 or len(model.inputs[0].shape) != 3:
        raise ValueError(f"model {model.name}: its ensemble layers hold {sorted(members)} members and its input "
                         f"has shape {model.inputs[0].shape}; an ensemble takes (batch, members, features)")
    return members.pop()


def fit_ensemble(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    seeds: Sequence[int],
    epochs: int,
    batch_size: int = BATCH_SIZE,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    shuffle: bool = True,
) -> None:
    """Train a compiled model for ``epochs`` epochs, member k shuffling with ``seeds[k]``, or
    every member taking the rows in order, the same minibatches every epoch (``shuffle=False``).

    Args:
        model: compiled, with input (batch, K, features) or, for one plain network, (batch,
            features); its loss takes one-hot targets.
        x: (n_train, features) training inputs, the same rows for every member.
        y: (n_train,) integer labels.
        seeds: K seeds; each member's minibatch order depends on its seed alone.
        epochs: number of passes over the training rows.
        batch_size: rows per minibatch (the last one of an epoch may be smaller).
        callbacks: Keras callbacks, called as by ``model.fit``.
        shuffle: a new permutation per member and epoch (``model.fit``'s habit), or rows in order
            (Shwartz-Ziv & Tishby's fixed minibatches).

    Raises FloatingPointError when the loss stops being finite; ``on_train_end`` is then not
    called, so the recorder leaves its files incomplete. A training restored at epoch e by a
    callback trains epochs e+1.. with the minibatch orders an uninterrupted one would draw.
    """
    members = model_members(model)
    plain = len(model.inputs[0].shape) == 2
    if len(seeds) != members:
        raise ValueError(f"model has {members} members but {len(seeds)} seeds were given")
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    if x.ndim != 2 or y.shape != (len(x),):
        raise ValueError(f"x must be (n, features) and y (n,), got {x.shape} and {y.shape}")
    n_classes = int(model.outputs[0].shape[-1])
    rows = tf.constant(x)
    targets = tf.constant(np.eye(n_classes, dtype=np.float32)[y])
    model.optimizer.build(model.trainable_variables)

    # All minibatches but the last run in a compiled loop, the last one after it: two train_steps
    # to compile instead of one per minibatch, whatever the data set's size.
    looped = (len(x) - 1) // batch_size

    def step(batch):
        return model.train_step((tf.gather(rows, batch), tf.gather(targets, batch)))

    # XLA's CPU convolutions ran 5x slower than TensorFlow's own (oneDNN) in
    # benchmarks/conv_ensemble.py: a model with convolutions runs its epoch as a graph without XLA. So
    # does a quantized one: under XLA a member's float rounding depended on how many trained beside it,
    # and one level's difference in a code grows with training (tests/test_quantized.py)
    @tf.function(jit_compile=not any(isinstance(layer, _CONVOLUTIONS) or getattr(layer, "quantize_bits", None)
                                     for layer in model.layers))
    def run_epoch(order):
        if looped:  # none when the training rows fit in one minibatch
            for i in tf.range(looped):
                step(tf.slice(order, [i * batch_size, *[0] * (order.shape.rank - 1)], [batch_size, *order.shape[1:]]))
        return step(order[looped * batch_size :])

    shufflers = [stream(seed, SHUFFLE_STREAM) for seed in seeds]
    callback_list = keras.callbacks.CallbackList(
        list(callbacks), model=model, epochs=epochs, steps=-(-len(x) // batch_size), verbose=0
    )
    model.stop_training = False
    model._initial_epoch = None  # Keras' attribute: set by a callback that restores a checkpoint
    callback_list.on_train_begin()
    first = model._initial_epoch or 0
    if not 0 <= first <= epochs:
        raise ValueError(f"a checkpoint restored epoch {first} of a training of {epochs} epochs")
    for rng in shufflers if shuffle else ():  # the orders of the epochs already trained, drawn again
        for _ in range(first):
            rng.permutation(len(x))
    for epoch in range(first, epochs):
        callback_list.on_epoch_begin(epoch)
        model.reset_metrics()
        if shuffle:
            order = np.stack([rng.permutation(len(x)) for rng in shufflers], axis=1).astype(np.int32)
        else:
            order = np.repeat(np.arange(len(x), dtype=np.int32)[:, None], members, axis=1)
        logs = {name: float(value) for name, value in run_epoch(order[:, 0] if plain else order).items()}
        if not all(map(math.isfinite, logs.values())):
            raise FloatingPointError(f"training diverged at epoch {epoch + 1} ({logs}); lower the learning rate "
                                     "or the L2 strength")
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end()
