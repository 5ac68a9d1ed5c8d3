"""How much a layer's same-class representations cluster (`within_between`): a statistic of the
table beside the information estimates, exact, with nothing estimated."""

from __future__ import annotations

import math

import numpy as np


def within_between(activity: np.ndarray, labels: np.ndarray) -> float:
    """How much same-class representations cluster: the mean squared distance between the
    activity of two inputs of one class over that between inputs of different classes (ordered
    pairs of distinct inputs; squared activity units cancel). 1: no clustering by class; towards
    0: each class collapses to a point. NaN when there is no pair of one kind. activity (N, d),
    labels (N,); in O(N d) from the class sums, accumulated in float64 (no float64 copy of a
    float32 activity)."""
    activity = np.asarray(activity)
    if not np.issubdtype(activity.dtype, np.floating):
        activity = activity.astype(np.float64)
    activity = activity - activity.mean(axis=0, dtype=np.float64).astype(activity.dtype)  # the sums cancel less
    _, classes = np.unique(np.asarray(labels), return_inverse=True)
    norms = np.einsum("ij,ij->i", activity, activity, dtype=np.float64)
    counts = np.bincount(classes).astype(np.float64)
    sums = np.stack([activity[classes == c].sum(axis=0, dtype=np.float64) for c in range(len(counts))])
    norm_sums = np.bincount(classes, weights=norms)
    # sum over ordered pairs (i, j) of one set of ||t_i - t_j||^2 = 2 n sum ||t||^2 - 2 ||sum t||^2
    within = float(np.sum(2 * counts * norm_sums - 2 * np.einsum("cj,cj->c", sums, sums)))
    total = 2 * len(activity) * float(norms.sum()) - 2 * float(np.sum(sums.sum(axis=0) ** 2))
    within_pairs = float(np.sum(counts * (counts - 1)))
    between_pairs = len(activity) ** 2 - float(np.sum(counts**2))
    if within_pairs == 0 or between_pairs == 0 or total - within <= 0:
        return math.nan
    return (within / within_pairs) / ((total - within) / between_pairs)
