"""Timing shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable


def seconds_per_epoch(train: Callable[[int], object], epochs: int) -> float:
    """Seconds per epoch: ``train(1 + epochs)`` less ``train(1)``, so that what a call costs once
    (building, compiling: fit_ensemble compiles its epoch at every call) is not counted."""
    seconds = []
    for n in (1, 1 + epochs):
        start = time.perf_counter()
        train(n)
        seconds.append(time.perf_counter() - start)
    return (seconds[1] - seconds[0]) / epochs
