"""Kernel density estimators of Kolchinsky & Tracey (2017), as used by Saxe et al. (2018).

T' = T + N(0, s2 I), a mixture of N Gaussians. With D_ij = ||t_i - t_j||^2, the upper bound
on its entropy (nats) is

    H_up(T'; s2) = d/2 - mean_i[ log sum_j exp(-D_ij / (2 s2)) - log N - (d/2) log(2 pi s2) ]   (KL)

and the lower bound H_lo(T'; s2) = H_up(T'; 4 s2) + (d/2) log(1/4)   (Bhattacharyya).
H(T'|X) = (d/2)(log(2 pi s2) + 1), the entropy of one Gaussian component.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ib_keras.estimate.estimators._pair_sums import kernel_sums

_BITS_PER_NAT = 1.0 / math.log(2.0)


def _kernel_variance(noise_variance: float, bound: str) -> float:
    """The kernel variance of a bound: the lower bound is the upper bound's formula at 4 s2."""
    return noise_variance * (4.0 if bound == "lower" else 1.0)


def _upper_bound(log_sums: np.ndarray, size: int, d: int, kernel_variance: float) -> float:
    """H_up in nats from the log kernel sums of the ``size`` points of one mixture."""
    normaliser = 0.5 * d * math.log(2.0 * math.pi * kernel_variance)
    return 0.5 * d - float(np.mean(log_sums - math.log(size) - normaliser))


def kde_information(
    activity: np.ndarray, classes: np.ndarray, settings: Sequence[tuple[float, str]]
) -> list[tuple[float, float]]:
    """(I(X;T'), I(T';Y)) in bits for T' = T + N(0, s2 I), one pair per (s2, bound) setting.

    I(X;T') = H(T') - H(T'|X); I(T';Y) = H(T') - sum_y p(y) H(T'|Y=y), each class-conditional
    entropy by the same bound over that class's samples (Saxe et al.'s ``kde.py``). Every
    setting shares one pass over the pairs: activity (N, d), classes (N,) in 0..C-1.
    """
    n, d = activity.shape
    class_sizes = np.bincount(classes)
    variances = sorted({_kernel_variance(s2, bound) for s2, bound in settings})
    total, own = kernel_sums(activity, classes, variances)
    results = []
    for noise_variance, bound in settings:
        kernel_variance = _kernel_variance(noise_variance, bound)
        s = variances.index(kernel_variance)
        shift = 0.5 * d * math.log(0.25) if bound == "lower" else 0.0
        log_total, log_own = np.log(total[s]), np.log(own[s])  # each sum holds its j = i term 1
        h_t = _upper_bound(log_total, n, d, kernel_variance) + shift
        h_t_given_y = shift + sum(
            (size / n) * _upper_bound(log_own[classes == c], size, d, kernel_variance)
            for c, size in enumerate(class_sizes)
        )
        h_t_given_x = 0.5 * d * (math.log(2.0 * math.pi * noise_variance) + 1.0)
        results.append(((h_t - h_t_given_x) * _BITS_PER_NAT, (h_t - h_t_given_y) * _BITS_PER_NAT))
    return results
