"""Independent random streams per network seed, so a network's randomness never depends on
which other networks train beside it."""

from __future__ import annotations

import numpy as np

INIT_STREAM = 0  # kernel initialisation, one sub-stream per layer
SHUFFLE_STREAM = 1  # the minibatch order of every epoch
GRADIENT_STREAM = 2  # the recorder's minibatches for gradient statistics
NOISE_STREAM = 3  # a noisy network's noise, one sub-stream per hidden layer
RECORD_STREAM = 4  # the stratified sample of inputs a run records (seeded by the split's seed)


def stream(seed: int, purpose: int, *keys: int) -> np.random.Generator:
    """A generator determined only by ``seed``, the ``purpose`` stream and further ``keys``."""
    return np.random.default_rng([seed, purpose, *keys])
