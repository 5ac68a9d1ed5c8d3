"""The exact information of the noisy representation T' = T + Z, Z ~ N(0, s2 I), by stratified
Monte Carlo: the quantity the KDE bounds of `_kde` bracket.

With X uniform over the N inputs, T' given X = i is N(t_i, s2 I), so T' is the equal-weight
mixture p(u) = (1/N) sum_j N(u; t_j, s2 I), and for a draw u = t_i + z

    log N(u; t_i, s2 I) - log p(u) = log N - log sum_j exp(-(||t_i - t_j||^2 + 2 z.(t_i - t_j)) / (2 s2)),

whose mean over i and z is I(X;T') in nats (the j = i term of the sum is exactly 1, so each
draw lies in [0, log N]). In the same way log p(y_i|u) - log p(y_i), the sum over i's class
against the sum over all, averages to I(T';Y).

Stratified, with antithetic draws: each of the N inputs gets r draws in r/2 pairs (z, -z), which
share their dot products (half the arithmetic) and cancel the odd part of each draw's error. The
standard error comes from the spread of each input's r/2 pair means,

    se = sqrt(sum_i var_i / (r/2)) / N,   var_i the unbiased variance of input i's pair means.

The sums are written with t_i - t_j, never with u itself, so that a sum never subtracts two
large squared distances: exact at j = i, and as precise far from the origin as near it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

from ib_keras.estimate.estimators._classes import class_order, class_ranges
from ib_keras.estimate.estimators._fast_exp import _exp2
from ib_keras.estimate.estimators._wide_draws import wide_draw_sums

_BITS_PER_NAT = 1.0 / math.log(2.0)
_INPUT_BLOCK = 64  # inputs per block of the wide conditional sums: 64 x R x d floats
# Wider activity takes the draws' exponents from matrix products (`_wide_draws`), narrower the fused
# sweeps below. Measured on the reference machine (noisy, r = 4, N = 4096, ms, fused / matrix
# products): d = 12 53 / 223, 18 66 / 234, 20 86 / 265, 22 109 / 236, 23 1125 / 380, 24 1084 / 381,
# 32 1037 / 245: beyond 22 units the sweep's four accumulators per centre stop vectorising.
FUSED_MAX_WIDTH = 22


@njit(fastmath=True, cache=True)
def _two_pairs(points, j0, j1, beta, row, z0, z1, width):
    """The kernel sums of the four draws t_i +- z0, t_i +- z1 of one input (``row`` = t_i, the z
    given doubled) against the centres [j0, j1) of points (d, n): for each draw z,
    sum_j 2**(beta (D_ij + 2 z.(t_i - t_j))), in the order +z0, +z1, -z0, -z1. An antithetic
    pair shares its dot product, so four draws cost two. ``width``: a tuple of d zeros, as in
    `_pair_sums._squared_distance`."""
    s0 = s1 = s2 = s3 = np.float32(0.0)
    for j in range(uint64(j0), uint64(j1)):
        squared = a0 = a1 = np.float32(0.0)
        for k in range(len(width)):
            delta = row[k] - points[k, j]
            squared += delta * delta
            a0 += delta * z0[k]
            a1 += delta * z1[k]
        s0 += _exp2(beta * (squared + a0))
        s1 += _exp2(beta * (squared + a1))
        s2 += _exp2(beta * (squared - a0))
        s3 += _exp2(beta * (squared - a1))
    return s0, s1, s2, s3


@njit(fastmath=True, cache=True)
def _one_pair(points, j0, j1, beta, row, z, width):
    """`_two_pairs` for the one pair t_i +- z: its sums in the order +z, -z."""
    s0 = s1 = np.float32(0.0)
    for j in range(uint64(j0), uint64(j1)):
        squared = a = np.float32(0.0)
        for k in range(len(width)):
            delta = row[k] - points[k, j]
            squared += delta * delta
            a += delta * z[k]
        s0 += _exp2(beta * (squared + a))
        s1 += _exp2(beta * (squared - a))
    return s0, s1


@njit(cache=True)
def _add_input_draws(points, j0, j1, beta, row, doubled_noise, i, sums, width):
    """Every antithetic pair m of input i (doubled_noise (r/2, n, d)) against the centres
    [j0, j1): sums[2m, i] += the +z_m draw's sum, sums[2m + 1, i] += the -z_m draw's."""
    pairs = doubled_noise.shape[0]
    for m in range(0, pairs - 1, 2):
        plus0, plus1, minus0, minus1 = _two_pairs(points, j0, j1, beta, row, doubled_noise[m, i],
                                                  doubled_noise[m + 1, i], width)
        sums[2 * m, i] += plus0
        sums[2 * m + 1, i] += minus0
        sums[2 * m + 2, i] += plus1
        sums[2 * m + 3, i] += minus1
    if pairs % 2:
        plus, minus = _one_pair(points, j0, j1, beta, row, doubled_noise[pairs - 1, i], width)
        sums[2 * pairs - 2, i] += plus
        sums[2 * pairs - 1, i] += minus


@njit(cache=True)
def _draw_sums(points, class_bounds, doubled_noise, beta, own, other, width):
    """For every input i (points (d, n) sorted by class) and draw k: own[k, i] and other[k, i],
    the kernel sums over i's class and over the rest (both arrays (r, n), zeroed)."""
    n = points.shape[1]
    start = class_bounds[0]  # 0, as an int64: a literal 0 would compile every callee a second time
    row = np.empty(points.shape[0], dtype=np.float32)
    for c in range(class_bounds.shape[0] - 1):
        lo, hi = class_bounds[c], class_bounds[c + 1]
        for i in range(lo, hi):
            row[:] = points[:, i]
            _add_input_draws(points, lo, hi, beta, row, doubled_noise, i, own, width)
            _add_input_draws(points, start, lo, beta, row, doubled_noise, i, other, width)
            _add_input_draws(points, hi, n, beta, row, doubled_noise, i, other, width)


def _mean_and_error(draws: np.ndarray) -> tuple[float, float]:
    """The mean of draws (r, n), r per input in antithetic pairs (rows 2m, 2m + 1), and its
    standard error (same units): stratified by input, each pair's mean one independent unit."""
    pair_means = 0.5 * (draws[0::2] + draws[1::2])
    pairs, n = pair_means.shape
    within = pair_means.var(axis=0, ddof=1)
    return float(draws.mean()), math.sqrt(float(within.sum()) / pairs) / n


def mixture_information(
    activity: np.ndarray, classes: np.ndarray, noise_variance: float, replicas: int, seed: int
) -> tuple[float, float, float, float]:
    """(I(X;T'), I(T';Y), their standard errors), all in bits, for T' = T + N(0, s2 I).

    Args:
        activity: (N, d) activity T; computed in float32 after centring (distances unchanged).
        classes: (N,) class of each input, 0..C-1.
        noise_variance: s2 > 0, in squared activity units.
        replicas: r noise draws per input, an even number >= 4 (r/2 antithetic pairs; the
            standard error needs two pairs).
        seed: the noise's seed: the same seed gives the same estimate.
    """
    activity = np.asarray(activity, dtype=np.float32)
    n, d = activity.shape
    noise = np.random.default_rng(seed).standard_normal((replicas // 2, n, d), dtype=np.float32)
    order, sorted_classes, class_bounds = class_order(classes)
    centred = activity[order] - activity.mean(axis=0)
    doubled_noise = np.ascontiguousarray(noise[:, order] * np.float32(2.0 * math.sqrt(noise_variance)))
    beta = np.float32(-math.log2(math.e) / (2.0 * noise_variance))
    own = np.zeros((replicas, n), dtype=np.float32)
    other = np.zeros_like(own)
    if d <= FUSED_MAX_WIDTH:
        _draw_sums(np.ascontiguousarray(centred.T), class_bounds, doubled_noise, beta, own, other,
                   (np.float32(0.0),) * d)
    else:  # wide: from matrix products, every input's draws against all (its own class first)
        lo, hi = class_ranges(class_bounds)
        rows = np.arange(replicas).reshape(-1, 2)  # pair m: draws 2m (+z) and 2m + 1 (-z)
        wide_draw_sums(np.ascontiguousarray(centred), doubled_noise, rows, np.ascontiguousarray(centred),
                       np.stack([lo, hi, hi, hi, lo, hi], axis=1), np.arange(n), beta, own, other)
    log_own = np.log(own.astype(np.float64))
    log_total = np.log(own.astype(np.float64) + other)
    class_share = np.bincount(sorted_classes) / n
    i_xt, i_xt_se = _mean_and_error(math.log(n) - log_total)
    i_ty, i_ty_se = _mean_and_error(log_own - log_total - np.log(class_share[sorted_classes]))
    return i_xt * _BITS_PER_NAT, i_ty * _BITS_PER_NAT, i_xt_se * _BITS_PER_NAT, i_ty_se * _BITS_PER_NAT


@njit(cache=True)
def _replica_draw_sums(others, class_bounds, marginal_replicas, own, doubled_noise, beta, conditional, same, rest,
                       width):
    """Sample propagation's kernel sums. Input i (sorted by class; ``class_bounds`` in inputs) has
    R centres own[i] (d, R); its draws come from its first q = doubled_noise.shape[0] / 2 centres,
    each with two antithetic pairs: draw 4k + (0, 1, 2, 3) is own[i, :, k] + (z0, z1, -z0, -z1),
    z0, z1 = doubled_noise[2k, i], doubled_noise[2k + 1, i] (doubled). For every draw, sums against
    i's own R centres (``conditional``), against the other inputs of i's class (``same``) and of
    the other classes (``rest``), whose centres are ``others`` (d, N R_m), R_m consecutive per
    input. All three arrays (4q, N), zeroed."""
    n = others.shape[1]
    replicas = own.shape[2]
    start = class_bounds[0]  # 0, as in `_draw_sums`
    row = np.empty(others.shape[0], dtype=np.float32)
    for c in range(class_bounds.shape[0] - 1):
        lo, hi = class_bounds[c] * marginal_replicas, class_bounds[c + 1] * marginal_replicas
        for i in range(class_bounds[c], class_bounds[c + 1]):
            first, last = i * marginal_replicas, (i + 1) * marginal_replicas
            for k in range(doubled_noise.shape[0] // 2):
                row[:] = own[i, :, k]
                z0, z1 = doubled_noise[2 * k, i], doubled_noise[2 * k + 1, i]
                _add_two_pairs(own[i], start, replicas, beta, row, z0, z1, width, conditional, k, i)
                _add_two_pairs(others, lo, first, beta, row, z0, z1, width, same, k, i)
                _add_two_pairs(others, last, hi, beta, row, z0, z1, width, same, k, i)
                _add_two_pairs(others, start, lo, beta, row, z0, z1, width, rest, k, i)
                _add_two_pairs(others, hi, n, beta, row, z0, z1, width, rest, k, i)


@njit(inline="always", cache=True)
def _add_two_pairs(points, j0, j1, beta, row, z0, z1, width, sums, k, i):
    """`_two_pairs` of centre ``row`` against points[:, j0:j1], added to draws 4k..4k+3 of input i."""
    plus0, plus1, minus0, minus1 = _two_pairs(points, j0, j1, beta, row, z0, z1, width)
    sums[4 * k, i] += plus0
    sums[4 * k + 1, i] += plus1
    sums[4 * k + 2, i] += minus0
    sums[4 * k + 3, i] += minus1


def replica_mixture_information(
    centres: np.ndarray, classes: np.ndarray, noise_variance: float, marginal_replicas: int, mc_samples: int,
    seed: int,
) -> tuple[float, float, float, float]:
    """(I(X;T), I(T;Y), their standard errors), all in bits, when T given X = i is the mixture
    p(t | i) = (1/R) sum_m N(t; c_im, s2 I) of input i's R centres: sample propagation's estimate
    of a noisy layer (c_im = S(i) under the m-th replica of the earlier layers' noise).

    A draw u = c_im + z from p(. | i) gives log p(u | i) - log p(u), with p(u) = (1/N) sum_j p(u | j):
    the j = i term with all R of i's centres, as in the numerator, and every other input j by
    its first R_m centres, an unbiased estimate of p(u | j) because u is independent of them. So
    inputs far apart give exactly log N, and the bias of a mixture of few centres stays in the
    conditional term, which R (cheap: R kernels per draw) controls; the N R_m other centres are
    the cost. I(T;Y) in the same way over i's class. Draws: mc_samples per input, from its first
    mc_samples / 4 centres, two antithetic pairs each; the standard error counts each centre's four
    draws as one unit, stratified by input, so it covers the draws and the replicas, not the bias
    of representing p(t | i) by R centres (Goldfeld et al. 2019, Section 4), which R shrinks.

    Args:
        centres: (N, R, d) centres c_im, in float32.
        classes: (N,) class of each input, 0..C-1.
        noise_variance: s2 > 0 of the layer's own noise, in squared activity units.
        marginal_replicas: R_m <= R.
        mc_samples: draws per input, a multiple of 4, 8 at least, mc_samples / 4 <= R.
        seed: the draws' seed.
    """
    centres = np.asarray(centres, dtype=np.float32)
    n, replicas, d = centres.shape
    sources = mc_samples // 4
    order, sorted_classes, class_bounds = class_order(classes)
    centred = centres[order] - centres.mean(axis=(0, 1))
    noise = np.random.default_rng(seed).standard_normal((2 * sources, n, d), dtype=np.float32)
    doubled_noise = np.ascontiguousarray(noise[:, order] * np.float32(2.0 * math.sqrt(noise_variance)))
    beta = np.float32(-math.log2(math.e) / (2.0 * noise_variance))
    conditional, same, rest = (np.zeros((4 * sources, n), dtype=np.float32) for _ in range(3))
    if d <= FUSED_MAX_WIDTH:
        others = np.ascontiguousarray(centred[:, :marginal_replicas].reshape(n * marginal_replicas, d).T)
        _replica_draw_sums(others, class_bounds, marginal_replicas, np.ascontiguousarray(centred.transpose(0, 2, 1)),
                           doubled_noise, beta, conditional, same, rest, (np.float32(0.0),) * d)
    else:
        _wide_replica_draw_sums(centred, class_bounds, marginal_replicas, doubled_noise, beta, conditional, same, rest)
    own_term = conditional.astype(np.float64) / replicas
    with_class = own_term + same / marginal_replicas
    log_total = np.log(with_class + rest / marginal_replicas)
    class_share = np.bincount(sorted_classes)[sorted_classes] / n
    i_xt, i_xt_se = _unit_mean_and_error(math.log(n) + np.log(own_term) - log_total)
    i_ty, i_ty_se = _unit_mean_and_error(np.log(with_class) - log_total - np.log(class_share))
    return i_xt * _BITS_PER_NAT, i_ty * _BITS_PER_NAT, i_xt_se * _BITS_PER_NAT, i_ty_se * _BITS_PER_NAT


def _wide_replica_draw_sums(centred, class_bounds, marginal_replicas, doubled_noise, beta, conditional, same,
                            rest) -> None:
    """`_replica_draw_sums` for wide centres (N, R, d): the other inputs' centres by matrix
    products (`wide_draw_sums`, one call per source centre k with its two pairs), each input's own
    R centres exactly in NumPy, a block of inputs at a time."""
    n, replicas, d = centred.shape
    targets = np.ascontiguousarray(centred[:, :marginal_replicas].reshape(n * marginal_replicas, d))
    lo, hi = (bound * marginal_replicas for bound in class_ranges(class_bounds))
    first = np.arange(n) * marginal_replicas
    bounds = np.stack([lo, first, first + marginal_replicas, hi, lo, hi], axis=1)
    for k in range(len(doubled_noise) // 2):
        rows = np.array([[4 * k, 4 * k + 2], [4 * k + 1, 4 * k + 3]])  # pairs 2k, 2k + 1: their +z and -z draws
        wide_draw_sums(np.ascontiguousarray(centred[:, k]), doubled_noise[2 * k : 2 * k + 2], rows, targets, bounds,
                       np.full(n, -1), beta, same, rest)
        for start in range(0, n, _INPUT_BLOCK):
            block = slice(start, start + _INPUT_BLOCK)
            delta = centred[block, k, None, :] - centred[block]  # (inputs, R, d): source minus own centres
            squared = np.einsum("irk,irk->ir", delta, delta)
            for pair in (0, 1):
                dots = np.einsum("irk,ik->ir", delta, doubled_noise[2 * k + pair, block])
                for sign, row in ((1.0, rows[pair, 0]), (-1.0, rows[pair, 1])):
                    conditional[row, block] += np.exp2(beta * (squared + sign * dots)).sum(axis=1)


def _unit_mean_and_error(draws: np.ndarray) -> tuple[float, float]:
    """The mean of draws (4q, n), four per unit (rows 4k..4k+3 share a centre), q >= 2 units per
    input, and its standard error, stratified by input."""
    units = draws.reshape(-1, 4, draws.shape[1]).mean(axis=1)
    within = units.var(axis=0, ddof=1)
    return float(draws.mean()), math.sqrt(float(within.sum()) / len(units)) / draws.shape[1]
