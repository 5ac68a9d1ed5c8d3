"""Gaussian kernel sums over all pairs of points, each symmetric pair computed once, for several
variances from one distance pass. The hot loop of the KDE estimators, compiled by Numba.

For points t_1..t_n, classes y_i and variances s2_1..s2_m this returns, for every setting s,

    total[s, i] = sum_j exp(-||t_i - t_j||^2 / (2 s2_s))      (every j, j = i included)
    own[s, i]   = the same sum over the j with y_j = y_i.

How it is fast: points are sorted by class, so the pairs of one class form contiguous ranges
and every pair adds to exactly one of two arrays, "same class" or "other class"
(total = same + other). Rows go four at a time against a vectorised sweep over the columns
(four independent chains per vector and one load of a column per four rows). One setting
computes distances and exponentials in one sweep; several keep the sweep's squared distances
and reuse them for every setting. The exponential is `_fast_exp._exp2`, which LLVM vectorises.
Distances are summed from coordinate differences of centred points in float32, never from
|a|^2 + |b|^2 - 2ab, so precision holds far from the origin. Activity wider than
FUSED_MAX_WIDTH units goes to `_gram_pairs` instead, whose distances come from a matrix product
with the near pairs recomputed this way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numba import njit, uint64

from ib_keras.estimate.estimators._classes import class_order
from ib_keras.estimate.estimators._fast_exp import _exp2, _row_sums
from ib_keras.estimate.estimators._gram_pairs import gram_pair_sums

_ROWS = 4  # rows per sweep over the columns
# Wider activity takes its distances from a blocked matrix product (`_gram_pairs`), narrower the
# fused sweep below. Measured on the reference machine (N = 4096, one setting, ms, fused / matrix
# product): d = 8 10.6 / 55.3, 16 19.2 / 58.1, 24 24.8 / 46.4, 28 214 / 54.3, 32 239 / 54.5,
# 48 551 / 54.9: beyond 24 units the sweep's unrolled distance loop stops vectorising.
FUSED_MAX_WIDTH = 24


@njit(fastmath=True, inline="always", cache=True)
def _squared_distance(points, j, row, width):
    """||points[:, j] - row||^2 over len(width) coordinates: ``width`` is a tuple of that many
    zeros, so the count is a compile-time constant (the loop unrolls, the sweep vectorises) while
    every function stays at module level, where Numba's on-disk cache can find it again."""
    s = np.float32(0.0)
    for k in range(len(width)):
        difference = points[k, j] - row[k]
        s += difference * difference
    return s


@njit(fastmath=True, cache=True)
def _four_rows(points, i, j0, j1, betas, sums, d0, d1, d2, d3, r0, r1, r2, r3, width):
    """Rows i..i+3 against columns [j0, j1): add each kernel value to sums[s, j] and the
    row totals to sums[s, i + r]. One setting: distances and exponentials in one sweep;
    several: a sweep keeping the distances in d0..d3, then one sweep per setting (fusing
    the stores into a setting's sweep defeats LLVM's alias analysis and halves the speed)."""
    fused = betas.shape[0] == 1
    if not fused:
        for j in range(uint64(j0), uint64(j1)):
            d0[j] = _squared_distance(points, j, r0, width)
            d1[j] = _squared_distance(points, j, r1, width)
            d2[j] = _squared_distance(points, j, r2, width)
            d3[j] = _squared_distance(points, j, r3, width)
    for s in range(betas.shape[0]):
        beta = betas[s]
        acc0 = acc1 = acc2 = acc3 = np.float32(0.0)
        column_sums = sums[s]
        if fused:
            for j in range(uint64(j0), uint64(j1)):
                e0 = _exp2(beta * _squared_distance(points, j, r0, width))
                e1 = _exp2(beta * _squared_distance(points, j, r1, width))
                e2 = _exp2(beta * _squared_distance(points, j, r2, width))
                e3 = _exp2(beta * _squared_distance(points, j, r3, width))
                acc0 += e0
                acc1 += e1
                acc2 += e2
                acc3 += e3
                column_sums[j] += (e0 + e1) + (e2 + e3)
        else:
            for j in range(uint64(j0), uint64(j1)):
                e0, e1, e2, e3 = _exp2(beta * d0[j]), _exp2(beta * d1[j]), _exp2(beta * d2[j]), _exp2(beta * d3[j])
                acc0 += e0
                acc1 += e1
                acc2 += e2
                acc3 += e3
                column_sums[j] += (e0 + e1) + (e2 + e3)
        sums[s, i] += acc0
        sums[s, i + 1] += acc1
        sums[s, i + 2] += acc2
        sums[s, i + 3] += acc3


@njit(fastmath=True, cache=True)
def _one_row(points, i, j0, j1, betas, sums, distances, row, width):
    """Row i against columns [j0, j1), as `_four_rows` for a single row."""
    for j in range(uint64(j0), uint64(j1)):
        distances[j] = _squared_distance(points, j, row, width)
    _row_sums(distances, j0, j1, betas, sums, i)


@njit(cache=True)
def _all_pairs(points, class_bounds, betas, same, other, width):
    """Every pair i < j once: into ``same`` when both lie in one class range of
    ``class_bounds``, else into ``other``. points (d, n) float32 sorted by class; ``width`` a
    tuple of d zeros (`_squared_distance`): one compiled, cached specialisation per d."""
    n = points.shape[1]
    buffers = np.empty((_ROWS, n), dtype=np.float32)
    rows = np.empty((_ROWS, points.shape[0]), dtype=np.float32)
    for c in range(class_bounds.shape[0] - 1):
        lo, hi = class_bounds[c], class_bounds[c + 1]
        quads_end = lo + (hi - lo) // _ROWS * _ROWS
        for i in range(lo, quads_end, _ROWS):
            for r in range(_ROWS):
                rows[r] = points[:, i + r]
            for j0, j1, sums in ((i + _ROWS, hi, same), (hi, n, other)):
                _four_rows(points, i, j0, j1, betas, sums, buffers[0], buffers[1], buffers[2], buffers[3],
                           rows[0], rows[1], rows[2], rows[3], width)
            for r in range(_ROWS - 1):  # the pairs inside the four rows
                _one_row(points, i + r, i + r + 1, i + _ROWS, betas, same, buffers[0], rows[r], width)
        for i in range(quads_end, hi):  # the last rows of the class, fewer than four
            rows[0] = points[:, i]
            _one_row(points, i, i + 1, hi, betas, same, buffers[0], rows[0], width)
            _one_row(points, i, hi, n, betas, other, buffers[0], rows[0], width)


def kernel_sums(points: np.ndarray, classes: np.ndarray, variances: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian kernel sums of every point over all points and over its own class.

    Args:
        points: (n, d) activity; computed in float32 after centring (distances are unchanged).
        classes: (n,) integer class of each point.
        variances: m kernel variances s2 > 0 (same units as squared activity).

    Returns:
        ``(total, own)``, each (m, n) float64: total[s, i] = sum_j exp(-||t_i - t_j||^2 / (2 s2_s))
        over every j (j = i included, so each sum is >= 1), own[s, i] over the j of i's class.
    """
    points = np.asarray(points, dtype=np.float32)
    n, d = points.shape
    order, sorted_classes, class_bounds = class_order(classes)
    centred = points[order] - points.mean(axis=0)
    betas = np.array([-math.log2(math.e) / (2.0 * v) for v in variances], dtype=np.float32)
    same = np.zeros((len(betas), n), dtype=np.float32)
    other = np.zeros_like(same)
    if d <= FUSED_MAX_WIDTH:
        _all_pairs(np.ascontiguousarray(centred.T), class_bounds, betas, same, other, (np.float32(0.0),) * d)
    else:
        gram_pair_sums(np.ascontiguousarray(centred), class_bounds, betas, same, other)
    own = np.empty((len(betas), n))
    own[:, order] = same + 1.0  # the j = i term, exp(0)
    total = np.empty_like(own)
    total[:, order] = same.astype(np.float64) + other + 1.0
    return total, own
