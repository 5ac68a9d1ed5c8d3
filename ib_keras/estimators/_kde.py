"""Kernel density estimators of Kolchinsky & Tracey (2017), as used by Saxe et al. (2018).

T' = T + N(0, s2 I), a mixture of N Gaussians. With D_ij = ||t_i - t_j||^2, the upper bound
on its entropy (nats) is

    H_up(T'; s2) = d/2 - mean_i[ logsumexp_j(-D_ij / (2 s2)) - log N - (d/2) log(2 pi s2) ]   (KL)

and the lower bound H_lo(T'; s2) = H_up(T'; 4 s2) + (d/2) log(1/4)   (Bhattacharyya).
H(T'|X) = (d/2)(log(2 pi s2) + 1), the entropy of one Gaussian component.
"""

from __future__ import annotations

import functools
import logging
import math

import numpy as np
import tensorflow as tf

class _ExpectedRetracing(logging.Filter):
    """One compiled function per layer shape is intended (XLA needs static shapes); TensorFlow
    counts them as one function retracing and warns. Drop that warning, and only that one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


tf.get_logger().addFilter(_ExpectedRetracing())

_BITS_PER_NAT = 1.0 / math.log(2.0)
_BLOCK = 256  # rows of the kernel matrix computed at once


@functools.lru_cache(maxsize=None)
def _class_kernel_sums(n: int, d: int, n_classes: int):
    """A compiled function (points (n, d), one_hot (n, C), variance) -> S (n, C) with
    S[i, c] = sum over j of class c of K_ij, K_ij = exp(-D_ij / (2 variance)); one per shape.

    One exp pass serves H(T) (row sums over all classes) and every H(T|Y=c) (the own-class
    column). Rows go in blocks of ``_BLOCK``, so the temporaries stay small and are reused
    rather than mapped afresh for every call. D is summed from coordinate differences, not
    |a|^2 + |b|^2 - 2ab, so float32 keeps its precision far from the origin.
    """
    blocks = -(-n // _BLOCK)

    @tf.function(jit_compile=True)
    def sums(points, one_hot, variance):
        def block_sums(rows):
            squared = tf.zeros([_BLOCK, n], dtype=points.dtype)
            for k in range(d):
                difference = rows[:, k, None] - points[None, :, k]
                squared += difference * difference
            return tf.matmul(tf.exp(-squared / (2.0 * variance)), one_hot)

        rows = tf.pad(points, [[0, blocks * _BLOCK - n], [0, 0]])  # padded rows are dropped below
        per_block = tf.map_fn(block_sums, tf.reshape(rows, [blocks, _BLOCK, d]))
        return tf.reshape(per_block, [blocks * _BLOCK, n_classes])[:n]

    return sums


def kde_information(
    activity: np.ndarray, classes: np.ndarray, n_classes: int, noise_variance: float, bound: str
) -> tuple[float, float]:
    """(I(X;T'), I(T';Y)) in bits for T' = T + N(0, noise_variance I), by the ``bound`` of H(T').

    I(X;T') = H(T') - H(T'|X); I(T';Y) = H(T') - sum_y p(y) H(T'|Y=y), each class-conditional
    entropy by the same bound over that class's samples (Saxe et al.'s ``kde.py``).
    """
    n, d = activity.shape
    class_sizes = np.bincount(classes, minlength=n_classes)
    # The lower bound is the upper bound at 4 s2 shifted by (d/2) log(1/4) (Kolchinsky & Tracey).
    kernel_variance = noise_variance * (4.0 if bound == "lower" else 1.0)
    shift = 0.5 * d * math.log(0.25) if bound == "lower" else 0.0
    centred = activity - activity.mean(axis=0)  # distances are unchanged; magnitudes shrink
    one_hot = np.eye(n_classes, dtype=np.float32)[classes]
    sums = np.asarray(
        _class_kernel_sums(n, d, n_classes)(
            tf.constant(centred), tf.constant(one_hot), tf.constant(kernel_variance, tf.float32)
        ),
        dtype=np.float64,
    )  # each sum holds its own j = i term, so it is >= 1 and its log is finite
    log_total = np.log(sums.sum(axis=1))
    log_own = np.log(sums[np.arange(n), classes])
    normaliser = 0.5 * d * math.log(2.0 * math.pi * kernel_variance)

    def upper_bound(log_sums: np.ndarray, size: int) -> float:
        return 0.5 * d - float(np.mean(log_sums - math.log(size) - normaliser)) + shift

    h_t = upper_bound(log_total, n)
    h_t_given_y = sum((size / n) * upper_bound(log_own[classes == c], size) for c, size in enumerate(class_sizes))
    h_t_given_x = 0.5 * d * (math.log(2.0 * math.pi * noise_variance) + 1.0)
    return (h_t - h_t_given_x) * _BITS_PER_NAT, (h_t - h_t_given_y) * _BITS_PER_NAT
