"""The noisy draws' kernel sums (`_mixture`) for wide activity, from matrix products.

A draw u = c + z/2 from source centre c (z given doubled, w = 2 s z) has, against a centre t, the
exponent (relative to its own kernel, as `_mixture` writes it)

    ||c - t||^2 + w.(c - t) = (|c|^2 + w.c) + |t|^2 - (2c + w).t,

and its antithetic twin the same with -w: one float32 matrix product of the rows 2c +- w against
every centre gives all of them. As in `_gram_pairs`, an entry whose kernel is not negligible and
whose expansion could be imprecise is recomputed exactly from coordinate differences; the source's
own centre, where it is a target, is exactly 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from ib_keras.estimate.estimators._fast_exp import _exp2
from ib_keras.estimate.estimators._gram_pairs import BLOCK_ROWS, _imprecise

_EPSILON = float(np.finfo(np.float32).eps)


@njit(fastmath=True, cache=True)
def _range_sum(exponents, j0, j1, beta):
    total = np.float32(0.0)
    for j in range(uint64(j0), uint64(j1)):
        total += _exp2(beta * exponents[j])
    return total


@njit(fastmath=True, cache=True)
def _block_draws(products, consts, lengths, sources, noise, sign, targets, target_norms, s0, bounds, own_target,
                 beta, magnitudes, rounding, row, first, second, exponents):
    """Sources s0 .. s0 + len(products) - 1, one draw each (c + sign w): the exponents from
    ``products`` (the rows v = 2c + sign w against every target) and ``consts`` (|c|^2 + sign w.c),
    imprecise ones recomputed (``lengths``: |v|), then their kernels over the target ranges
    bounds[s] = (a0, a1, a2, a3, b0, b1) added to first[row, s] ([a0, a1) and [a2, a3)) and
    second[row, s] ([0, b0) and [b1, n))."""
    n, d = targets.shape
    for r in range(products.shape[0]):
        s = s0 + r
        c, w = sources[s], noise[s]
        for j in range(uint64(0), uint64(n)):
            exponents[j] = consts[r] + target_norms[j] - products[r, j]
        for j in range(n):
            error = rounding * (abs(consts[r]) + target_norms[j] + lengths[r] * np.sqrt(target_norms[j]))
            if _imprecise(exponents[j], error, magnitudes):
                exact = np.float32(0.0)
                for k in range(d):
                    delta = c[k] - targets[j, k]
                    exact += delta * (delta + sign * w[k])
                exponents[j] = exact
        if own_target[s] >= 0:
            exponents[own_target[s]] = np.float32(0.0)
        a0, a1, a2, a3, b0, b1 = bounds[s]
        first[row, s] += _range_sum(exponents, a0, a1, beta) + _range_sum(exponents, a2, a3, beta)
        second[row, s] += _range_sum(exponents, 0, b0, beta) + _range_sum(exponents, b1, n, beta)


def wide_draw_sums(sources: np.ndarray, noise: np.ndarray, rows: np.ndarray, targets: np.ndarray,
                   bounds: np.ndarray, own_target: np.ndarray, beta: float, first: np.ndarray,
                   second: np.ndarray) -> None:
    """Kernel sums of every draw c_s +- w_ps against the targets, over two sets of index ranges.

    Args:
        sources: (S, d) float32 source centres c_s.
        noise: (P, S, d) float32 doubled noise w_ps; pair p's draws go to rows[p] = (plus, minus).
        rows: (P, 2) int64 output rows of each pair's +w and -w draw.
        targets: (n, d) float32 centres, centred with the sources.
        bounds: (S, 6) int64 target ranges of each source, (a0, a1, a2, a3, b0, b1): ``first`` sums
            [a0, a1) and [a2, a3), ``second`` [0, b0) and [b1, n).
        own_target: (S,) int64 the target that is source s itself (exponent exactly 0), or -1.
        beta: -log2(e) / (2 s2), float32.
        first, second: (rows, S) float32 sums, added to.
    """
    n, d = targets.shape
    target_norms = np.einsum("ij,ij->i", targets, targets, dtype=np.float64).astype(np.float32)
    magnitudes = np.array([abs(beta)], dtype=np.float32)
    rounding = np.float32((d + 4) * _EPSILON)  # the expansion's roundings, as in `_gram_pairs`
    exponents = np.empty(n, dtype=np.float32)
    targets_t = np.ascontiguousarray(targets.T)
    for s0 in range(0, len(sources), BLOCK_ROWS):
        block = sources[s0 : s0 + BLOCK_ROWS]
        norms = np.einsum("ij,ij->i", block, block, dtype=np.float64)
        for p in range(len(noise)):
            w = noise[p, s0 : s0 + BLOCK_ROWS]
            for sign, row in ((1.0, rows[p, 0]), (-1.0, rows[p, 1])):
                consts = (norms + sign * np.einsum("ij,ij->i", w, block, dtype=np.float64)).astype(np.float32)
                rows_v = np.float32(2.0) * block + np.float32(sign) * w
                lengths = np.sqrt(np.einsum("ij,ij->i", rows_v, rows_v, dtype=np.float64)).astype(np.float32)
                _block_draws(rows_v @ targets_t, consts, lengths, sources, noise[p], np.float32(sign), targets,
                             target_norms, s0, bounds, own_target, np.float32(beta), magnitudes, rounding, row, first,
                             second, exponents)
