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

from ib_keras.estimators._pair_sums import _exp2

_BITS_PER_NAT = 1.0 / math.log(2.0)


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
def _draw_sums(points, class_bounds, group_size, doubled_noise, beta, own, other, group, width):
    """For every centre i (points (d, n) sorted by class, then in groups of ``group_size``
    consecutive centres, class bounds on group bounds) and draw k: own[k, i], other[k, i] and
    group[k, i], the kernel sums over i's class, over the rest, and over i's group (all three
    arrays (r, n), zeroed)."""
    n = points.shape[1]
    row = np.empty(points.shape[0], dtype=np.float32)
    for c in range(class_bounds.shape[0] - 1):
        lo, hi = class_bounds[c], class_bounds[c + 1]
        for i in range(lo, hi):
            row[:] = points[:, i]
            first = i - i % group_size
            _add_input_draws(points, lo, hi, beta, row, doubled_noise, i, own, width)
            _add_input_draws(points, 0, lo, beta, row, doubled_noise, i, other, width)
            _add_input_draws(points, hi, n, beta, row, doubled_noise, i, other, width)
            _add_input_draws(points, first, first + group_size, beta, row, doubled_noise, i, group, width)


def _mean_and_error(draws: np.ndarray, group_size: int) -> tuple[float, float]:
    """The mean of draws (r, n), r per centre in antithetic pairs (rows 2m, 2m + 1), and its
    standard error (same units): stratified by input (``group_size`` consecutive centres each),
    each pair's mean one independent unit."""
    pair_means = 0.5 * (draws[0::2] + draws[1::2])
    pairs, n = pair_means.shape
    units = pair_means.reshape(pairs, n // group_size, group_size).transpose(0, 2, 1).reshape(-1, n // group_size)
    within = units.var(axis=0, ddof=1)
    return float(draws.mean()), math.sqrt(float(within.sum()) / len(units)) / units.shape[1]


def _information(centres: np.ndarray, classes: np.ndarray, noise: np.ndarray, noise_variance: float
                 ) -> tuple[float, float, float, float]:
    """(I(X;T'), I(T';Y), their standard errors) in bits for T' given X = i the equal mixture of
    N(c, s2 I) over input i's R centres: centres (N, R, d), classes (N,), noise (pairs, N, R, d)
    standard normal draws, each used as +z and -z from every centre."""
    n, group_size, d = centres.shape
    order = np.argsort(classes, kind="stable")
    sorted_classes = np.asarray(classes)[order]
    class_bounds = np.flatnonzero(np.r_[True, sorted_classes[1:] != sorted_classes[:-1], True]).astype(np.int64)
    points = (centres[order] - centres.mean(axis=(0, 1))).reshape(n * group_size, d)
    doubled_noise = np.ascontiguousarray(noise[:, order].reshape(len(noise), n * group_size, d)
                                         * np.float32(2.0 * math.sqrt(noise_variance)))
    beta = np.float32(-math.log2(math.e) / (2.0 * noise_variance))
    own, other, group = (np.zeros((2 * len(noise), n * group_size), dtype=np.float32) for _ in range(3))
    _draw_sums(np.ascontiguousarray(points.T), class_bounds * group_size, group_size, doubled_noise, beta, own, other,
               group, (np.float32(0.0),) * d)
    log_own = np.log(own.astype(np.float64))
    log_total = np.log(own.astype(np.float64) + other)
    # One centre per input: the group sum is its own kernel, exactly 1, and its log exactly 0.
    log_group = np.log(group.astype(np.float64)) if group_size > 1 else 0.0
    class_share = np.repeat(np.bincount(sorted_classes) / n, np.diff(class_bounds)).repeat(group_size)
    i_xt, i_xt_se = _mean_and_error(math.log(n) - log_total + log_group, group_size)
    i_ty, i_ty_se = _mean_and_error(log_own - log_total - np.log(class_share), group_size)
    return i_xt * _BITS_PER_NAT, i_ty * _BITS_PER_NAT, i_xt_se * _BITS_PER_NAT, i_ty_se * _BITS_PER_NAT


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
    return _information(activity[:, None, :], classes, noise[:, :, None, :], noise_variance)


def replica_mixture_information(
    centres: np.ndarray, classes: np.ndarray, noise_variance: float, mc_samples: int, seed: int
) -> tuple[float, float, float, float]:
    """(I(X;T), I(T;Y), their standard errors), all in bits, when T given X = i is the mixture
    (1/R) sum_m N(c_im, s2 I) of input i's R centres (sample propagation's estimate of a noisy
    layer: c_im = S(i) computed with the m-th replica of the earlier layers' noise).

    Each draw u = c_im + z gives log p(u | i) - log p(u) = log N + log sum_{m'} k(u, c_im')
    - log sum_{j, m'} k(u, c_jm'), with k the Gaussian kernel, and the mean of these over i, m
    and z is the estimate; I(T;Y) in the same way with the sum over i's class. The standard error
    counts the Monte Carlo of the draws and of the replicas (each input's R mc_samples / 2 pair
    means are its units), not the bias of representing p(t | i) by R centres, which shrinks as R
    grows (Goldfeld et al. 2019, Section 4).

    Args:
        centres: (N, R, d) centres c_im, in float32.
        classes: (N,) class of each input, 0..C-1.
        noise_variance: s2 > 0 of the layer's own noise, in squared activity units.
        mc_samples: draws per centre, even (antithetic pairs); R mc_samples / 2 >= 2.
        seed: the draws' seed.
    """
    centres = np.asarray(centres, dtype=np.float32)
    n, group_size, d = centres.shape
    noise = np.random.default_rng(seed).standard_normal((mc_samples // 2, n, group_size, d), dtype=np.float32)
    return _information(centres, classes, noise, noise_variance)
