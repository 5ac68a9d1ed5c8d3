"""How fast the machine multiplies matrices now: the floor that training times are stated against."""

from __future__ import annotations

import time

import numpy as np


def matmul_gflops(size: int = 1024, repeats: int = 3) -> float:
    """The machine's float32 matrix-product rate (GFLOP/s, 2 size^3 per product), the best of
    ``repeats`` NumPy products of two (size, size) matrices on every core BLAS uses: about 40 ms at
    the default size on 2 cores."""
    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    a @ a  # BLAS's threads started
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9
