"""Training protocols: the published set-ups this project reproduces.

- ``chelombiev`` (default): Chelombiev, Houghton & O'Donnell (2019). 8000 epochs; kernels
  TruncatedNormal(0, g / sqrt(fan_in)) with the activation's gain g; log-spaced recording.
- ``saxe``: Saxe et al. (2018), ``artemyk/ibsgd``. 10000 epochs; kernels
  TruncatedNormal(0, 1 / sqrt(units)) (their layer width, not fan-in); their recording schedule.

Both: Adam with learning rate 4e-4, batch 256, an 80/20 split.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ib_keras.activations import init_gain
from ib_keras.schedules import log_spaced_epochs, saxe_epochs


@dataclass(frozen=True)
class Protocol:
    """A published training set-up: its length, initialisation and recording schedule."""

    name: str
    epochs: int
    kernel_stddev: Callable[[str, int, int], float]  # (activation, fan_in, units) -> stddev
    record_epochs: Callable[[int], np.ndarray]  # total epochs -> epochs to record


PROTOCOLS = {
    "chelombiev": Protocol(
        "chelombiev", 8000, lambda activation, fan_in, units: init_gain(activation) / math.sqrt(fan_in), log_spaced_epochs
    ),
    "saxe": Protocol("saxe", 10000, lambda activation, fan_in, units: 1.0 / math.sqrt(units), saxe_epochs),
}


def record_schedule(protocol: str, epochs: int, record_points: int | None = None) -> np.ndarray:
    """The epochs a run of ``epochs`` epochs records (sorted int64): ``record_points`` log-spaced
    ones when given, else the protocol's schedule. ValueError for an unknown protocol."""
    if record_points is not None:
        return log_spaced_epochs(epochs, record_points)
    return get_protocol(protocol).record_epochs(epochs)


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``; ValueError listing the valid names otherwise."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol '{name}'; valid protocols: {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]
