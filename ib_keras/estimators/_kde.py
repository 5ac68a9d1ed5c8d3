"""Kernel density estimators of Kolchinsky & Tracey (2017), as used by Saxe et al. (2018).

T' = T + N(0, s2 I), a mixture of N Gaussians. With D_ij = ||t_i - t_j||^2, the upper bound
on its entropy (nats) is

    H_up(T'; s2) = d/2 - mean_i[ logsumexp_j(-D_ij / (2 s2)) - log N - (d/2) log(2 pi s2) ]   (KL)

and the lower bound H_lo(T'; s2) = H_up(T'; 4 s2) + (d/2) log(1/4)   (Bhattacharyya).
H(T'|X) = (d/2)(log(2 pi s2) + 1), the entropy of one Gaussian component.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

_BITS_PER_NAT = 1.0 / math.log(2.0)


@tf.function(jit_compile=True)
def _kernel_sums(points: tf.Tensor, class_sizes: tuple, variance: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """For points (N, d) sorted by class (contiguous blocks of ``class_sizes``), one pass over
    K_ij = exp(-D_ij / (2 variance)) gives per row i its sum over all j and over j in i's class.

    Returns (N,) and (N,): sum_j K_ij and sum_{j in class(i)} K_ij, each >= 1 (the j = i term).
    D is summed from coordinate differences, not |a|^2 + |b|^2 - 2ab, so float32 keeps its
    precision far from the origin.
    """
    squared = tf.zeros([tf.shape(points)[0]] * 2, dtype=points.dtype)
    for k in range(points.shape[1]):
        difference = points[:, k, None] - points[None, :, k]
        squared += difference * difference
    kernels = tf.exp(-squared / (2.0 * variance))
    bounds = np.cumsum((0, *class_sizes))
    per_class = [tf.reduce_sum(kernels[:, a:b], axis=1) for a, b in zip(bounds[:-1], bounds[1:])]
    total = tf.add_n(per_class)
    own = tf.concat([per_class[c][a:b] for c, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))], axis=0)
    return total, own


def kde_information(
    activity: np.ndarray, classes: np.ndarray, n_classes: int, noise_variance: float, bound: str
) -> tuple[float, float]:
    """(I(X;T'), I(T';Y)) in bits for T' = T + N(0, noise_variance I), by the ``bound`` of H(T').

    I(X;T') = H(T') - H(T'|X); I(T';Y) = H(T') - sum_y p(y) H(T'|Y=y), each class-conditional
    entropy by the same bound over that class's samples (Saxe et al.'s ``kde.py``).
    """
    n, d = activity.shape
    order = np.argsort(classes, kind="stable")
    class_sizes = tuple(int(s) for s in np.bincount(classes, minlength=n_classes))
    # The lower bound is the upper bound at 4 s2 shifted by (d/2) log(1/4) (Kolchinsky & Tracey).
    kernel_variance = noise_variance * (4.0 if bound == "lower" else 1.0)
    shift = 0.5 * d * math.log(0.25) if bound == "lower" else 0.0
    centred = activity[order] - activity.mean(axis=0)  # distances are unchanged; magnitudes shrink
    total, own = _kernel_sums(
        tf.constant(centred, dtype=tf.float32), class_sizes, tf.constant(kernel_variance, dtype=tf.float32)
    )
    log_total, log_own = np.log(np.asarray(total, np.float64)), np.log(np.asarray(own, np.float64))
    normaliser = 0.5 * d * math.log(2.0 * math.pi * kernel_variance)

    def upper_bound(log_sums: np.ndarray, size: int) -> float:
        return 0.5 * d - float(np.mean(log_sums - math.log(size) - normaliser)) + shift

    h_t = upper_bound(log_total, n)
    starts = np.cumsum((0, *class_sizes))
    h_t_given_y = sum(
        (size / n) * upper_bound(log_own[a:b], size)
        for size, a, b in zip(class_sizes, starts[:-1], starts[1:])
    )
    h_t_given_x = 0.5 * d * (math.log(2.0 * math.pi * noise_variance) + 1.0)
    return (h_t - h_t_given_x) * _BITS_PER_NAT, (h_t - h_t_given_y) * _BITS_PER_NAT
