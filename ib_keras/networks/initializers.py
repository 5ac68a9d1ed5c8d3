"""Kernel initialisation for ensembles: every member's slice drawn from its own seed."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
from scipy.stats import truncnorm

from ib_keras.networks.protocols import glorot_uniform_limit
from ib_keras.networks.seeding import INIT_STREAM, stream

TRUNCATION = 2.0  # in standard deviations, as keras.initializers.TruncatedNormal


@keras.saving.register_keras_serializable(package="ib_keras")
class MemberTruncatedNormal(keras.initializers.Initializer):
    """TruncatedNormal(0, stddev) for a (members, fan_in, units) kernel, member k from seeds[k].

    Member k's slice depends only on ``seeds[k]`` and ``layer``, so a network starts from the
    same weights whether it trains alone or among others.

    Args:
        stddev: standard deviation before truncation at two standard deviations.
        seeds: one seed per member.
        layer: index of the layer, giving every layer its own stream.
    """

    def __init__(self, stddev: float, seeds: Sequence[int], layer: int):
        self.stddev = float(stddev)
        self.seeds = [int(s) for s in seeds]
        self.layer = int(layer)

    def __call__(self, shape, dtype=None):
        members, *member_shape = shape
        if members != len(self.seeds):
            raise ValueError(f"kernel has {members} members but {len(self.seeds)} seeds were given")
        slices = [
            truncnorm.rvs(-TRUNCATION, TRUNCATION, size=member_shape, random_state=stream(seed, INIT_STREAM, self.layer))
            for seed in self.seeds
        ]
        return keras.ops.convert_to_tensor(self.stddev * np.stack(slices), dtype=dtype or "float32")

    def get_config(self):
        return {"stddev": self.stddev, "seeds": self.seeds, "layer": self.layer}


@keras.saving.register_keras_serializable(package="ib_keras")
class MemberGlorotUniform(keras.initializers.Initializer):
    """Keras' default kernel, U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), for a (members,
    fan_in, units) kernel or a convolution's (members, size, size, channels, filters) (fans as
    Keras counts them: size^2 channels and size^2 filters), member k from seeds[k] (and
    ``layer``), as `MemberTruncatedNormal`."""

    def __init__(self, seeds: Sequence[int], layer: int):
        self.seeds = [int(s) for s in seeds]
        self.layer = int(layer)

    def __call__(self, shape, dtype=None):
        members, *member_shape = shape
        if members != len(self.seeds):
            raise ValueError(f"kernel has {members} members but {len(self.seeds)} seeds were given")
        receptive = math.prod(member_shape[:-2])
        limit = glorot_uniform_limit(receptive * member_shape[-2], receptive * member_shape[-1])
        slices = [stream(seed, INIT_STREAM, self.layer).uniform(-limit, limit, size=member_shape)
                  for seed in self.seeds]
        return keras.ops.convert_to_tensor(np.stack(slices), dtype=dtype or "float32")

    def get_config(self):
        return {"seeds": self.seeds, "layer": self.layer}
