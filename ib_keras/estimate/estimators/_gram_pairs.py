"""Kernel sums over all pairs for wide activity: the squared distances of a block of rows against
every later point from one float32 matrix product (BLAS), ||a||^2 + ||b||^2 - 2 a.b, then the
exponentials in a Numba sweep, as `_pair_sums` computes them for narrow activity.

The expansion cancels: its error grows with the norms, ||a||^2 + ||b||^2 times d float32 roundings
at worst, while a small kernel variance makes the sums sensitive to the distances of near pairs.
So a pair gets its distance again from coordinate differences, exactly as the narrow path
computes it, when under some kernel variance its kernel is not negligible (2^(beta D) >
2^-NEGLIGIBLE) and the expansion's error could move that kernel by more than PRECISION. Far pairs keep the expansion: a far pair's kernel is below 2^-NEGLIGIBLE, N of them
below N 2^-NEGLIGIBLE of a sum that is at least 1.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from ib_keras.estimate.estimators._classes import class_ranges
from ib_keras.estimate.estimators._fast_exp import _row_sums

BLOCK_ROWS = 256  # rows per matrix product: the block holds BLOCK_ROWS x N float32 products
NEGLIGIBLE = 40.0  # a kernel below 2^-40 of the j = i term moves a sum of N <= 10^6 by < 1e-6
PRECISION = 1e-5  # the largest error an expanded distance may cause in a kernel's exponent (log2 units)
_EPSILON = float(np.finfo(np.float32).eps)


@njit(inline="always", cache=True)
def _imprecise(distance, error, magnitudes):
    """Whether some kernel 2^(-m D) (m in ``magnitudes``) is not negligible at the expanded
    ``distance`` and its exponent could be off by more than PRECISION."""
    for s in range(magnitudes.shape[0]):
        m = magnitudes[s]
        if m * error > PRECISION and m * (distance - error) < NEGLIGIBLE:
            return True
    return False


@njit(fastmath=True, cache=True)
def _block_sums(points, norms, gram, i0, class_ends, betas, magnitudes, rounding, same, other, distances):
    """Rows i0 .. i0 + len(gram) - 1 against every later point: distances from ``gram`` (their
    products with the points from i0 on), near imprecise ones recomputed, then the kernel sums
    into ``same`` (j in i's class, [i + 1, class_ends[i])) and ``other`` (j beyond it).
    ``magnitudes``: |beta| of every setting."""
    n, d = points.shape
    for r in range(gram.shape[0]):
        i = i0 + r
        for j in range(uint64(i + 1), uint64(n)):
            distances[j] = max(norms[i] + norms[j] - np.float32(2.0) * gram[r, j - i0], np.float32(0.0))
        for j in range(i + 1, n):
            error = rounding * (norms[i] + norms[j])
            if _imprecise(distances[j], error, magnitudes):
                exact = np.float32(0.0)
                for k in range(d):
                    delta = points[i, k] - points[j, k]
                    exact += delta * delta
                distances[j] = exact
        _row_sums(distances, i + 1, class_ends[i], betas, same, i)
        _row_sums(distances, class_ends[i], n, betas, other, i)


def gram_pair_sums(points: np.ndarray, class_bounds: np.ndarray, betas: np.ndarray, same: np.ndarray,
                   other: np.ndarray) -> None:
    """Every pair i < j once, into ``same`` or ``other`` (m, n) as `_pair_sums._all_pairs` does.

    Args:
        points: (n, d) float32, centred, sorted by class.
        class_bounds: (C + 1,) int64 starts of the class ranges, then n.
        betas: (m,) float32 kernel exponents, -log2(e) / (2 s2) each.
        same, other: (m, n) float32 sums, added to.
    """
    n, d = points.shape
    # squared norms summed in float64, a block of rows at a time (no float64 copy of all the points)
    norms = np.concatenate([np.einsum("ij,ij->i", block, block, dtype=np.float64)
                            for block in np.array_split(points, max(1, n // BLOCK_ROWS))]).astype(np.float32)
    _, class_ends = class_ranges(class_bounds)
    magnitudes = np.abs(betas)
    # An expanded distance errs by at most ~ (d + 2) roundings of ||a||^2 + ||b||^2 (the products'
    # sums, the norms and the subtraction); `_imprecise` weighs that by each kernel's |beta|.
    rounding = np.float32((d + 2) * _EPSILON)
    distances = np.empty(n, dtype=np.float32)
    for i0 in range(0, n, BLOCK_ROWS):
        gram = points[i0 : i0 + BLOCK_ROWS] @ points[i0:].T
        _block_sums(points, norms, gram, i0, class_ends, betas, magnitudes, rounding, same, other, distances)
