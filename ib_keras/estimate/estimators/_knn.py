"""``knn``: k-nearest-neighbour estimates of I(X;T') and I(T';Y), T' = T + N(0, s2 I), in bits.

Both are mutual informations between a discrete variable (the input X, uniform over the N
inputs; the label Y) and a continuous one, T', estimated by Ross's (2014) form of the
Kraskov-Stögbauer-Grassberger (2004) estimator: for each point i of class c_i, d_i is the
distance to its k-th nearest other point of its class and m_i the number of points (of any
class, i itself included) strictly closer than d_i; then, in nats,

    I = psi(n) + <psi(k)> - <psi(n_c)> - <psi(m)>

(n points, n_c the size of i's class; a class of one point is left out, a class of at most k
points uses its size - 1 as k). A point whose k-th neighbour coincides with it (d_i = 0, as in a
layer of dead ReLUs) takes, as Gao, Kannan, Oh & Viswanath (NeurIPS 2017) do for discrete-continuous
mixtures, k_i = its class's points at distance 0 and m_i = all points at distance 0. Distances
are Euclidean, in float64; identical rows are exactly 0 apart.

With s2 > 0 every input is drawn ``replicas`` times, T'_i = T_i + N(0, s2 I): I(X;T') is the
estimate with the input as the class (k < replicas), I(T';Y) with the label, both over the N x
replicas draws: the quantity `noisy` computes by Monte Carlo and the KDE bounds bracket. With s2
= 0, I(X;T) of the deterministic layer is H(T) of its distinct rows, counted (log2 N when every
input is kept apart), and I(T;Y) is the estimate on T itself. An estimate below 0 (by chance,
near 0 bits) is reported as 0.

References:
    Kraskov, Stögbauer & Grassberger, Estimating Mutual Information, Phys. Rev. E 69, 2004.
    Ross, Mutual Information between Discrete and Continuous Data Sets, PLoS ONE 9, 2014.
    Gao, Kannan, Oh & Viswanath, Estimating Mutual Information for Discrete-Continuous Mixtures,
    NeurIPS 2017.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma

_BLOCK = 2**24  # distances per block of rows (128 MB of float64): the memory bound of one pass
_BOUNDARY = 1e-12  # relative: the k-th neighbour itself is not closer than itself, whichever way its distance rounds
_SMALL_CLASS = 32  # classes this small (an input's draws) take their distances all at once, not a tree each
_TREE_DIMENSIONS = 16  # up to this width k-d trees; wider, where trees visit most points anyway, all distances


def knn_information(activity: np.ndarray, classes: np.ndarray, k: int, noise_variance: float, replicas: int,
                    seed: int) -> tuple[float, float]:
    """(I(X;T'), I(T';Y)) in bits of activity (N, d) with labels ``classes`` (N,) in 0..C-1, as
    the module docstring defines them; the draws of T' from ``default_rng([seed, N, d])``."""
    n, d = activity.shape
    if noise_variance == 0:
        _, counts = np.unique(np.ascontiguousarray(activity, dtype=np.float64), axis=0, return_counts=True)
        p = counts / n
        return float(-np.sum(p * np.log2(p))), ross_information(activity, [classes], k)[0]
    rng = np.random.default_rng([seed, n, d])
    draws = np.repeat(activity.astype(np.float64), replicas, axis=0)
    draws += math.sqrt(noise_variance) * rng.standard_normal(draws.shape)
    inputs = np.repeat(np.arange(n), replicas)
    i_xt, i_ty = ross_information(draws, [inputs, np.repeat(classes, replicas)], k)
    return i_xt, i_ty


def ross_information(points: np.ndarray, partitions: list[np.ndarray], k: int) -> list[float]:
    """Ross's kNN estimate, in bits, of I(C;T) for each labelling C of ``partitions`` (each (n,)
    integers 0..C-1) of the continuous ``points`` (n, d): below 0 reported as 0, above H(C) (its
    classes' plug-in entropy) as H(C). Each point's k-th neighbour is found within its class and
    the points closer than it among all: by k-d trees (scipy's) up to `_TREE_DIMENSIONS`
    dimensions, else by blocks of all distances, shared by the partitions."""
    points = np.ascontiguousarray(points, dtype=np.float64)
    n = len(points)
    counts = _tree_counts if points.shape[1] <= _TREE_DIMENSIONS else _pair_counts
    estimates = []
    for labels, (k_i, m_i) in zip(partitions, counts(points, partitions, k)):
        size = np.bincount(labels)[labels]
        kept = size > 1
        p = np.bincount(labels) / n
        ceiling = float(-np.sum(p[p > 0] * np.log2(p[p > 0])))
        if not kept.any():
            estimates.append(0.0)
            continue
        nats = (digamma(kept.sum()) + np.mean(digamma(k_i[kept])) - np.mean(digamma(size[kept]))
                - np.mean(digamma(m_i[kept])))
        estimates.append(min(ceiling, max(0.0, float(nats) / math.log(2))))
    return estimates


def _classes(labels: np.ndarray) -> list[np.ndarray]:
    """The sorted point indices of each class of ``labels`` with at least two points."""
    members = np.split(np.argsort(labels, kind="stable"), np.cumsum(np.bincount(labels))[:-1])
    return [m for m in members if len(m) > 1]


def _tree_counts(points: np.ndarray, partitions: list[np.ndarray], k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(k_i, m_i) per partition, by k-d trees: a class's tree gives each point's k-th other point
    of its class (the query's k + 1-th, the point itself at 0 first), the whole set's tree the
    points strictly closer than it (within the next float below), or, tied at 0, at 0."""
    whole = cKDTree(points)
    out = []
    for labels in partitions:
        radius, k_i = np.zeros(len(points)), np.minimum(k, np.bincount(labels)[labels] - 1).astype(np.float64)
        classes = _classes(labels)
        _small_classes(points, classes, k, radius, k_i, np.sqrt)
        for members in (m for m in classes if len(m) > _SMALL_CLASS):
            kk = min(k, len(members) - 1)
            tree = cKDTree(points[members])
            radius[members] = tree.query(points[members], k=[kk + 1])[0][:, 0]
            tied = members[radius[members] == 0]
            if len(tied):
                k_i[tied] = tree.query_ball_point(points[tied], r=0.0, return_length=True)  # i and its ties
        tied = radius == 0
        m_i = whole.query_ball_point(points, r=np.where(tied, 0.0, radius * (1 - _BOUNDARY)), return_length=True)
        out.append((k_i, m_i.astype(np.float64)))
    return out


def _pair_counts(points: np.ndarray, partitions: list[np.ndarray], k: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(k_i, m_i) per partition from blocks of all squared distances (identical rows exactly 0)."""
    n = len(points)
    _, rows = np.unique(points, axis=0, return_inverse=True)
    rows = rows.ravel() if rows.max() + 1 < n else None  # None: no two alike
    squares = np.einsum("ij,ij->i", points, points)
    radii, neighbours = [], []
    for labels in partitions:
        radius, k_i = np.zeros(n), np.minimum(k, np.bincount(labels)[labels] - 1).astype(np.float64)
        classes = _classes(labels)
        _small_classes(points, classes, k, radius, k_i, lambda squared: squared)
        for members in (m for m in classes if len(m) > _SMALL_CLASS):
            kk = min(k, len(members) - 1)
            member_points, member_squares = points[members], squares[members]
            member_rows = None if rows is None else rows[members]
            for chunk in _row_blocks(len(members)):
                distance = _distances(member_points, member_squares, member_rows, chunk)
                distance[np.arange(len(chunk)), chunk] = np.inf  # not i itself
                radius[members[chunk]] = np.partition(distance, kk - 1, axis=1)[:, kk - 1]
                tied = radius[members[chunk]] == 0
                k_i[members[chunk][tied]] = (distance[tied] == 0).sum(axis=1) + 1  # i and its class's points at 0
        radii.append(radius)
        neighbours.append(k_i)
    within = [np.zeros(n) for _ in partitions]  # m_i: every point closer than the k-th neighbour, i included
    for chunk in _row_blocks(n):
        distance = _distances(points, squares, rows, chunk)
        zero = (distance == 0).sum(axis=1)
        for radius, m_i in zip(radii, within):
            closer = (distance < radius[chunk, None] * (1 - 2 * _BOUNDARY)).sum(axis=1)  # squared: twice the margin
            m_i[chunk] = np.where(radius[chunk] == 0, zero, closer)
    return list(zip(neighbours, within))


def _row_blocks(n: int) -> Iterator[np.ndarray]:
    """The row indices 0..n-1 in blocks whose distances to all n points fit one pass's memory."""
    step = max(1, _BLOCK // n)
    return (np.arange(start, min(n, start + step)) for start in range(0, n, step))


def _small_classes(points: np.ndarray, classes: list[np.ndarray], k: int, radius: np.ndarray, k_i: np.ndarray,
                   scale) -> None:
    """Each point's k-th neighbour within its class, for the classes of at most `_SMALL_CLASS`
    points (an input's draws), all classes of one size at once: ``radius`` (``scale`` of the
    squared distance: the distance, or itself) and ``k_i`` of a tied point filled in."""
    for size in sorted({len(m) for m in classes if len(m) <= _SMALL_CLASS}):
        members = np.stack([m for m in classes if len(m) == size])  # (classes, size)
        group = points[members]
        distance = scale(np.sum((group[:, :, None] - group[:, None, :]) ** 2, axis=3))
        distance[:, np.arange(size), np.arange(size)] = np.inf  # not i itself
        kk = min(k, size - 1)
        radius[members] = np.partition(distance, kk - 1, axis=2)[:, :, kk - 1]
        k_i[members] = np.where(radius[members] == 0, (distance == 0).sum(axis=2) + 1, k_i[members])


def _distances(points: np.ndarray, squares: np.ndarray, rows: np.ndarray | None, chunk: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (len(chunk), n) from the rows ``chunk`` of ``points`` (n, d) to
    all of them: identical rows (the same number in ``rows``) exactly 0, all others above 0."""
    distance = squares[chunk, None] + squares[None, :] - 2 * points[chunk] @ points.T
    np.maximum(distance, np.finfo(np.float64).tiny, out=distance)
    if rows is not None:
        distance[rows[chunk, None] == rows[None, :]] = 0.0
    return distance
